/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcpy_mc.S - machine-check-safe RV64 memcpy for rasplat firmware.
 *
 * unsigned long __memcpy_mc(void *dst, const void *src, size_t n), with
 * memcpy_mc a weak alias at the same address.  Returns 0 on success, or a
 * non-zero count if a source load faulted (hardware error / access fault
 * fixed up through __ex_table).
 *
 * The body is memcpy_template.S.  Each load is wrapped by "fixup", which
 * emits one 12-byte __ex_table entry (self-relative insn and fixup, type
 * EX_TYPE_FIXUP = 1, data 0) pointing at label 6 below.  A FIXUP entry only
 * rewrites the PC, so at 6 every GPR still holds its value from the
 * faulting load (which did not write rd) and "mv a0, a2" returns the
 * template's a2: the count at the start of the current phase.  That is
 * never 0 and never less than the bytes actually left unwritten, but may
 * over-estimate them (up to n - 1 in the byte tail; an aligned 4 KiB page
 * copy returns 4096 wherever it faults).  See the template header.
 *
 * Stores are plain.  The posted Linux patch wrapped every STORE_* in fixup
 * too, contradicting its own comment and cover letter ("only source (load)
 * operations are protected"); rasplat follows the documented intent, so a
 * fault on the destination side has no extable entry and ends in a panic.
 */

	.include "extable.inc"			/* fixup op, reg, addr, lbl: the access + its __ex_table entry */

	.macro LOAD_B reg, addr
	fixup	lb, \reg, \addr, 6f
	.endm
	.macro STORE_B reg, addr
	sb	\reg, \addr
	.endm
	.macro LOAD_W reg, addr
	fixup	lw, \reg, \addr, 6f
	.endm
	.macro STORE_W reg, addr
	sw	\reg, \addr
	.endm
	.macro LOAD_REG reg, addr
	fixup	ld, \reg, \addr, 6f
	.endm
	.macro STORE_REG reg, addr
	sd	\reg, \addr
	.endm

	.text
	.globl	__memcpy_mc
	.weak	memcpy_mc
	.type	__memcpy_mc, @function
	.type	memcpy_mc, @function
	.balign	4
__memcpy_mc:
memcpy_mc:
	.include "memcpy_template.S"
	li	a0, 0			/* everything copied */
	ret

	/* Fixup target of every load above: report the phase's count (>= 1). */
6:
	mv	a0, a2
	ret
	.size	__memcpy_mc, . - __memcpy_mc
	.size	memcpy_mc, . - memcpy_mc
