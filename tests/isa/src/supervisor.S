# supervisor: satp, sfence.vma and mstatus.TVM.
# satp exists and reads Bare after reset code wrote 0; a write with an unsupported MODE (13, reserved) has
# no effect at all; sfence.vma is legal in M and S, illegal in U; with mstatus.TVM = 1, satp accesses and
# sfence.vma in S-mode are illegal (mtval = instruction bits) while M-mode is unaffected.
    .include "macros.inc"

.equ INSN_SFENCE_VMA, 0x12000073               # sfence.vma x0, x0
.equ INSN_CSRR_A0_SATP, 0x18002573
.equ INSN_CSRW_SATP_X0, 0x18001073

    CODE_BEGIN

    # satp is there and Bare
    TEST 2
    csrr a4, satp
    CHECK a4, 0

    # unsupported MODE: the whole write is ignored
    TEST 3
    li a1, (13 << 60) | 0x12345
    csrw satp, a1
    csrr a4, satp
    CHECK a4, 0

    # sfence.vma in M, and satp / sfence.vma in S with TVM = 0
    TEST 4
    sfence.vma
    sfence.vma a0, a1
    GOTO_PRIV PRV_S, .Ls4
.Ls4:
    csrr a4, satp
    csrw satp, x0
    sfence.vma
    BACK_TO_M .Lm4
.Lm4:
    CHECK s8, CAUSE_SUPERVISOR_ECALL
    CHECK a4, 0

    # sfence.vma in U is illegal
    TEST 5
    GOTO_PRIV PRV_U, .Lu5
.Lu5:
    EXPECT_ILLEGAL INSN_SFENCE_VMA

    # TVM = 1 traps satp and sfence.vma in S
    TEST 6
    li a0, MSTATUS_TVM
    csrs mstatus, a0
    csrr a4, mstatus
    and a4, a4, a0
    CHECK_EQ a4, a0
    GOTO_PRIV PRV_S, .Ls6
.Ls6:
    EXPECT_ILLEGAL INSN_CSRR_A0_SATP
    TEST 7
    GOTO_PRIV PRV_S, .Ls7
.Ls7:
    EXPECT_ILLEGAL INSN_CSRW_SATP_X0
    TEST 8
    GOTO_PRIV PRV_S, .Ls8
.Ls8:
    EXPECT_ILLEGAL INSN_SFENCE_VMA

    # ... but not in M
    TEST 9
    csrr a4, satp
    csrw satp, x0
    sfence.vma
    li a0, MSTATUS_TVM
    csrc mstatus, a0

    CODE_END
