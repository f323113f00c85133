# An S-mode driver, in machine code, for the RAS path RERI -> APLIC -> MSI -> IMSIC on
# devicetrees/virt-aia-ecc.dts (APLIC S domain at 0x0d000000, RERI bank at 0x1a000000 wired to APLIC source 20,
# delegated by the root domain to the S domain).
#
# M-mode delegates the supervisor external interrupt and drops to S. The S code programs its IMSIC file through
# siselect/sireg (eidelivery = 1, eithreshold = 0, identity 5 enabled), routes APLIC source 20 to hart 0 with
# EIID 5 (level-high, enabled, IE = 1), then makes the error bank inject an uncorrected error into record 0
# with its eid countdown. The bank's high-priority signal raises wire 20, the APLIC writes an MSI to the IMSIC,
# SEIP traps the hart through stvec, and the handler claims with `csrrw stopei` and invalidates the record
# (sinv) before `sret`. The program checks its own result: identity 5 claimed exactly once, the record
# invalid afterwards, stopei reading 0. tohost = 1 on pass, (test << 1) | 1 on failure.

	.equ APLIC_S,      0x0d000000
	.equ RERI,         0x1a000000
	.equ SOURCE,       20
	.equ EIID,         5
	.equ SOURCECFG,    0x0004 + 4 * (SOURCE - 1)
	.equ TARGET,       0x3004 + 4 * (SOURCE - 1)
	.equ SETIENUM,     0x1edc
	.equ REC0_CONTROL, 64
	.equ REC0_STATUS,  72
	.equ SINV,         1 << 48

	.section .text.init
	.globl _start
_start:
	li	gp, 1
	la	t0, m_trap
	csrw	mtvec, t0
	li	t0, 1 << 9			# SEI handled in S-mode
	csrw	mideleg, t0
	la	t0, s_main
	csrw	mepc, t0
	li	t0, 1 << 11			# MPP = S
	csrw	mstatus, t0
	mret

s_main:
	la	t0, s_trap
	csrw	stvec, t0
	li	gp, 2				# IMSIC S-file through the indirect CSRs
	li	t0, 0x70			# eidelivery = 1
	csrw	siselect, t0
	li	t0, 1
	csrw	sireg, t0
	li	t0, 0x72			# eithreshold = 0 (no threshold)
	csrw	siselect, t0
	csrw	sireg, zero
	li	t0, 0xc0			# eie0: enable identity 5
	csrw	siselect, t0
	li	t0, 1 << EIID
	csrs	sireg, t0
	csrr	t1, sireg
	bne	t0, t1, fail

	li	gp, 3				# APLIC S domain: source 20 -> hart 0, EIID 5
	li	a0, APLIC_S
	li	t0, 6				# sourcecfg: level high
	sw	t0, SOURCECFG(a0)
	li	t0, EIID			# target: hart index 0, guest 0, EIID 5
	li	t1, TARGET
	add	t1, a0, t1
	sw	t0, 0(t1)
	li	t0, SOURCE
	li	t1, SETIENUM
	add	t1, a0, t1
	sw	t0, 0(t1)
	li	t0, 1 << 8			# domaincfg.IE
	sw	t0, 0(a0)

	li	t0, 1 << 9			# sie.SEIE, sstatus.SIE
	csrs	sie, t0
	csrsi	sstatus, 2

	li	gp, 4				# the bank injects an uncorrected error after 2 eid ticks
	li	a1, RERI
	li	t0, (1 << 3) | (2 << 24)	# status_0: uec, ec = 2 (written while v = 0)
	sd	t0, REC0_STATUS(a1)
	li	t0, 2
	slli	t0, t0, 32			# eid = 2
	ori	t0, t0, 1 | (2 << 6)		# else = 1, uecs = high
	sd	t0, REC0_CONTROL(a1)

	li	gp, 5				# wait for the handler (bounded)
	li	t2, 1000000
1:	lw	t0, claimed
	bnez	t0, 2f
	addi	t2, t2, -1
	bnez	t2, 1b
	j	fail
2:	li	gp, 6
	li	t1, 1
	bne	t0, t1, fail			# claimed exactly once
	lw	t0, identity
	li	t1, EIID
	bne	t0, t1, fail
	li	gp, 7
	ld	t0, REC0_STATUS(a1)		# record 0 invalid after sinv
	andi	t0, t0, 1
	bnez	t0, fail
	li	gp, 8
	csrr	t0, stopei			# nothing left to claim
	bnez	t0, fail
	li	t0, 1
	sd	t0, tohost, t1
3:	j	3b

s_trap:
	csrr	t3, scause
	li	t4, (1 << 63) | 9
	bne	t3, t4, fail			# only the supervisor external interrupt is expected
	csrrw	t3, stopei, zero		# claim
	srli	t3, t3, 16
	la	t4, identity
	sw	t3, 0(t4)
	la	t4, claimed
	lw	t5, 0(t4)
	addi	t5, t5, 1
	sw	t5, 0(t4)
	li	t4, RERI			# invalidate the record: control |= sinv (read-modify-write)
	ld	t5, REC0_CONTROL(t4)
	li	t6, SINV
	or	t5, t5, t6
	sd	t5, REC0_CONTROL(t4)
	sret

m_trap:
	li	gp, 99
fail:
	slli	t0, gp, 1
	ori	t0, t0, 1
	sd	t0, tohost, t1
4:	j	4b

	.section .tohost, "aw"
	.balign 8
	.globl tohost
tohost:	.dword 0

	.data
	.balign 8
claimed:	.word 0
identity:	.word 0
