# csr: Zicsr instructions and CSR access rules in M-mode (plus S/U access to higher-privilege CSRs).
# csrrw/csrrs/csrrc and csrrwi/csrrsi/csrrci return the old value and write the new one (uimm is
# zero-extended); csrrs/csrrc with rs1 = x0 and csrrsi/csrrci with uimm = 0 do not write, so they may read
# read-only CSRs, while any form that writes one (even csrrs with a zero register) is illegal; cycle/time/
# instret (0xC00-0xC02) are read-only, mcycle/minstret writable and independent of each other;
# unimplemented CSR numbers are illegal on read and write; S-mode access to M CSRs and U-mode access to
# S CSRs is illegal. Illegal CSR accesses report mtval = the instruction bits and mepc = their address.
# Also misa, mhartid, mstatus.SXL/UXL, mepc/sepc bit 0 and WARL fields mtvec.MODE / mstatus.MPP
# rejecting reserved values.
    .include "macros.inc"

# A CSR instruction given as raw bits must raise illegal-instruction in M with mtval = those bits.
.macro TEST_CSR_ILLEGAL n, insn_bits
    TEST \n
    EXPECT_MTRAP .Lok\@
.Linsn\@:
    .word \insn_bits
    j fail
.Lok\@:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, \insn_bits
    CHECK_ADDR s10, .Linsn\@
    lwu a0, 0(s10)
    CHECK_EQ s9, a0
.endm

    CODE_BEGIN

    # csrrw: old value out, new value in, all 64 bits
    TEST 2
    li a1, 0x0123456789abcdef
    csrw mscratch, a1
    li a2, 0xfedcba9876543210
    csrrw a4, mscratch, a2
    CHECK a4, 0x0123456789abcdef
    csrr a5, mscratch
    CHECK a5, 0xfedcba9876543210

    # csrrs / csrrc: set and clear bits, return the old value
    TEST 3
    li a1, 0xff00ff0000000000
    csrw mscratch, a1
    li a2, 0x00000000000000ff
    csrrs a4, mscratch, a2
    CHECK a4, 0xff00ff0000000000
    csrr a5, mscratch
    CHECK a5, 0xff00ff00000000ff
    li a2, 0xf0000000000000f0
    csrrc a4, mscratch, a2
    CHECK a4, 0xff00ff00000000ff
    csrr a5, mscratch
    CHECK a5, 0x0f00ff000000000f

    # immediate forms: 5-bit uimm, zero-extended
    TEST 4
    li a1, 0xffffffffffffffff
    csrw mscratch, a1
    csrrwi a4, mscratch, 31
    CHECK a4, 0xffffffffffffffff
    csrr a5, mscratch
    CHECK a5, 31                              # not sign-extended
    csrrci a4, mscratch, 0x15
    CHECK a4, 31
    csrr a5, mscratch
    CHECK a5, 0x0a
    csrrsi a4, mscratch, 0x11
    CHECK a4, 0x0a
    csrr a5, mscratch
    CHECK a5, 0x1b
    csrrwi a4, mscratch, 0
    CHECK a4, 0x1b
    csrr a5, mscratch
    CHECK a5, 0

    # rs1 = x0 / uimm = 0 read without writing; rd = x0 writes without needing the result
    TEST 5
    li a1, 0x5555
    csrw mscratch, a1
    csrrs a4, mscratch, x0
    CHECK a4, 0x5555
    csrrc a4, mscratch, x0
    CHECK a4, 0x5555
    csrrsi a4, mscratch, 0
    CHECK a4, 0x5555
    csrrci a4, mscratch, 0
    CHECK a4, 0x5555
    csrr a5, mscratch
    CHECK a5, 0x5555
    li a2, 0xaaaa
    csrrs x0, mscratch, a2
    csrr a5, mscratch
    CHECK a5, 0xffff
    csrrwi x0, mscratch, 7
    csrr a5, mscratch
    CHECK a5, 7

    # rd == rs1: the old CSR value lands in the register, the register's old value in the CSR
    TEST 6
    li a1, 0x1111
    csrw mscratch, a1
    li a1, 0x2222
    csrrw a1, mscratch, a1
    CHECK a1, 0x1111
    csrr a5, mscratch
    CHECK a5, 0x2222
    li a1, 0x000f
    csrrs a1, mscratch, a1
    CHECK a1, 0x2222
    csrr a5, mscratch
    CHECK a5, 0x222f

    # read-only machine information registers are readable without trapping
    TEST 7
    csrr a4, mhartid
    CHECK a4, 0
    csrr a4, mvendorid
    csrr a4, marchid
    csrr a4, mimpid
    csrrs a4, mhartid, x0
    CHECK a4, 0
    csrrsi a4, mhartid, 0
    CHECK a4, 0
    csrrc a4, mvendorid, x0
    csrrci a4, marchid, 0

    # misa: MXL = 2 (64-bit) and exactly the extensions I, M, A, C, S, U
    TEST 8
    csrr a4, misa
    srli a5, a4, 62
    CHECK a5, 2
    li a6, (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)
    li a7, (1 << 26) - 1
    and a5, a4, a7
    CHECK_EQ a5, a6

    # mstatus.SXL = UXL = 2 (64-bit S and U modes)
    TEST 9
    csrr a4, mstatus
    srli a4, a4, 32
    andi a4, a4, 0xf
    CHECK a4, 0xa

    # writes to read-only CSRs are illegal, even when the value written is the current one or zero
    TEST_CSR_ILLEGAL 10, 0xf1459073           # csrrw x0, mhartid, a1
    # Zicsr: rs1 != x0 means "write", whatever the register holds (qemu 7.2 wrongly looks at the value).
