/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcpy.S - plain RV64 memcpy for rasplat firmware.
 *
 * void *__memcpy(void *dst, const void *src, size_t n), with memcpy a weak
 * alias at the same address.  The body is memcpy_template.S with every
 * access macro expanded to the bare instruction, so the code is identical
 * to the open-coded memcpy_open.S (tests/test_firmware.py checks that).
 *
 * Returns dst (a0 is never modified).  Nothing here has an __ex_table
 * entry: a fault in __memcpy is not fixed up.  For the record, a2 follows
 * the template's contract (count at the start of the current phase), but
 * no caller of plain memcpy ever sees it.
 */

	.macro LOAD_B reg, addr
	lb	\reg, \addr
	.endm
	.macro STORE_B reg, addr
	sb	\reg, \addr
	.endm
	.macro LOAD_W reg, addr
	lw	\reg, \addr
	.endm
	.macro STORE_W reg, addr
	sw	\reg, \addr
	.endm
	.macro LOAD_REG reg, addr
	ld	\reg, \addr
	.endm
	.macro STORE_REG reg, addr
	sd	\reg, \addr
	.endm

	.text
	.globl	__memcpy
	.weak	memcpy
	.type	__memcpy, @function
	.type	memcpy, @function
	.balign	4
__memcpy:
memcpy:
	.include "memcpy_template.S"
	ret
	.size	__memcpy, . - __memcpy
	.size	memcpy, . - memcpy
