/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcpy_template.S - body of the RV64 memcpy shared by memcpy.S and memcpy_mc.S.
 *
 * Written for rasplat from the algorithm description of the Linux RISC-V
 * memcpy (t6 working-dst / 10+6 unrolled variant). It is not a standalone
 * unit: the includer opens the function, defines the six access macros
 *
 *	LOAD_B  / STORE_B	lb / sb		(lead bytes, byte tail)
 *	LOAD_W  / STORE_W	lw / sw		(word tail, 4-byte aligned)
 *	LOAD_REG / STORE_REG	ld / sd		(unrolled loop, 8-byte aligned)
 *
 * each taking "reg, off(base)", then .include's this file exactly once
 * (the .L labels would clash on a second include) and emits whatever
 * follows .Lcopy_done (the return sequence, fault handler, ...).
 *
 * In:  a0 = dst, a1 = src, a2 = n.  a0 is never written here.
 * Uses a1-a7, t0-t6; t6 is the working dst pointer.  No stack, no calls.
 * Only bytes of [src, src+n) are read, never with a misaligned access, and
 * dst is written in strictly increasing address order.
 *
 * a2 contract (what a fault handler may rely on): a2 is written at exactly
 * two points, after the lead loop ("sub a2, a2, a4") and after the unrolled
 * loop ("andi a2, a2, 127"), never inside a loop.  So when any load faults,
 * a2 holds the byte count at the start of the current phase:
 *
 *	straight to the tail (n < 128 or src/dst not co-aligned)	n
 *	lead loop						n
 *	unrolled loop						n - lead
 *	tail after the unrolled loop				(n - lead) & 127
 *
 * That is >= the number of dst bytes not yet written (never an under-
 * estimate) and >= 1 (every load runs with a2 != 0), but it is exact only
 * for a fault before the phase's first store: an aligned 4 KiB page copy
 * reports 4096 wherever it faults.  A faulting load does not write rd.
 */

	mv	t6, a0

	/* Short copies and src/dst that differ mod 8 go to the tail. */
	sltiu	a3, a2, 128
	bnez	a3, .Ltail
	andi	a3, a0, 7
	andi	a4, a1, 7
	bne	a3, a4, .Ltail
	beqz	a4, .Laligned

	/* Co-aligned but not 8-aligned: a3 = next 8-byte boundary, a4 = lead bytes (1..7). */
	andi	a3, a1, -8
	addi	a3, a3, 8
	sub	a4, a3, a1
.Llead_copy:
	LOAD_B	a5, 0(a1)
	addi	a1, a1, 1
	STORE_B	a5, 0(t6)
	addi	t6, t6, 1
	bltu	a1, a3, .Llead_copy
	sub	a2, a2, a4		/* a2 update #1: once, after the loop */

.Laligned:
	/* a3 = src end of the whole 128-byte blocks, if there are any. */
	andi	a4, a2, -128
	beqz	a4, .Ltail
	add	a3, a1, a4
.Lunrolled_loop:
	/* 10 loads before the first store: a fault here leaves this block's dst untouched. */
	LOAD_REG	a4, 0(a1)
	LOAD_REG	a5, 8(a1)
	LOAD_REG	a6, 16(a1)
	LOAD_REG	a7, 24(a1)
	LOAD_REG	t0, 32(a1)
	LOAD_REG	t1, 40(a1)
	LOAD_REG	t2, 48(a1)
	LOAD_REG	t3, 56(a1)
	LOAD_REG	t4, 64(a1)
	LOAD_REG	t5, 72(a1)
	STORE_REG	a4, 0(t6)
	STORE_REG	a5, 8(t6)
	STORE_REG	a6, 16(t6)
	STORE_REG	a7, 24(t6)
	STORE_REG	t0, 32(t6)
	STORE_REG	t1, 40(t6)
	STORE_REG	t2, 48(t6)
	STORE_REG	t3, 56(t6)
	STORE_REG	t4, 64(t6)
	STORE_REG	t5, 72(t6)
	/* Remaining 6 doublewords; a1 advances before their stores, t6 after. */
	LOAD_REG	a4, 80(a1)
	LOAD_REG	a5, 88(a1)
	LOAD_REG	a6, 96(a1)
	LOAD_REG	a7, 104(a1)
	LOAD_REG	t0, 112(a1)
	LOAD_REG	t1, 120(a1)
	addi	a1, a1, 128
	STORE_REG	a4, 80(t6)
	STORE_REG	a5, 88(t6)
	STORE_REG	a6, 96(t6)
	STORE_REG	a7, 104(t6)
	STORE_REG	t0, 112(t6)
	STORE_REG	t1, 120(t6)
	addi	t6, t6, 128
	bltu	a1, a3, .Lunrolled_loop
	andi	a2, a2, 127		/* a2 update #2: once, after the loop */

.Ltail:
	beqz	a2, .Lcopy_done
	add	a3, a1, a2		/* a3 = src end */
	/* Words only if src, dst and src end are all 4-aligned, else bytes. */
	or	a5, a1, t6
	or	a5, a5, a3
	andi	a5, a5, 3
	bnez	a5, .Lbyte_tail
.Lword_tail:
	LOAD_W	a4, 0(a1)
	addi	a1, a1, 4
	STORE_W	a4, 0(t6)
	addi	t6, t6, 4
	bltu	a1, a3, .Lword_tail
	j	.Lcopy_done		/* not ret: the includer owns the return value */

.Lbyte_tail:
	LOAD_B	a4, 0(a1)
	addi	a1, a1, 1
	STORE_B	a4, 0(t6)
	addi	t6, t6, 1
	bltu	a1, a3, .Lbyte_tail

.Lcopy_done:
	/* Falls through into the includer's epilogue. */
