/* SPDX-License-Identifier: Apache-2.0 */
/*
 * user.S - the user programs the kernel model's tasks run in U-mode (linked at 0x10000, see user.ld).
 *
 * Each entry point takes its arguments in a0..a2 (the kernel model sets them, like argv) and ends with the
 * Linux exit syscall (a7 = 93). They exist to put real user-mode accesses on the hart: a store into a
 * copy-on-write page takes a store page fault, a load of a poisoned line a hardware-error trap.
 */
	.equ	SYS_write, 64
	.equ	SYS_exit, 93
	.equ	SYS_sched_yield, 124

	.text
	.globl	user_store
	.type	user_store, @function
/* user_store(addr, value, count): store value at addr count times, then exit(0). */
user_store:
1:	sd	a1, 0(a0)
	addi	a2, a2, -1
	bnez	a2, 1b
	li	a0, 0
	li	a7, SYS_exit
	ecall
	.size	user_store, . - user_store

	.globl	user_load
	.type	user_load, @function
/* user_load(addr): read the doubleword at addr, exit(its low 7 bits). */
user_load:
	ld	a1, 0(a0)
	andi	a0, a1, 0x7f
	li	a7, SYS_exit
	ecall
	.size	user_load, . - user_load

	.globl	user_spin
	.type	user_spin, @function
/* user_spin(iterations, yield_every): count down, yielding the cpu every yield_every iterations, exit(0). */
user_spin:
	mv	t0, a1
1:	addi	a0, a0, -1
	beqz	a0, 2f
	addi	t0, t0, -1
	bnez	t0, 1b
	mv	t1, a0
	li	a7, SYS_sched_yield
	ecall
	mv	a0, t1
	mv	t0, a1
	j	1b
2:	li	a7, SYS_exit
	ecall
	.size	user_spin, . - user_spin

	.globl	user_write
	.type	user_write, @function
/* user_write(buf, len): write(1, buf, len), exit(0). */
user_write:
	mv	a2, a1
	mv	a1, a0
	li	a0, 1
	li	a7, SYS_write
	ecall
	li	a0, 0
	li	a7, SYS_exit
	ecall
	.size	user_write, . - user_write
