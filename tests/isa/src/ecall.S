# ecall: environment calls from M, S and U mode, with nothing delegated.
# mcause = 11 / 9 / 8, mepc = address of the ecall, mtval = 0, the trap is taken in M-mode with
# mstatus.MPP = the previous mode, MPIE = the previous MIE and MIE cleared; S-mode's SIE/SPIE/SPP are
# untouched by a trap to M; mret to mepc + 4 returns to the interrupted mode and instruction stream.
    .include "macros.inc"

# Field extractors for the mstatus image the handler saved in s7.
.macro MPP_OF dst, src
    srli \dst, \src, 11
    andi \dst, \dst, 3
.endm

    CODE_BEGIN

    # ecall from M with MIE = 0
    TEST 2
    csrw mtval, x0
    EXPECT_MTRAP .Lm_trapped
.Lm_ecall:
    ecall
    j fail
.Lm_trapped:
    CHECK s8, CAUSE_MACHINE_ECALL
    CHECK_ADDR s10, .Lm_ecall
    CHECK s9, 0
    MPP_OF a0, s7
    CHECK a0, PRV_M
    andi a0, s7, MSTATUS_MIE | MSTATUS_MPIE
    CHECK a0, 0

    # ecall from M with MIE = 1 (no interrupt can fire: mie = 0): MPIE <- 1, MIE <- 0
    TEST 3
    li a1, 0x5555
    csrw mtval, a1                             # must be overwritten with 0
    csrsi mstatus, MSTATUS_MIE
    EXPECT_MTRAP .Lm_trapped2
.Lm_ecall2:
    ecall
    j fail
.Lm_trapped2:
    CHECK s8, CAUSE_MACHINE_ECALL
    CHECK s9, 0
    andi a0, s7, MSTATUS_MIE | MSTATUS_MPIE
    CHECK a0, MSTATUS_MPIE
    csrr a0, mstatus                           # still MIE = 0 after the handler
    andi a0, a0, MSTATUS_MIE
    CHECK a0, 0

    # ecall from S
    TEST 4
    csrw mtval, a1
    GOTO_PRIV PRV_S, .Ls_code
.Ls_code:
    EXPECT_MTRAP .Ls_trapped
.Ls_ecall:
    ecall
    j fail
.Ls_trapped:
    CHECK s8, CAUSE_SUPERVISOR_ECALL
    CHECK_ADDR s10, .Ls_ecall
    CHECK s9, 0
    MPP_OF a0, s7
    CHECK a0, PRV_S
    csrr a0, mscratch                          # back in M: M CSRs are accessible again

    # ecall from U
    TEST 5
    csrw mtval, a1
    GOTO_PRIV PRV_U, .Lu_code
.Lu_code:
    EXPECT_MTRAP .Lu_trapped
.Lu_ecall:
    ecall
    j fail
.Lu_trapped:
    CHECK s8, CAUSE_USER_ECALL
    CHECK_ADDR s10, .Lu_ecall
    CHECK s9, 0
    MPP_OF a0, s7
    CHECK a0, PRV_U

    # a trap from S to M leaves sstatus.SIE/SPIE/SPP alone, and MIE (0 in S) goes to MPIE
    TEST 6
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    csrc mstatus, a0
    li a0, MSTATUS_SIE | MSTATUS_SPP
    csrs mstatus, a0
    li a0, MSTATUS_MIE | MSTATUS_MPIE
    csrc mstatus, a0
    li a0, MSTATUS_MPIE                        # mret: MIE <- MPIE = 1 ... while running in S
    csrs mstatus, a0
    GOTO_PRIV PRV_S, .Ls_code2
.Ls_code2:
    BACK_TO_M .Ls_back2
.Ls_back2:
    CHECK s8, CAUSE_SUPERVISOR_ECALL
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    and a0, s7, a0
    CHECK a0, MSTATUS_SIE | MSTATUS_SPP
    andi a0, s7, MSTATUS_MIE | MSTATUS_MPIE
    CHECK a0, MSTATUS_MPIE                     # MIE was 1 in S, so MPIE = 1, MIE = 0
    li a0, MSTATUS_SIE | MSTATUS_SPP
    csrc mstatus, a0

    # return with mret to mepc + 4: execution continues in the mode that trapped (U here)
    TEST 7
    la a0, .Lu_ret_handler
    csrw mtvec, a0
    li a5, 0
    GOTO_PRIV PRV_U, .Lu_code3
.Lu_code3:
    ecall                                      # handler returns right behind this
    addi a5, a5, 1
    EXPECT_MTRAP .Lu_checked                   # proves we are still in U: sstatus is not accessible
    csrr a0, sstatus
    j fail
    .balign 4
.Lu_ret_handler:                               # plain M handler: skip the ecall, return
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    la t0, trap_vector
    csrw mtvec, t0
    mret
.Lu_checked:
    CHECK a5, 1
    CHECK s8, CAUSE_ILLEGAL
    MPP_OF a0, s7
    CHECK a0, PRV_U

    CODE_END
