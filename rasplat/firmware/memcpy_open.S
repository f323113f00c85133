/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcpy_open.S - the memcpy_template.S algorithm written out by hand.
 *
 * void *__memcpy_open(void *dst, const void *src, size_t n).  Reference
 * copy only: it uses no template and no macros, so tests/test_firmware.py
 * can check the claim that the templated __memcpy is byte-for-byte the
 * same code as the open-coded memcpy it replaced (same instructions, same
 * encodings, same length).  Keep the two in step.
 *
 * a2 contract as in the template: a2 changes only after the lead loop and
 * after the unrolled loop, so at any load it holds the count at the start
 * of the current phase (never 0, never an under-estimate).  This function
 * has no __ex_table entries.
 */

	.text
	.globl	__memcpy_open
	.type	__memcpy_open, @function
	.balign	4
__memcpy_open:
	mv	t6, a0

	sltiu	a3, a2, 128
	bnez	a3, .Ltail
	andi	a3, a0, 7
	andi	a4, a1, 7
	bne	a3, a4, .Ltail
	beqz	a4, .Laligned

	andi	a3, a1, -8
	addi	a3, a3, 8
	sub	a4, a3, a1
.Llead_copy:
	lb	a5, 0(a1)
	addi	a1, a1, 1
	sb	a5, 0(t6)
	addi	t6, t6, 1
	bltu	a1, a3, .Llead_copy
	sub	a2, a2, a4

.Laligned:
	andi	a4, a2, -128
	beqz	a4, .Ltail
	add	a3, a1, a4
.Lunrolled_loop:
	ld	a4, 0(a1)
	ld	a5, 8(a1)
	ld	a6, 16(a1)
	ld	a7, 24(a1)
	ld	t0, 32(a1)
	ld	t1, 40(a1)
	ld	t2, 48(a1)
	ld	t3, 56(a1)
	ld	t4, 64(a1)
	ld	t5, 72(a1)
	sd	a4, 0(t6)
	sd	a5, 8(t6)
	sd	a6, 16(t6)
	sd	a7, 24(t6)
	sd	t0, 32(t6)
	sd	t1, 40(t6)
	sd	t2, 48(t6)
	sd	t3, 56(t6)
	sd	t4, 64(t6)
	sd	t5, 72(t6)
	ld	a4, 80(a1)
	ld	a5, 88(a1)
	ld	a6, 96(a1)
	ld	a7, 104(a1)
	ld	t0, 112(a1)
	ld	t1, 120(a1)
	addi	a1, a1, 128
	sd	a4, 80(t6)
	sd	a5, 88(t6)
	sd	a6, 96(t6)
	sd	a7, 104(t6)
	sd	t0, 112(t6)
	sd	t1, 120(t6)
	addi	t6, t6, 128
	bltu	a1, a3, .Lunrolled_loop
	andi	a2, a2, 127

.Ltail:
	beqz	a2, .Lcopy_done
	add	a3, a1, a2
	or	a5, a1, t6
	or	a5, a5, a3
	andi	a5, a5, 3
	bnez	a5, .Lbyte_tail
.Lword_tail:
	lw	a4, 0(a1)
	addi	a1, a1, 4
	sw	a4, 0(t6)
	addi	t6, t6, 4
	bltu	a1, a3, .Lword_tail
	j	.Lcopy_done

.Lbyte_tail:
	lb	a4, 0(a1)
	addi	a1, a1, 1
	sb	a4, 0(t6)
	addi	t6, t6, 1
	bltu	a1, a3, .Lbyte_tail

.Lcopy_done:
	ret
	.size	__memcpy_open, . - __memcpy_open
