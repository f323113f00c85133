# interrupts: global enables, delegation and priority, using the software-writable supervisor interrupt
# bits of mip (SSIP, STIP, SEIP), which M-mode may set.
# An enabled pending interrupt destined for M is taken in M only when mstatus.MIE = 1, but always while in
# S or U; one delegated through mideleg is never taken in M, is taken in S only when sstatus.SIE = 1 and
# always in U; mie bits mask individually. Simultaneous M-destined interrupts are taken in the order SEI,
# SSI, STI. An interrupt sets xcause = bit 63 | code, xtval = 0, xepc = the next instruction to run, and
# the usual xPIE/xIE/xPP updates.
    .include "macros.inc"

.equ MIP_SSIP, 1 << 1
.equ MIP_STIP, 1 << 5
.equ MIP_SEIP, 1 << 9
.equ IRQ, 0x8000000000000000

# Fail unless the saved epc (\reg) points into the few instructions from \label on: the interrupt must be
# taken promptly once it is pending and enabled.
.macro CHECK_PROMPT reg, label
    la t6, \label
    bltu \reg, t6, fail
    addi t6, t6, 12
    bgtu \reg, t6, fail
.endm

    CODE_BEGIN

    # M-mode with MIE = 0: a pending, mie-enabled interrupt waits
    TEST 2
    li a0, MIP_SSIP
    csrw mie, a0
    csrs mip, a0
    nop
    nop
    nop
    csrr a4, mip
    andi a4, a4, MIP_SSIP
    CHECK a4, MIP_SSIP

    # ... and is taken as soon as MIE = 1
    TEST 3
    li a1, 0x77
    csrw mtval, a1
    EXPECT_MTRAP .L3
    csrsi mstatus, MSTATUS_MIE
.L3_next:
    nop
    nop
    nop
    j fail
.L3:
    CHECK s8, IRQ | 1
    CHECK s9, 0
    CHECK_PROMPT s10, .L3_next
    li a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP
    and a0, s7, a0
    CHECK a0, MSTATUS_MPIE | MSTATUS_MPP       # MPIE = 1, MIE = 0, MPP = M
    csrci mip, MIP_SSIP

    # priority among M-destined interrupts: SEI (9), then SSI (1), then STI (5) (qemu's virt machine
    # does not let software set mip.SEIP, so its validation run starts at SSI)
    TEST 4
.ifdef QEMU_SYSTEM
    li a0, MIP_SSIP | MIP_STIP
.else
    li a0, MIP_SSIP | MIP_STIP | MIP_SEIP
.endif
    csrw mie, a0
    csrs mip, a0
.ifndef QEMU_SYSTEM
    EXPECT_MTRAP .L4a
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    nop
    j fail
.L4a:
    CHECK s8, IRQ | 9
    li a0, MIP_SEIP
    csrc mip, a0
.endif
    EXPECT_MTRAP .L4b
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    nop
    j fail
.L4b:
    CHECK s8, IRQ | 1
    csrci mip, MIP_SSIP
    EXPECT_MTRAP .L4c
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    nop
    j fail
.L4c:
    CHECK s8, IRQ | 5
    li a0, MIP_STIP
    csrc mip, a0
    csrw mie, x0

    # mie masks individually: STIP pending but only SSIE enabled, MIE = 1: nothing happens
    TEST 5
    li a0, MIP_SSIP
    csrw mie, a0
    li a0, MIP_STIP
    csrs mip, a0
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    csrc mip, a0

    # in S-mode an M-destined interrupt is taken even though MIE = 0
    TEST 6
    csrci mstatus, MSTATUS_MIE
    li a0, MSTATUS_MPIE
    csrc mstatus, a0                           # mret must not turn MIE on
    csrsi mip, MIP_SSIP                        # pending; M-mode with MIE = 0 holds it
    EXPECT_MTRAP .L6
    GOTO_PRIV PRV_S, .Ls6
.Ls6:
    nop
    nop
    nop
    j fail
.L6:
    CHECK s8, IRQ | 1
    CHECK_PROMPT s10, .Ls6
    srli a0, s7, 11
    andi a0, a0, 3
    CHECK a0, PRV_S
    csrci mip, MIP_SSIP

    # delegated to S: never taken in M, even with MIE = SIE = 1
    TEST 7
    csrwi mideleg, MIP_SSIP
    csrr a4, mideleg
    andi a4, a4, MIP_SSIP
    CHECK a4, MIP_SSIP
    csrwi mie, MIP_SSIP
    csrsi mip, MIP_SSIP
    csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    nop
    nop
    nop
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE

    # delegated, in S with SIE = 0: waits; SIE = 1: taken at stvec
    TEST 8
    li a0, MSTATUS_SPIE | MSTATUS_SPP
    csrc mstatus, a0
    li a1, 0x99
    csrw stval, a1
    GOTO_PRIV PRV_S, .Ls8
.Ls8:
    nop
    nop
    nop
    EXPECT_STRAP .Ls8_trapped
    csrsi sstatus, MSTATUS_SIE
.Ls8_next:
    nop
    nop
    nop
    j fail
.Ls8_trapped:
    CHECK s4, IRQ | 1
    CHECK s5, 0
    CHECK_PROMPT s6, .Ls8_next
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    and a0, s3, a0
    CHECK a0, MSTATUS_SPIE | MSTATUS_SPP       # SPIE = 1, SIE = 0, SPP = S
    csrci sip, MIP_SSIP                        # S clears its own delegated SSIP
    csrr a4, sip
    andi a4, a4, MIP_SSIP
    CHECK a4, 0
    BACK_TO_M .Lm8
.Lm8:
    csrr a4, mip
    andi a4, a4, MIP_SSIP
    CHECK a4, 0

    # delegated, in U: taken at stvec whatever SIE says
    TEST 9
    csrci mstatus, MSTATUS_SIE
    csrsi mip, MIP_SSIP
    EXPECT_STRAP .Ls9
    GOTO_PRIV PRV_U, .Lu9
.Lu9:
    nop
    nop
    nop
    j fail
.Ls9:
    CHECK s4, IRQ | 1
    CHECK_PROMPT s6, .Lu9
    li a0, MSTATUS_SPP
    and a0, s3, a0
    CHECK a0, 0                                # SPP = U
    csrci sip, MIP_SSIP
    BACK_TO_M .Lm9
.Lm9:

    # a delegated interrupt masked in mie is not taken in U either
    TEST 10
    csrwi mie, 0
    csrsi mip, MIP_SSIP
    GOTO_PRIV PRV_U, .Lu10
.Lu10:
    nop
    nop
    nop
    BACK_TO_M .Lm10
.Lm10:
    CHECK s8, CAUSE_USER_ECALL
    csrci mip, MIP_SSIP
    csrw mideleg, x0

    CODE_END
