# xret: mret and sret semantics and their illegal uses.
# mret: priv <- MPP, MIE <- MPIE, MPIE <- 1, MPP <- U, MPRV cleared when leaving M; sret: priv <- SPP,
# SIE <- SPIE, SPIE <- 1, SPP <- U (also executed from M-mode). sret is illegal in U and, with
# mstatus.TSR = 1, in S (TSR does not affect M); mret is illegal in S and U. mtval = instruction bits.
    .include "macros.inc"

.macro MPP_OF dst, src
    srli \dst, \src, 11
    andi \dst, \dst, 3
.endm

# Raw-bits instruction that must raise illegal-instruction to M from the current mode.
.macro EXPECT_ILLEGAL_AT label, bits
    EXPECT_MTRAP .Lok\@
\label:
    .word \bits
    j fail
.Lok\@:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, \bits
    CHECK_ADDR s10, \label
.endm

    CODE_BEGIN

    # mret to M: MIE <- MPIE (1), MPIE <- 1, MPP <- U
    TEST 2
    li a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP
    csrc mstatus, a0
    li a0, MSTATUS_MPIE | MSTATUS_MPP          # MPP = M
    csrs mstatus, a0
    la a0, .Lm2
    csrw mepc, a0
    mret
    j fail
.Lm2:
    csrr a4, mstatus
    li a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP
    and a4, a4, a0
    CHECK a4, MSTATUS_MIE | MSTATUS_MPIE       # MPP = U (0)
    csrci mstatus, MSTATUS_MIE

    # mret to M with MPIE = 0 and MIE = 1: MIE <- 0, MPIE <- 1
    TEST 3
    li a0, MSTATUS_MPIE
    csrc mstatus, a0
    li a0, MSTATUS_MIE | MSTATUS_MPP
    csrs mstatus, a0
    la a0, .Lm3
    csrw mepc, a0
    mret
    j fail
.Lm3:
    csrr a4, mstatus
    li a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP
    and a4, a4, a0
    CHECK a4, MSTATUS_MPIE

    # mret to S lands in S at mepc and clears MPRV
    TEST 4
    li a0, MSTATUS_MPRV
    csrs mstatus, a0
    GOTO_PRIV PRV_S, .Ls4
.Ls4:
    csrr a0, sscratch                          # fine in S
    EXPECT_ILLEGAL_AT .Ls4_probe, 0x34002773   # csrr a4, mscratch: proves S, not M
    MPP_OF a0, s7
    CHECK a0, PRV_S
.ifndef QEMU_SYSTEM                            # qemu 7.2 leaves MPRV set
    li a0, MSTATUS_MPRV
    and a0, s7, a0
    CHECK a0, 0
.endif
    li a0, MSTATUS_MPRV
    csrc mstatus, a0

    # mret to U
    TEST 5
    GOTO_PRIV PRV_U, .Lu5
.Lu5:
    EXPECT_ILLEGAL_AT .Lu5_probe, 0x10002773   # csrr a4, sstatus: proves U
    MPP_OF a0, s7
    CHECK a0, PRV_U

    # sret from S to U: SIE <- SPIE (1), SPIE <- 1, SPP <- U
    TEST 6
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    csrc mstatus, a0
    li a0, MSTATUS_SPIE                        # SPP = U, SPIE = 1, SIE = 0
    csrs mstatus, a0
    la a0, .Lu6
    csrw sepc, a0
    GOTO_PRIV PRV_S, .Ls6
.Ls6:
    sret
    j fail
.Lu6:
    EXPECT_ILLEGAL_AT .Lu6_probe, 0x10002773   # in U now
    MPP_OF a0, s7
    CHECK a0, PRV_U
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    and a0, s7, a0
    CHECK a0, MSTATUS_SIE | MSTATUS_SPIE
    csrci mstatus, MSTATUS_SIE

    # sret from S to S: SIE <- SPIE (0), SPIE <- 1, SPP <- U; read back from S itself
    TEST 7
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    csrc mstatus, a0
    li a0, MSTATUS_SIE | MSTATUS_SPP
    csrs mstatus, a0
    la a0, .Ls7_after
    csrw sepc, a0
    GOTO_PRIV PRV_S, .Ls7
.Ls7:
    sret
    j fail
.Ls7_after:
    csrr a4, sstatus                           # legal: still in S
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    and a4, a4, a0
    CHECK a4, MSTATUS_SPIE
    EXPECT_ILLEGAL_AT .Ls7_probe, 0x34002773
    MPP_OF a0, s7
    CHECK a0, PRV_S

    # sret is legal in M-mode: goes to SPP (S here) at sepc
    TEST 8
    li a0, MSTATUS_SPP
    csrs mstatus, a0
    la a0, .Ls8
    csrw sepc, a0
    sret
    j fail
.Ls8:
    EXPECT_ILLEGAL_AT .Ls8_probe, 0x34002773
    MPP_OF a0, s7
    CHECK a0, PRV_S

    # TSR = 1 does not affect sret in M
    TEST 9
    li a0, MSTATUS_TSR
    csrs mstatus, a0
    li a0, MSTATUS_SPP
    csrc mstatus, a0                           # to U
    la a0, .Lu9
    csrw sepc, a0
    sret
    j fail
.Lu9:
    EXPECT_ILLEGAL_AT .Lu9_probe, 0x10002773
    MPP_OF a0, s7
    CHECK a0, PRV_U

    # sret in S with TSR = 1 is illegal
    TEST 10
    GOTO_PRIV PRV_S, .Ls10
.Ls10:
    EXPECT_ILLEGAL_AT .Ls10_sret, 0x10200073
    MPP_OF a0, s7
    CHECK a0, PRV_S
    li a0, MSTATUS_TSR
    csrc mstatus, a0

    # sret in U is illegal
    TEST 11
    GOTO_PRIV PRV_U, .Lu11
.Lu11:
    EXPECT_ILLEGAL_AT .Lu11_sret, 0x10200073
    MPP_OF a0, s7
    CHECK a0, PRV_U

    # mret in S and in U is illegal
    TEST 12
    GOTO_PRIV PRV_S, .Ls12
.Ls12:
    EXPECT_ILLEGAL_AT .Ls12_mret, 0x30200073
    MPP_OF a0, s7
    CHECK a0, PRV_S
    TEST 13
    GOTO_PRIV PRV_U, .Lu13
.Lu13:
    EXPECT_ILLEGAL_AT .Lu13_mret, 0x30200073
    MPP_OF a0, s7
    CHECK a0, PRV_U

    CODE_END
