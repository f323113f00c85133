# tvec: mtvec/stvec direct and vectored modes.
# MODE = 1 reads back; in vectored mode synchronous exceptions (ecall, illegal, ebreak, from M and from U)
# still enter at BASE, while interrupts enter at BASE + 4 * cause: a supervisor software interrupt
# (mip.SSIP set by M-mode) is taken in M at mtvec BASE + 4, and, delegated through mideleg and raised by
# S-mode in sip, at stvec BASE + 4. Direct mode sends interrupts to BASE. mcause/scause of an interrupt
# has bit 63 set.
    .include "macros.inc"

.equ MIP_SSIP, 0x2
.equ IRQ_S_SOFT, 0x8000000000000001

# Every vector slot records which slot was entered (t5 = slot address + 4), then joins the normal handler.
.macro VECTOR_TABLE name, handler
    .balign 256
\name:
    .rept 16
    jal t5, \handler
    .endr
.endm

    CODE_BEGIN

    # direct-mode value reads back
    TEST 2
    la a0, trap_vector
    csrw mtvec, a0
    csrr a4, mtvec
    CHECK_EQ a4, a0

    # vectored mtvec: MODE reads back; ecall from M enters at BASE
    TEST 3
    la a0, mvec
    ori a0, a0, 1
    csrw mtvec, a0
    csrr a4, mtvec
    CHECK_EQ a4, a0
    li t5, 0
    EXPECT_MTRAP .L3
    ecall
    j fail
.L3:
    CHECK s8, CAUSE_MACHINE_ECALL
    la a0, mvec + 4
    CHECK_EQ t5, a0

    # illegal instruction and ebreak: BASE
    TEST 4
    li t5, 0
    EXPECT_MTRAP .L4
    .word 0
    j fail
.L4:
    CHECK s8, CAUSE_ILLEGAL
    la a0, mvec + 4
    CHECK_EQ t5, a0
    li t5, 0
    EXPECT_MTRAP .L4b
    ebreak
    j fail
.L4b:
    CHECK s8, CAUSE_BREAKPOINT
    CHECK_EQ t5, a0

    # ecall from U: BASE
    TEST 5
    li t5, 0
    GOTO_PRIV PRV_U, .Lu5
.Lu5:
    EXPECT_MTRAP .L5
    ecall
    j fail
.L5:
    CHECK s8, CAUSE_USER_ECALL
    la a0, mvec + 4
    CHECK_EQ t5, a0

    # supervisor software interrupt taken in M (not delegated), vectored: BASE + 4 * 1
    TEST 6
    li t5, 0
    csrwi mie, MIP_SSIP
    csrsi mstatus, MSTATUS_MIE
    EXPECT_MTRAP .L6
    csrsi mip, MIP_SSIP                        # pending and enabled: taken right after this
.L6_next:
    nop
    nop
    nop
    j fail
.L6:
    csrci mip, MIP_SSIP
    csrwi mie, 0
    CHECK s8, IRQ_S_SOFT
    la a0, mvec + 8
    CHECK_EQ t5, a0
    la a0, .L6_next                            # mepc: the instruction that was about to run
    bltu s10, a0, fail
    addi a0, a0, 12
    bgtu s10, a0, fail
    andi a0, s7, MSTATUS_MIE | MSTATUS_MPIE
    CHECK a0, MSTATUS_MPIE
    csrr a0, mstatus
    andi a0, a0, MSTATUS_MIE
    CHECK a0, 0

    # the same interrupt in direct mode goes to BASE
    TEST 7
    la a0, trap_vector
    csrw mtvec, a0
    li t5, 0
    csrwi mie, MIP_SSIP
    csrsi mstatus, MSTATUS_MIE
    EXPECT_MTRAP .L7
    csrsi mip, MIP_SSIP
    nop
    nop
    nop
    j fail
.L7:
    csrci mip, MIP_SSIP
    csrwi mie, 0
    CHECK s8, IRQ_S_SOFT
    CHECK t5, 0

    # vectored stvec: MODE reads back; a delegated exception from U enters at BASE
    TEST 8
    la a0, svec
    ori a0, a0, 1
    csrw stvec, a0
    csrr a4, stvec
    CHECK_EQ a4, a0
    li a0, 1 << CAUSE_USER_ECALL
    csrw medeleg, a0
    li t5, 0
    GOTO_PRIV PRV_U, .Lu8
.Lu8:
    EXPECT_STRAP .Ls8
    ecall
    j fail
.Ls8:
    CHECK s4, CAUSE_USER_ECALL
    la a0, svec + 4
    CHECK_EQ t5, a0
    BACK_TO_M .Lm8
.Lm8:
    csrw medeleg, x0

    # delegated supervisor software interrupt raised by S itself through sip: stvec BASE + 4
    TEST 9
    csrwi mideleg, MIP_SSIP
    csrwi mie, MIP_SSIP
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    csrc mstatus, a0
    GOTO_PRIV PRV_S, .Ls9
.Ls9:
    li t5, 0
    csrsi sie, MIP_SSIP                        # sie.SSIE aliases mie.SSIE once delegated
    csrsi sstatus, MSTATUS_SIE
    EXPECT_STRAP .Ls9_trapped
    csrsi sip, MIP_SSIP
    nop
    nop
    nop
    j fail
.Ls9_trapped:
    csrci sip, MIP_SSIP
    CHECK s4, IRQ_S_SOFT
    la a0, svec + 8
    CHECK_EQ t5, a0
    li a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    and a0, s3, a0
    CHECK a0, MSTATUS_SPIE | MSTATUS_SPP       # SIE was 1 in S; SPP = S
    BACK_TO_M .Lm9
.Lm9:
    csrwi mie, 0
    csrw mideleg, x0
    la a0, strap_vector
    csrw stvec, a0
    la a0, trap_vector
    csrw mtvec, a0

    CODE_END

    .text
    VECTOR_TABLE mvec, trap_vector
    VECTOR_TABLE svec, strap_vector
