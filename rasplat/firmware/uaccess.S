/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uaccess.S - copy between kernel and user memory for rasplat firmware.
 *
 * unsigned long __asm_copy_to_user(void *to, const void *from, size_t n), with
 * __asm_copy_from_user an alias of the same routine (as in Linux).  Returns 0,
 * or the number of bytes of `to` not written when an access faults: then
 * to[0, n - ret) holds the source and to[n - ret, n) is untouched.  This is
 * the routine behind raw_copy_{to,from}_user and so behind copy_mc_to_user.
 *
 * Runs in S-mode with sstatus.SUM already set by the caller (Linux sets it in
 * the routine; here the caller owns it, so a fault path has nothing to undo).
 *
 * Written for rasplat from the algorithm description of the Linux RISC-V
 * scalar user copy:
 *   - t5 = dst end, a0 = the next destination byte.  Stores go in increasing
 *     address order and a0 only moves past bytes that are stored, so the one
 *     fault handler, "10: a0 = t5 - a0", is the exact count;
 *   - n < 64, or src and dst not co-aligned mod 8: bytes;
 *   - otherwise bytes until dst (and so src) is 8-aligned, then 64-byte blocks
 *     of 8 doublewords, then doublewords, then bytes.
 * Every load and every store has an EX_TYPE_FIXUP entry: a fault on either
 * side (poisoned source, unmapped or read-only destination page) is a short
 * copy.  Inside a block a0 moves once, at the end, so the entries of
 * doubleword j point at a handler that first adds the 8 * j bytes the block
 * already stored.
 *
 * Linux's block loads all 8 doublewords, then stores them.  Here each one is
 * stored right after its load, so a fault never throws away doublewords that
 * were already read: everything before the faulting doubleword is copied
 * (with a fault on an 8-byte boundary, as COPY_MC_TEST places it, everything
 * before the fault), and the count stays exact for loads and stores alike.
 *
 * Simplification: Linux copies a source that is not co-aligned with the
 * destination by shifting whole aligned source words together, which reads up
 * to 7 bytes outside [from, from + n).  This routine copies such a source
 * byte by byte instead, so it never reads a byte outside the source range.
 */

	/* 100: <op> reg, addr  +  __ex_table entry { 100b, lbl, EX_TYPE_FIXUP, 0 } */
	.include "extable.inc"

	.text
	.globl	__asm_copy_to_user
	.globl	__asm_copy_from_user
	.type	__asm_copy_to_user, @function
	.type	__asm_copy_from_user, @function
	.balign	4
__asm_copy_to_user:
__asm_copy_from_user:
	add	t5, a0, a2		/* dst end: every fault returns t5 - a0 */
	li	t0, 64
	bltu	a2, t0, .Lbyte_copy
	xor	t0, a0, a1
	andi	t0, t0, 7
	bnez	t0, .Lbyte_copy		/* not co-aligned: bytes (see the header) */

	/* Lead bytes until dst is 8-aligned; src is then aligned too. */
.Llead:
	andi	t0, a0, 7
	beqz	t0, .Lblocks
	fixup	lb, t1, 0(a1), 10f
	fixup	sb, t1, 0(a0), 10f
	addi	a0, a0, 1
	addi	a1, a1, 1
	j	.Llead

.Lblocks:
	/* t3 = dst end of the whole 64-byte blocks */
	sub	t0, t5, a0
	andi	t0, t0, -64
	add	t3, a0, t0
	beq	a0, t3, .Lwords
1:
	fixup	ld, a3, 0(a1), 10f
	fixup	sd, a3, 0(a0), 10f
	fixup	ld, a4, 8(a1), 11f
	fixup	sd, a4, 8(a0), 11f
	fixup	ld, a5, 16(a1), 12f
	fixup	sd, a5, 16(a0), 12f
	fixup	ld, a6, 24(a1), 13f
	fixup	sd, a6, 24(a0), 13f
	fixup	ld, a7, 32(a1), 14f
	fixup	sd, a7, 32(a0), 14f
	fixup	ld, t0, 40(a1), 15f
	fixup	sd, t0, 40(a0), 15f
	fixup	ld, t1, 48(a1), 16f
	fixup	sd, t1, 48(a0), 16f
	fixup	ld, t2, 56(a1), 17f
	fixup	sd, t2, 56(a0), 17f
	addi	a0, a0, 64
	addi	a1, a1, 64
	bltu	a0, t3, 1b

.Lwords:
	/* t4 = dst end of the whole doublewords */
	sub	t0, t5, a0
	andi	t0, t0, -8
	add	t4, a0, t0
	beq	a0, t4, .Lbyte_copy
2:
	fixup	ld, a3, 0(a1), 10f
	fixup	sd, a3, 0(a0), 10f
	addi	a0, a0, 8
	addi	a1, a1, 8
	bltu	a0, t4, 2b

.Lbyte_copy:
	bgeu	a0, t5, .Ldone
3:
	fixup	lb, a3, 0(a1), 10f
	fixup	sb, a3, 0(a0), 10f
	addi	a0, a0, 1
	addi	a1, a1, 1
	bltu	a0, t5, 3b

.Ldone:
	li	a0, 0
	ret

	/* Doubleword j of a block faulted: doublewords 0..j-1 are stored. */
17:	addi	a0, a0, 8
16:	addi	a0, a0, 8
15:	addi	a0, a0, 8
14:	addi	a0, a0, 8
13:	addi	a0, a0, 8
12:	addi	a0, a0, 8
11:	addi	a0, a0, 8
	/* Any fault: the destination bytes from a0 to the end are not written. */
10:	sub	a0, t5, a0
	ret
	.size	__asm_copy_to_user, . - __asm_copy_to_user
	.size	__asm_copy_from_user, . - __asm_copy_from_user
