# counters: cycle/time/instret access and mcounteren/scounteren gating; WFI rules.
# M-mode always reads cycle, time, instret; instret counts retired instructions and cycle advances;
# from S a counter needs its mcounteren bit, from U both its mcounteren and scounteren bits (bit 0 CY,
# 1 TM, 2 IR, each gated on its own), otherwise the read raises illegal-instruction with mtval = the bits.
# hpmcounter3 is gated the same way (its mcounteren bit is 0 here).
# WFI: no-op in M and in S with mstatus.TW = 0; illegal in U and in S with TW = 1.
    .include "macros.inc"

.equ INSN_RDCYCLE_A0, 0xc0002573               # csrr a0, cycle
.equ INSN_RDTIME_A0, 0xc0102573                # csrr a0, time
.equ INSN_RDINSTRET_A0, 0xc0202573             # csrr a0, instret
.equ INSN_WFI, 0x10500073
.equ INSN_RDHPM3_A0, 0xc0302573                # csrr a0, hpmcounter3

# The counter read given as raw bits must succeed (no trap) in the current mode.
.macro READ_OK bits
    .word \bits
.endm

# qemu's WFI really waits for an interrupt: on qemu only, leave a masked one pending so it returns.
.macro WFI_PREP
.ifdef QEMU_SYSTEM
    csrwi mideleg, 2
    csrwi mie, 2
    csrsi mip, 2
.endif
.endm
.macro WFI_DONE
.ifdef QEMU_SYSTEM
    csrci mip, 2
    csrwi mie, 0
    csrwi mideleg, 0
.endif
.endm

    CODE_BEGIN

    # M-mode reads all three; instret counts the instructions in between
    TEST 2
    rdinstret a1
    nop
    nop
    nop
    nop
    rdinstret a2
    sub a3, a2, a1
.ifndef QEMU_SYSTEM                            # qemu counts host ticks, not instructions
    addi a3, a3, -4
    sltiu a3, a3, 3                            # 5 (4 nops + the read) give or take the reads themselves
    CHECK a3, 1
.endif
    rdcycle a1
    nop
    rdcycle a2
    bltu a2, a1, fail
    rdtime a1

    # mcounteren / scounteren hold the three bits
    TEST 3
    csrwi mcounteren, 7
    csrr a4, mcounteren
    andi a4, a4, 7
    CHECK a4, 7
    csrwi scounteren, 7
    csrr a4, scounteren
    andi a4, a4, 7
    CHECK a4, 7

    # mcounteren = 0: S and U may not read any counter
    TEST 4
    csrwi mcounteren, 0
    csrwi scounteren, 7
    GOTO_PRIV PRV_S, .Ls4
.Ls4:
    EXPECT_ILLEGAL INSN_RDCYCLE_A0
    TEST 5
    GOTO_PRIV PRV_S, .Ls5
.Ls5:
    EXPECT_ILLEGAL INSN_RDTIME_A0
    TEST 6
    GOTO_PRIV PRV_S, .Ls6
.Ls6:
    EXPECT_ILLEGAL INSN_RDINSTRET_A0
    TEST 7
    GOTO_PRIV PRV_U, .Lu7
.Lu7:
    EXPECT_ILLEGAL INSN_RDCYCLE_A0

    # mcounteren = 7, scounteren = 0: S reads everything, U nothing
    TEST 8
    csrwi mcounteren, 7
    csrwi scounteren, 0
    GOTO_PRIV PRV_S, .Ls8
.Ls8:
    READ_OK INSN_RDCYCLE_A0
    READ_OK INSN_RDTIME_A0
    READ_OK INSN_RDINSTRET_A0
    BACK_TO_M .Lm8
.Lm8:
    TEST 9
    GOTO_PRIV PRV_U, .Lu9
.Lu9:
    EXPECT_ILLEGAL INSN_RDINSTRET_A0
    TEST 10
    GOTO_PRIV PRV_U, .Lu10
.Lu10:
    EXPECT_ILLEGAL INSN_RDTIME_A0

    # both enabled: U reads everything
    TEST 11
    csrwi scounteren, 7
    GOTO_PRIV PRV_U, .Lu11
.Lu11:
    READ_OK INSN_RDCYCLE_A0
    READ_OK INSN_RDTIME_A0
    READ_OK INSN_RDINSTRET_A0
    BACK_TO_M .Lm11
.Lm11:

    # per-bit gating: mcounteren = CY | IR only, so time is illegal from S while cycle/instret are not
    TEST 12
    csrwi mcounteren, 5
    GOTO_PRIV PRV_S, .Ls12
.Ls12:
    READ_OK INSN_RDCYCLE_A0
    READ_OK INSN_RDINSTRET_A0
    EXPECT_ILLEGAL INSN_RDTIME_A0

    # per-bit gating in U: scounteren = TM only
    TEST 13
    csrwi mcounteren, 7
    csrwi scounteren, 2
    GOTO_PRIV PRV_U, .Lu13
.Lu13:
    READ_OK INSN_RDTIME_A0
    EXPECT_ILLEGAL INSN_RDCYCLE_A0
    csrwi mcounteren, 0
    csrwi scounteren, 0

    # WFI is a no-op in M
    TEST 14
    WFI_PREP
    li a4, 0
    wfi
    addi a4, a4, 1
    WFI_DONE
    CHECK a4, 1

    # WFI in S with TW = 0 is a no-op
    TEST 15
    WFI_PREP
    li a4, 0
    GOTO_PRIV PRV_S, .Ls15
.Ls15:
    wfi
    addi a4, a4, 1
    BACK_TO_M .Lm15
.Lm15:
    WFI_DONE
    CHECK a4, 1
    CHECK s8, CAUSE_SUPERVISOR_ECALL

    # WFI in U is illegal
    TEST 16
    GOTO_PRIV PRV_U, .Lu16
.Lu16:
    EXPECT_ILLEGAL INSN_WFI

    # WFI in S with TW = 1 is illegal
    TEST 17
    li a0, MSTATUS_TW
    csrs mstatus, a0
    GOTO_PRIV PRV_S, .Ls17
.Ls17:
    EXPECT_ILLEGAL INSN_WFI
    li a0, MSTATUS_TW
    csrc mstatus, a0

    # hpmcounter3 from S and U: its mcounteren/scounteren bit is clear (bits 3..31 are 0 here), so illegal
    TEST 18
    li a0, -1
    csrw mcounteren, a0
    csrw scounteren, a0
    csrr a4, mcounteren
    srli a4, a4, 3
    andi a4, a4, 1
    bnez a4, .Lhpm_done                        # HPM3 bit implemented: nothing to check here
    GOTO_PRIV PRV_S, .Ls18
.Ls18:
    EXPECT_ILLEGAL INSN_RDHPM3_A0
    TEST 19
    GOTO_PRIV PRV_U, .Lu19
.Lu19:
    EXPECT_ILLEGAL INSN_RDHPM3_A0
.Lhpm_done:
    csrwi mcounteren, 0
    csrwi scounteren, 0

    CODE_END
