# alu_imm: RV64I immediate ops addi, slti, sltiu, andi, ori, xori and the upper-immediate ops lui, auipc.
# Immediates at -2048/2047 and their sign extension to 64 bits (also for sltiu, which then compares
# unsigned), lui/auipc results sign-extended from bit 31, auipc relative to its own address, x0 dest.
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # addi
    TEST_IMM_OP  2, addi, 0x0000000000000000, 0x0000000000000000, 0
    TEST_IMM_OP  3, addi, 0x0000000000000002, 0x0000000000000001, 1
    TEST_IMM_OP  4, addi, 0x000000000000000a, 0x0000000000000003, 7
    TEST_IMM_OP  5, addi, 0xfffffffffffff800, 0x0000000000000000, -2048
    TEST_IMM_OP  6, addi, 0x8000000000000000, 0x8000000000000000, 0
    TEST_IMM_OP  7, addi, 0x7ffffffffffff800, 0x8000000000000000, -2048
    TEST_IMM_OP  8, addi, 0x00000000000007ff, 0x0000000000000000, 2047
    TEST_IMM_OP  9, addi, 0x80000000000007fe, 0x7fffffffffffffff, 2047
    TEST_IMM_OP 10, addi, 0x8000000000000000, 0x7fffffffffffffff, 1
    TEST_IMM_OP 11, addi, 0x0000000000000000, 0xffffffffffffffff, 1
    TEST_IMM_OP 12, addi, 0x0000000080000000, 0x000000007fffffff, 1
    TEST_IMM_OP 13, addi, 0x0000000100000000, 0x00000000ffffffff, 1

    # slti (signed)
    TEST_IMM_OP 14, slti, 0, 0x0000000000000000, 0
    TEST_IMM_OP 15, slti, 0, 0x0000000000000001, 1
    TEST_IMM_OP 16, slti, 1, 0x0000000000000003, 7
    TEST_IMM_OP 17, slti, 0, 0x0000000000000007, 3
    TEST_IMM_OP 18, slti, 0, 0x0000000000000000, -2048
    TEST_IMM_OP 19, slti, 1, 0x8000000000000000, 0
    TEST_IMM_OP 20, slti, 1, 0x8000000000000000, -2048
    TEST_IMM_OP 21, slti, 1, 0x0000000000000000, 2047
    TEST_IMM_OP 22, slti, 0, 0x7fffffffffffffff, 2047
    TEST_IMM_OP 23, slti, 1, 0xffffffffffffffff, 0
    TEST_IMM_OP 24, slti, 0, 0xffffffffffffffff, -1
    TEST_IMM_OP 25, slti, 0, 0x00000000ffffffff, -1

    # sltiu (immediate sign-extended, then unsigned compare)
    TEST_IMM_OP 26, sltiu, 0, 0x0000000000000000, 0
    TEST_IMM_OP 27, sltiu, 1, 0x0000000000000003, 7
    TEST_IMM_OP 28, sltiu, 0, 0x0000000000000007, 3
    TEST_IMM_OP 29, sltiu, 1, 0x0000000000000000, -2048
    TEST_IMM_OP 30, sltiu, 1, 0x8000000000000000, -2048
    TEST_IMM_OP 31, sltiu, 1, 0xfffffffffffff7ff, -2048
    TEST_IMM_OP 32, sltiu, 0, 0xfffffffffffff800, -2048
    TEST_IMM_OP 33, sltiu, 0, 0xffffffffffffffff, -1
    TEST_IMM_OP 34, sltiu, 1, 0xfffffffffffffffe, -1
    TEST_IMM_OP 35, sltiu, 1, 0x0000000000000000, 1
    TEST_IMM_OP 36, sltiu, 0, 0x0000000000000001, 1
    TEST_IMM_OP 37, sltiu, 0, 0x7fffffffffffffff, 2047
    TEST_IMM_OP 38, sltiu, 1, 0x00000000ffffffff, -1

    # andi / ori / xori (immediate sign-extended)
    TEST_IMM_OP 39, andi, 0x0000000000000700, 0xff00ff00ff00ff00, 0x70f
    TEST_IMM_OP 40, andi, 0x00000000000000f0, 0x0ff00ff00ff00ff0, 0x0f0
    TEST_IMM_OP 41, andi, 0xff00ff00ff00ff00, 0xff00ff00ff00ff00, -241
    TEST_IMM_OP 42, andi, 0xf00ff00ff00ff000, 0xf00ff00ff00ff00f, -16
    TEST_IMM_OP 43, andi, 0x123456789abcd800, 0x123456789abcdef0, -2048
    TEST_IMM_OP 44, ori,  0xffffffffffffff0f, 0xffffffffff00ff00, -241
    TEST_IMM_OP 45, ori,  0x0ff00ff00ff00ff0, 0x0ff00ff00ff00ff0, 0x0f0
    TEST_IMM_OP 46, ori,  0x00ff00ff00ff07ff, 0x00ff00ff00ff00ff, 0x70f
    TEST_IMM_OP 47, ori,  0xfffffffffffff800, 0x0000000000000000, -2048
    TEST_IMM_OP 48, ori,  0x8000000000000000, 0x8000000000000000, 0
    TEST_IMM_OP 49, xori, 0xffffffffff00f00f, 0x0000000000ff0f00, -241
    TEST_IMM_OP 50, xori, 0x0ff00ff00ff00f00, 0x0ff00ff00ff00ff0, 0x0f0
    TEST_IMM_OP 51, xori, 0x0000000000ff0ff0, 0x0000000000ff08ff, 0x70f
    TEST_IMM_OP 52, xori, 0xedcba9876543210f, 0x123456789abcdef0, -1

    # x0 destination (addi x0 is the canonical nop) and x0 source (li idiom)
    TEST 53
    li a1, 0x55
    addi x0, a1, 1
    CHECK x0, 0
    slti x0, a1, 0x7ff
    CHECK x0, 0
    xori x0, a1, -1
    CHECK x0, 0
    addi a4, x0, -1
    CHECK a4, 0xffffffffffffffff
    ori a4, x0, 0x7ff
    CHECK a4, 0x7ff

    # lui: imm << 12, sign-extended from bit 31
    TEST 54
    lui a4, 0
    CHECK a4, 0
    lui a4, 0xfffff
    CHECK a4, 0xfffffffffffff000
    lui a4, 0x7ffff
    CHECK a4, 0x000000007ffff000
    lui a4, 0x80000
    CHECK a4, 0xffffffff80000000
    srai a4, a4, 12
    CHECK a4, 0xfffffffffff80000
    lui a4, 0x12345
    CHECK a4, 0x0000000012345000
    lui x0, 0x80000
    CHECK x0, 0

    # auipc: pc + (imm << 12), the immediate sign-extended from bit 31
    TEST 55
.Lauipc0:
    auipc a4, 0
    CHECK_ADDR a4, .Lauipc0
.Lauipc1:
    auipc a4, 1
    la a5, .Lauipc1
    sub a4, a4, a5
    CHECK a4, 0x1000
.Lauipc2:
    auipc a4, 0xfffff
    la a5, .Lauipc2
    sub a4, a4, a5
    CHECK a4, 0xfffffffffffff000
.Lauipc3:
    auipc a4, 0x80000
    la a5, .Lauipc3
    sub a4, a4, a5
    CHECK a4, 0xffffffff80000000
.Lauipc4:
    auipc a4, 0x7ffff
    la a5, .Lauipc4
    sub a4, a4, a5
    CHECK a4, 0x000000007ffff000
    auipc x0, 0x12345
    CHECK x0, 0

    CODE_END
