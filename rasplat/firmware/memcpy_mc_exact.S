/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcpy_mc_exact.S - memcpy_mc that returns the exact number of bytes not copied.
 *
 * unsigned long __memcpy_mc_exact(void *dst, const void *src, size_t n), with
 * memcpy_mc_exact a weak alias.  Returns 0 on success, or, when a source load
 * faults (hardware error / access fault fixed up through __ex_table), the
 * number of destination bytes not written: dst[0, n - ret) holds the source
 * and dst[n - ret, n) is untouched.  Same body as __memcpy_mc (the template,
 * every load wrapped, stores plain); only the fault handlers differ.
 *
 * __memcpy_mc returns a2, which the template updates only at phase boundaries
 * (see memcpy_template.S), so it over-estimates by whatever the phase already
 * stored.  Here every load gets the handler of its phase, each of which
 * recomputes the remainder from the pointers.  At a faulting load the load has
 * not written rd, t6 is the next destination byte to store and a1 the source
 * byte that goes there, except where noted:
 *
 *   lead loop (1st LOAD_B)	a2 = n still: n - (t6 - dst)
 *   unrolled, loads 0-9	a3 = src end of the whole blocks, a2 & 127 = the
 *				tail to come: (a3 - a1) + (a2 & 127)
 *   unrolled, loads 10-15	the block's bytes 0-79 are stored but neither a1
 *				nor t6 has moved yet: 80 less than above
 *   word and byte tail		a3 = src end: a3 - a1
 *
 * The template gives no register that holds n for the whole copy (a2 is
 * reused per phase and there is no spare temporary), hence one handler per
 * phase.  Which handler a load gets is decided at assembly time by counting
 * the access macros: the template uses LOAD_B twice (lead loop, then byte
 * tail), LOAD_REG 16 times in program order and LOAD_W once; the check at the
 * end refuses to assemble if that ever changes.
 */

	/* 100: <op> reg, addr  +  __ex_table entry { 100b, lbl, EX_TYPE_FIXUP, 0 } */
	.include "extable.inc"

	.set	.Lnr_load_b, 0
	.set	.Lnr_load_reg, 0
	.set	.Lnr_load_w, 0

	.macro LOAD_B reg, addr
	.if .Lnr_load_b == 0
	fixup	lb, \reg, \addr, .Lexact_lead
	.else
	fixup	lb, \reg, \addr, .Lexact_tail
	.endif
	.set	.Lnr_load_b, .Lnr_load_b + 1
	.endm
	.macro STORE_B reg, addr
	sb	\reg, \addr
	.endm
	.macro LOAD_W reg, addr
	fixup	lw, \reg, \addr, .Lexact_tail
	.set	.Lnr_load_w, .Lnr_load_w + 1
	.endm
	.macro STORE_W reg, addr
	sw	\reg, \addr
	.endm
	.macro LOAD_REG reg, addr
	.if .Lnr_load_reg < 10
	fixup	ld, \reg, \addr, .Lexact_block
	.else
	fixup	ld, \reg, \addr, .Lexact_block_late
	.endif
	.set	.Lnr_load_reg, .Lnr_load_reg + 1
	.endm
	.macro STORE_REG reg, addr
	sd	\reg, \addr
	.endm

	.text
	.globl	__memcpy_mc_exact
	.weak	memcpy_mc_exact
	.type	__memcpy_mc_exact, @function
	.type	memcpy_mc_exact, @function
	.balign	4
__memcpy_mc_exact:
memcpy_mc_exact:
	.include "memcpy_template.S"
	li	a0, 0			/* everything copied */
	ret

	/* Lead loop: a2 is still n and t6 - a0 bytes are stored. */
.Lexact_lead:
	sub	a3, t6, a0
	sub	a0, a2, a3
	ret

	/* Unrolled loop, loads 10-15: bytes 0-79 of this block are already stored. */
.Lexact_block_late:
	addi	a1, a1, 80
	/* Unrolled loop, loads 0-9: nothing of this block is stored yet. */
.Lexact_block:
	andi	a2, a2, 127		/* the tail after the blocks */
	sub	a3, a3, a1		/* block bytes from a1 on */
	add	a0, a2, a3
	ret

	/* Word or byte tail: a3 is the source end and a1 the next source byte. */
.Lexact_tail:
	sub	a0, a3, a1
	ret
	.size	__memcpy_mc_exact, . - __memcpy_mc_exact
	.size	memcpy_mc_exact, . - memcpy_mc_exact

	.if .Lnr_load_b != 2 || .Lnr_load_reg != 16 || .Lnr_load_w != 1
	.error "memcpy_template.S changed its loads: revisit the per-phase fault handlers"
	.endif
