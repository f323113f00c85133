/* SPDX-License-Identifier: Apache-2.0 */
/*
 * copy_routines.S - small copy routines for tests/test_verify.py (not firmware).
 *
 * unsigned long fn(void *dst, const void *src, size_t n), returning 0 or the
 * bytes not copied, like memcpy_mc.  Built by the test with the GNU toolchain
 * and loaded with kernel.load_module (linked at 0x88000000).
 *
 *   copy_returns_zero	byte copy whose fault handler returns 0: the caller
 *			believes everything was copied (an under-estimate)
 *   copy_no_fixup	byte copy without __ex_table entries: any fault panics
 *   copy_fault_loop	byte copy whose fault handler is the faulting load
 *			itself: a fault retries it forever (a hang)
 *   copy_retry		correct and exact: doublewords while both pointers are
 *			aligned; a faulting doubleword is retried byte by byte
 *			up to the faulting byte (like x86's handle_tail), so
 *			what it does after the first fault depends on where the
 *			fault is - which the pruning must notice
 */

	.macro fixup op, reg, addr, lbl
100:
	\op	\reg, \addr
	.pushsection __ex_table, "a"
	.balign	4
	.long	100b - .
	.long	\lbl - .
	.short	1
	.short	0
	.popsection
	.endm

	.text
	.globl	copy_returns_zero
	.type	copy_returns_zero, @function
copy_returns_zero:
	beqz	a2, 2f
	add	a3, a1, a2
1:	fixup	lb, a4, 0(a1), 3f
	sb	a4, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	bltu	a1, a3, 1b
2:	li	a0, 0
	ret
3:	li	a0, 0			/* BUG: should return a3 - a1 */
	ret
	.size	copy_returns_zero, . - copy_returns_zero

	.globl	copy_no_fixup
	.type	copy_no_fixup, @function
copy_no_fixup:
	beqz	a2, 2f
	add	a3, a1, a2
1:	lb	a4, 0(a1)
	sb	a4, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	bltu	a1, a3, 1b
2:	li	a0, 0
	ret
	.size	copy_no_fixup, . - copy_no_fixup

	.globl	copy_fault_loop
	.type	copy_fault_loop, @function
copy_fault_loop:
	beqz	a2, 2f
	add	a3, a1, a2
1:	fixup	lb, a4, 0(a1), 1b	/* BUG: retries the load forever */
	sb	a4, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	bltu	a1, a3, 1b
2:	li	a0, 0
	ret
	.size	copy_fault_loop, . - copy_fault_loop

	.globl	copy_retry
	.type	copy_retry, @function
copy_retry:
	mv	a5, a0			/* dst, for the count */
	add	a3, a1, a2		/* src end */
	or	t0, a0, a1
	andi	t0, t0, 7
	bnez	t0, .Lbytes
.Lwords:
	sub	t1, a3, a1
	sltiu	t1, t1, 8
	bnez	t1, .Lbytes		/* fewer than 8 bytes left */
	fixup	ld, a4, 0(a1), .Lretry
	sd	a4, 0(a0)
	addi	a0, a0, 8
	addi	a1, a1, 8
	j	.Lwords
.Lretry:				/* that doubleword faulted: its bytes one by one, up to the bad one */
	addi	t2, a1, 8
1:	fixup	lb, a4, 0(a1), .Lfault
	sb	a4, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	bltu	a1, t2, 1b
	j	.Lwords			/* no bad byte after all: carry on */
.Lbytes:
	bgeu	a1, a3, .Ldone
	fixup	lb, a4, 0(a1), .Lfault
	sb	a4, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	j	.Lbytes
.Ldone:
	li	a0, 0
	ret
.Lfault:				/* dst + n - next dst byte */
	add	t3, a5, a2
	sub	a0, t3, a0
	ret
	.size	copy_retry, . - copy_retry
