# sstatus: sstatus is a restricted view of mstatus.
# SIE, SPIE, SPP, SUM, MXR written through sstatus appear in mstatus and vice versa; the M-only fields
# (MIE, MPIE, MPP, MPRV, TVM, TW, TSR) are invisible in sstatus and cannot be changed through it;
# sstatus.UXL reads 2; S-mode writes to sstatus land in mstatus.
    .include "macros.inc"

.equ SSTATUS_VISIBLE, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
.equ MSTATUS_M_ONLY, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV
.equ MSTATUS_M_ONLY, MSTATUS_M_ONLY | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR

    CODE_BEGIN

    # SIE through sstatus shows in mstatus
    TEST 2
    li a0, SSTATUS_VISIBLE
    csrc mstatus, a0
    csrsi sstatus, MSTATUS_SIE
    csrr a4, mstatus
    andi a4, a4, MSTATUS_SIE
    CHECK a4, MSTATUS_SIE
    csrci sstatus, MSTATUS_SIE
    csrr a4, mstatus
    andi a4, a4, MSTATUS_SIE
    CHECK a4, 0

    # SIE set in mstatus shows in sstatus
    TEST 3
    csrsi mstatus, MSTATUS_SIE
    csrr a4, sstatus
    andi a4, a4, MSTATUS_SIE
    CHECK a4, MSTATUS_SIE
    csrci mstatus, MSTATUS_SIE

    # SPIE and SPP both ways
    TEST 4
    li a0, MSTATUS_SPIE | MSTATUS_SPP
    csrs sstatus, a0
    csrr a4, mstatus
    and a4, a4, a0
    CHECK_EQ a4, a0
    csrc mstatus, a0
    csrr a4, sstatus
    and a4, a4, a0
    CHECK a4, 0
    li a1, MSTATUS_SPP
    csrs mstatus, a1
    csrr a4, sstatus
    and a4, a4, a0
    CHECK a4, MSTATUS_SPP
    csrc mstatus, a1

    # M-only fields cannot be set through sstatus and never read back from it
    TEST 5
    li a0, MSTATUS_M_ONLY
    csrc mstatus, a0
    csrs sstatus, a0
    csrr a4, mstatus
    and a4, a4, a0
    CHECK a4, 0
    csrr a4, sstatus
    and a4, a4, a0
    CHECK a4, 0

    # M-only fields set in mstatus stay hidden in sstatus and survive sstatus writes
    TEST 6
    li a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TW | MSTATUS_TSR
    csrs mstatus, a0                           # mie = 0: MIE = 1 enables nothing here
    csrr a4, sstatus
    li a1, MSTATUS_M_ONLY
    and a4, a4, a1
    CHECK a4, 0
    csrw sstatus, x0
    csrr a4, mstatus
    and a4, a4, a0
    CHECK_EQ a4, a0
    csrc mstatus, a0

    # MXR through sstatus; SUM reads the same in both views
    TEST 7
    li a0, MSTATUS_MXR
    csrs sstatus, a0
    csrr a4, mstatus
    and a4, a4, a0
    CHECK_EQ a4, a0
    csrc sstatus, a0
    csrr a4, mstatus
    and a4, a4, a0
    CHECK a4, 0
    li a0, MSTATUS_SUM
    csrs sstatus, a0
    csrr a4, mstatus
    csrr a5, sstatus
    and a4, a4, a0
    and a5, a5, a0
    CHECK_EQ a4, a5
    csrc sstatus, a0

    # sstatus.UXL = 2, and the view agrees with mstatus on every visible bit
    TEST 8
    csrr a4, sstatus
    srli a5, a4, 32
    andi a5, a5, 3
    CHECK a5, 2
    csrr a5, mstatus
    li a0, SSTATUS_VISIBLE
    and a4, a4, a0
    and a5, a5, a0
    CHECK_EQ a4, a5

    # S-mode writes to sstatus reach mstatus (seen from M after the ecall)
    TEST 9
    li a0, SSTATUS_VISIBLE
    csrc mstatus, a0
    GOTO_PRIV PRV_S, .Ls9
.Ls9:
    li a0, MSTATUS_SPIE | MSTATUS_MXR
    csrs sstatus, a0
    csrsi sstatus, MSTATUS_SIE
    csrr a4, sstatus
    li a1, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_MXR
    and a4, a4, a1
    CHECK_EQ a4, a1
    BACK_TO_M .Lm9
.Lm9:
    li a1, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_MXR
    and a4, s7, a1
    CHECK_EQ a4, a1
    csrr a4, mstatus
    and a4, a4, a1
    CHECK_EQ a4, a1
    csrc mstatus, a1

    CODE_END