.ifndef QEMU_SYSTEM
    li a1, 0
    TEST_CSR_ILLEGAL 11, 0xf145a073           # csrrs x0, mhartid, a1  (a1 = 0: still a write)
.endif
    TEST_CSR_ILLEGAL 12, 0xf1405073           # csrrwi x0, mhartid, 0  (csrrw always writes)
    TEST_CSR_ILLEGAL 13, 0xf110e073           # csrrsi x0, mvendorid, 1
    TEST_CSR_ILLEGAL 14, 0xc0059073           # csrrw x0, cycle, a1
    TEST_CSR_ILLEGAL 15, 0xc0159073           # csrrw x0, time, a1
    TEST_CSR_ILLEGAL 16, 0xc0259073           # csrrw x0, instret, a1
    TEST_CSR_ILLEGAL 17, 0xc0017073           # csrrci x0, cycle, 2
.ifndef QEMU_SYSTEM
    li a1, 0
    TEST_CSR_ILLEGAL 18, 0xf135b573           # csrrc a0, mimpid, a1  (a1 = 0: still a write)
.endif

    # the user counters are readable from M-mode with the non-writing forms
    TEST 19
    csrr a4, cycle
    csrr a4, time
    csrr a4, instret
    csrrsi a4, cycle, 0

    # mcycle and minstret are writable (qemu counts host ticks there, so only the writes run on qemu)
    TEST 20
    li a1, 0x100000
    csrw minstret, a1
    csrr a4, minstret
.ifndef QEMU_SYSTEM
    sub a4, a4, a1
    sltiu a4, a4, 3                            # a couple of retirements at most
    CHECK a4, 1
.endif
    csrw mcycle, a1
    csrr a4, mcycle
.ifndef QEMU_SYSTEM
    sub a4, a4, a1
    li a5, 1000
    sltu a4, a4, a5
    CHECK a4, 1
.endif

    # CSR numbers that do not exist are illegal to read and to write
    TEST_CSR_ILLEGAL 21, 0x3ff02573           # csrr a0, 0x3ff
    TEST_CSR_ILLEGAL 22, 0x3ff59073           # csrw 0x3ff, a1
    TEST_CSR_ILLEGAL 23, 0x0ff02573           # csrr a0, 0x0ff
    TEST_CSR_ILLEGAL 24, 0x1ff02573           # csrr a0, 0x1ff

    # mepc / sepc: bit 0 always reads zero (IALIGN = 16, so bit 1 is kept); qemu 7.2 keeps bit 0
.ifndef QEMU_SYSTEM
    TEST 25
    li a1, 0x0000000088001237
    csrw mepc, a1
    csrr a4, mepc
    CHECK a4, 0x0000000088001236
    csrw sepc, a1
    csrr a4, sepc
    CHECK a4, 0x0000000088001236
.endif

    # WARL fields reject reserved values: mtvec.MODE = 2, mstatus.MPP = 2
    TEST 26
    csrr s1, mtvec
    la a1, trap_vector
    ori a1, a1, 2
    csrw mtvec, a1
    csrr a4, mtvec
    csrw mtvec, s1
    andi a4, a4, 3
    li a5, 2
    beq a4, a5, fail
.ifndef QEMU_SYSTEM                            # qemu 7.2 keeps MPP = 2
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    li a1, 2 << 11
    csrs mstatus, a1
    csrr a4, mstatus
    li a1, MSTATUS_MPP
    and a4, a4, a1
    li a5, 2 << 11
    beq a4, a5, fail
.endif

    # S-mode may use S CSRs but not M CSRs (illegal-instruction trap to M, from S)
    TEST 27
    GOTO_PRIV PRV_S, .Ls_mode
.Ls_mode:
    li a1, 0x77
    csrw sscratch, a1
    csrr a4, sscratch
    CHECK a4, 0x77
    EXPECT_MTRAP .Ls_trapped
.Ls_insn:
    csrr a4, mscratch
    j fail
.Ls_trapped:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, 0x34002773                       # csrr a4, mscratch
    CHECK_ADDR s10, .Ls_insn
    li a1, MSTATUS_MPP
    and a1, s7, a1
    CHECK a1, PRV_S << 11

    TEST 28
    GOTO_PRIV PRV_S, .Ls_mode2
.Ls_mode2:
    EXPECT_MTRAP .Ls_trapped2
    csrw mhartid, x0                           # read-only and M-level: illegal either way
    j fail
.Ls_trapped2:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, 0xf1401073

    # U-mode may not touch S CSRs
    TEST 29
    GOTO_PRIV PRV_U, .Lu_mode
.Lu_mode:
    EXPECT_MTRAP .Lu_trapped
.Lu_insn:
    csrr a4, sstatus
    j fail
.Lu_trapped:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, 0x10002773                       # csrr a4, sstatus
    CHECK_ADDR s10, .Lu_insn
    li a1, MSTATUS_MPP
    and a1, s7, a1
    CHECK a1, PRV_U << 11

    # mcycle and minstret are separate counters: writing one leaves the other alone
    TEST 30
    li a1, 0x100000
    csrw minstret, a1
    csrw mcycle, x0
    csrr a4, minstret
    bltu a4, a1, fail                          # must still be at least 0x100000
    li a1, 0x300000
    csrw mcycle, a1
    csrw minstret, x0
    csrr a4, mcycle
    bltu a4, a1, fail

    CODE_END
