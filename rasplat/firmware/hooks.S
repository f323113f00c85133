/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hooks.S - addresses the rasplat Python kernel model intercepts.
 *
 * Nothing here is meant to execute.  The model watches the hart's PC and
 * takes over when it reaches one of these symbols; the bodies are illegal
 * instructions so that, should the model ever fail to intercept, the hart
 * raises an illegal-instruction exception instead of running on into
 * whatever follows.  Assembled without RVC so every slot is one 4-byte
 * unimp (csrrw x0, cycle, x0) and each vectored-mode entry is a whole
 * instruction.
 */

	.option	norvc
	.text

	/*
	 * S-mode trap vector (stvec).  The model intercepts execution here and
	 * runs its trap handler.  64 slots of 4 bytes, so with stvec.MODE =
	 * vectored every interrupt target base + 4 * cause (cause <= 63) still
	 * lands inside the symbol.
	 */
	.balign	64
	.globl	rasplat_strap_vector
	.type	rasplat_strap_vector, @function
rasplat_strap_vector:
	.rept	64
	unimp
	.endr
	.size	rasplat_strap_vector, . - rasplat_strap_vector

	/* M-mode trap vector (mtvec), same shape and same interception. */
	.balign	64
	.globl	rasplat_mtrap_vector
	.type	rasplat_mtrap_vector, @function
rasplat_mtrap_vector:
	.rept	64
	unimp
	.endr
	.size	rasplat_mtrap_vector, . - rasplat_mtrap_vector

	/*
	 * Return address (ra) the kernel model passes to kernel.call: when the
	 * called firmware function returns here, the model intercepts and
	 * collects a0.
	 */
	.balign	4
	.globl	rasplat_call_return
	.type	rasplat_call_return, @function
rasplat_call_return:
	unimp
	.size	rasplat_call_return, . - rasplat_call_return
