# deleg: exception delegation to S-mode through medeleg.
# medeleg[11] (ecall from M) is read-only 0; a delegated exception from U or S goes to stvec with scause,
# sepc, stval set, sstatus.SPP = previous mode, SPIE = previous SIE, SIE = 0, and the hart in S-mode (M
# CSRs then trap); an exception raised in M-mode is never delegated, even when its medeleg bit is set;
# undelegated causes (ecall from S, ebreak) still go to M from S.
    .include "macros.inc"
    CODE_BEGIN

    # medeleg: ecall-from-M can never be delegated; the causes used below can
    TEST 2
    li a0, -1
    csrw medeleg, a0
    csrr a4, medeleg
.ifndef QEMU_SYSTEM                            # qemu 7.2 lets medeleg[11] be set
    srli a5, a4, CAUSE_MACHINE_ECALL
    andi a5, a5, 1
    CHECK a5, 0
.endif
    li a6, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_USER_ECALL) | (1 << 9)
    and a5, a4, a6
    CHECK_EQ a5, a6
    csrw medeleg, x0
    csrr a4, medeleg
    CHECK a4, 0

    # delegated ecall from U lands in S at stvec; M state is untouched
    TEST 3
    li a0, 1 << CAUSE_USER_ECALL
    csrw medeleg, a0
    li a0, 0x222
    csrw stval, a0                             # must be overwritten with 0
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    csrc mstatus, a0
    csrsi mstatus, MSTATUS_SIE                 # SIE = 1 before the trap
    la a0, .Lu3
    csrw mepc, a0
    li a0, MSTATUS_MPP
    csrc mstatus, a0                           # MPP = U
    EXPECT_STRAP .Ls3
    mret
.Lu3:
    ecall
    j fail
.Ls3:                                          # now in S-mode
    CHECK s4, CAUSE_USER_ECALL
    CHECK_ADDR s6, .Lu3
    CHECK s5, 0
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    and a0, s3, a0
    CHECK a0, MSTATUS_SPIE                     # SPIE <- SIE (1), SIE <- 0, SPP <- U
    csrr a0, sscratch                          # S CSRs accessible ...
    EXPECT_MTRAP .Lm3                          # ... but not M CSRs: proves the hart is in S
    csrr a0, mscratch
    j fail
.Lm3:
    CHECK s8, CAUSE_ILLEGAL
    srli a0, s7, 11
    andi a0, a0, 3
    CHECK a0, PRV_S
    li a0, MSTATUS_SIE | MSTATUS_SPIE
    csrc mstatus, a0

    # delegated illegal instruction from S: scause 2, stval = instruction bits, SPP = S
    TEST 4
    li a0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_USER_ECALL)
    csrw medeleg, a0
    li a0, MSTATUS_SPP | MSTATUS_SIE | MSTATUS_SPIE
    csrc mstatus, a0
    GOTO_PRIV PRV_S, .Ls5
.Ls5:
    EXPECT_STRAP .Ls5_trapped
.Ls5_insn:
    csrr a4, mscratch                          # illegal in S, now handled by S itself
    j fail
.Ls5_trapped:
    CHECK s4, CAUSE_ILLEGAL
    CHECK s5, 0x34002773
    CHECK_ADDR s6, .Ls5_insn
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    and a0, s3, a0
    CHECK a0, MSTATUS_SPP                      # SPP = S, SIE was 0 so SPIE = 0
    BACK_TO_M .Lm5                             # ecall from S (cause 9) is not delegated
.Lm5:
    CHECK s8, CAUSE_SUPERVISOR_ECALL

    # an exception in M-mode stays in M even though its cause is delegated
    TEST 5
    EXPECT_STRAP fail_from_s
    EXPECT_MTRAP .Lm6
.Lm6_insn:
    .word 0xffffffff
    j fail
.Lm6:
    CHECK s8, CAUSE_ILLEGAL
    CHECK_ADDR s10, .Lm6_insn
    li s2, 0

    # ecall from S delegated: S handles its own ecall; ebreak (not delegated) goes to M
    TEST 6
    li a0, (1 << CAUSE_SUPERVISOR_ECALL)
    csrw medeleg, a0
    GOTO_PRIV PRV_S, .Ls7
.Ls7:
    EXPECT_STRAP .Ls7_trapped
.Ls7_ecall:
    ecall
    j fail
.Ls7_trapped:
    CHECK s4, CAUSE_SUPERVISOR_ECALL
    CHECK_ADDR s6, .Ls7_ecall
    li a0, MSTATUS_SPP
    and a0, s3, a0
    CHECK a0, MSTATUS_SPP
    EXPECT_MTRAP .Lm7
.Ls7_ebreak:
    ebreak
    j fail
.Lm7:
    CHECK s8, CAUSE_BREAKPOINT
    CHECK_ADDR s10, .Ls7_ebreak
    csrw medeleg, x0
    j pass

fail_from_s:
    j fail

    CODE_END
