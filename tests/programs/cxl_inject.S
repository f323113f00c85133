# cxl_inject(mailbox, dpa): an S-mode function (called with the standard calling convention) that injects
# poison into a CXL Type-3 device through its MMIO mailbox, as a driver does: Inject Poison (opcode 4301h)
# with the 8-byte DPA as payload, doorbell set, wait for the device to clear it, return the mailbox return
# code (0 = Success).
	.equ	CTRL, 0x04
	.equ	CMD, 0x08
	.equ	STATUS, 0x10
	.equ	PAYLOAD, 0x20
	.equ	INJECT_POISON, 0x4301

	.section .text.init
	.globl	cxl_inject, _start
	.type	cxl_inject, @function
_start:
cxl_inject:
1:	lw	t0, CTRL(a0)			# a previous command still running?
	andi	t0, t0, 1
	bnez	t0, 1b
	sd	a1, PAYLOAD(a0)			# payload: the DPA
	li	t0, INJECT_POISON | (8 << 16)	# opcode, payload length 8
	sd	t0, CMD(a0)
	li	t0, 1				# doorbell
	sw	t0, CTRL(a0)
2:	lw	t0, CTRL(a0)
	andi	t0, t0, 1
	bnez	t0, 2b
	ld	t0, STATUS(a0)
	srli	a0, t0, 32
	li	t1, 0xffff
	and	a0, a0, t1
	ret
	.size	cxl_inject, . - cxl_inject
