# illegal: illegal-instruction and breakpoint exceptions.
# mcause 2 with mtval = the instruction bits (the 16-bit parcel, zero-extended, for a compressed one) and
# mepc = its address for: the all-zero word, 0xffffffff, the reserved compressed encodings (0x0000,
# c.addi4spn/c.addi16sp/c.lui with zero immediate, c.lwsp/c.ldsp/c.addiw with rd = x0, c.jr x0, quadrant-0
# funct3 = 100) and C.D loads/stores without D; reserved 32-bit encodings (custom-0, bad funct7/funct3
# combinations, RV64 shamt[5] = 1 in the W shifts, F loads, funct3 holes in LOAD/STORE/BRANCH/JALR/OP-32,
# AMO widths and funct5 holes, uret). ebreak and c.ebreak give mcause 3, mtval = mepc = their address;
# both from M, S and U (mtval = 0 would also be allowed by the spec; rasplat promises the address).
    .include "macros.inc"

.macro TEST_ILLEGAL32 n, bits
    TEST \n
    EXPECT_ILLEGAL \bits
.endm

.macro TEST_ILLEGAL16 n, bits
    TEST \n
    EXPECT_MTRAP .Lok\@
.Linsn\@:
    .half \bits
    .half 0x0001                               # c.nop: keeps the jump below 4-byte aligned
    j fail
.Lok\@:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, \bits
    CHECK_ADDR s10, .Linsn\@
.endm

# rasplat reports the ebreak address in mtval (the spec also allows 0, which qemu 7.2 writes).
.macro CHECK_BREAK_TVAL label
.ifndef QEMU_SYSTEM
    CHECK_ADDR s9, \label
.endif
.endm

    CODE_BEGIN

    TEST_ILLEGAL32  2, 0x00000000              # all zeros (its first parcel is the defined-illegal 0x0000)
    TEST_ILLEGAL32  3, 0xffffffff              # all ones
    TEST_ILLEGAL16  4, 0x0000                  # defined illegal
    TEST_ILLEGAL16  5, 0x0004                  # c.addi4spn x9, sp, 0: reserved (nzuimm = 0)
    TEST_ILLEGAL16  6, 0x6101                  # c.addi16sp sp, 0: reserved
    TEST_ILLEGAL16  7, 0x6501                  # c.lui a0, 0: reserved
    TEST_ILLEGAL16  8, 0x4002                  # c.lwsp x0: reserved
    TEST_ILLEGAL16  9, 0x6002                  # c.ldsp x0: reserved
    TEST_ILLEGAL16 10, 0x8002                  # c.jr x0: reserved
    TEST_ILLEGAL16 11, 0x2001                  # c.addiw x0: reserved
    TEST_ILLEGAL16 12, 0x2000                  # c.fld: no D extension
    TEST_ILLEGAL16 13, 0x8000                  # quadrant 0, funct3 = 100: reserved
    TEST_ILLEGAL16 14, 0xa000                  # c.fsd: no D extension
    TEST_ILLEGAL16 15, 0x2002                  # c.fldsp: no D extension
    TEST_ILLEGAL32 16, 0x0000000b              # custom-0 opcode: not implemented
    TEST_ILLEGAL32 17, 0x40001033              # OP funct7 = 0100000, funct3 = 001 (sll): reserved
    TEST_ILLEGAL32 18, 0x40001013              # slli with imm[11:6] = 010000: reserved
    TEST_ILLEGAL32 19, 0x0200501b              # srliw with shamt[5] = 1: reserved on RV64
    TEST_ILLEGAL32 20, 0x0200101b              # slliw with shamt[5] = 1: reserved on RV64
    TEST_ILLEGAL32 21, 0x00002007              # flw: no F extension
    TEST_ILLEGAL32 22, 0x00007003              # LOAD funct3 = 111
    TEST_ILLEGAL32 23, 0x00004023              # STORE funct3 = 100
    TEST_ILLEGAL32 24, 0x00002063              # BRANCH funct3 = 010
    TEST_ILLEGAL32 25, 0x00001067              # JALR funct3 = 001
    TEST_ILLEGAL32 26, 0x0200103b              # OP-32 funct7 = 0000001, funct3 = 001
    TEST_ILLEGAL32 27, 0x0000002f              # AMO width 000 (no byte AMOs)
    TEST_ILLEGAL32 28, 0xf800302f              # AMO funct5 = 11111
    TEST_ILLEGAL32 29, 0x00200073              # uret: no N extension
    TEST_ILLEGAL32 30, 0x0000003f              # 48-bit length prefix: no such instructions (ILEN = 32)

    # ebreak in M: cause 3, mtval = mepc = pc
    TEST 31
    EXPECT_MTRAP .L31
.L31_insn:
    ebreak
    j fail
.L31:
    CHECK s8, CAUSE_BREAKPOINT
    CHECK_BREAK_TVAL .L31_insn
    CHECK_ADDR s10, .L31_insn

    # c.ebreak in M
    TEST 32
    EXPECT_MTRAP .L32
    .option push
    .option rvc
.L32_insn:
    c.ebreak
    c.nop
    .option pop
    j fail
.L32:
    CHECK s8, CAUSE_BREAKPOINT
    CHECK_BREAK_TVAL .L32_insn
    CHECK_ADDR s10, .L32_insn

    # ebreak from U and c.ebreak from S
    TEST 33
    GOTO_PRIV PRV_U, .Lu33
.Lu33:
    EXPECT_MTRAP .L33
.L33_insn:
    ebreak
    j fail
.L33:
    CHECK s8, CAUSE_BREAKPOINT
    CHECK_BREAK_TVAL .L33_insn
    srli a0, s7, 11
    andi a0, a0, 3
    CHECK a0, PRV_U
    TEST 34
    GOTO_PRIV PRV_S, .Ls34
.Ls34:
    EXPECT_MTRAP .L34
    .option push
    .option rvc
.L34_insn:
    c.ebreak
    c.nop
    .option pop
    j fail
.L34:
    CHECK s8, CAUSE_BREAKPOINT
    CHECK_BREAK_TVAL .L34_insn
    CHECK_ADDR s10, .L34_insn
    srli a0, s7, 11
    andi a0, a0, 3
    CHECK a0, PRV_S

    # illegal instructions from U (32-bit) and S (16-bit) trap to M the same way
    TEST 35
    GOTO_PRIV PRV_U, .Lu35
.Lu35:
    EXPECT_MTRAP .L35
.L35_insn:
    .word 0xffffffff
    j fail
.L35:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, 0xffffffff
    CHECK_ADDR s10, .L35_insn
    srli a0, s7, 11
    andi a0, a0, 3
    CHECK a0, PRV_U
    TEST 36
    GOTO_PRIV PRV_S, .Ls36
.Ls36:
    EXPECT_MTRAP .L36
.L36_insn:
    .half 0x0000
    .half 0x0001
    j fail
.L36:
    CHECK s8, CAUSE_ILLEGAL
    CHECK s9, 0
    CHECK_ADDR s10, .L36_insn
    srli a0, s7, 11
    andi a0, a0, 3
    CHECK a0, PRV_S

    CODE_END
