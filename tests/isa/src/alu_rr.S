# alu_rr: RV64I register-register integer ops add, sub, slt, sltu, and, or, xor.
# Covers 64-bit wrap-around, carries across bit 31 (no 32-bit truncation or sign extension), signed vs
# unsigned comparison edges, rd == rs1 / rd == rs2 / rs1 == rs2 forms, x0 as source and as destination.
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # add
    TEST_RR_OP  2, add, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  3, add, 0x0000000000000002, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP  4, add, 0x000000000000000a, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP  5, add, 0xffffffffffff8000, 0x0000000000000000, 0xffffffffffff8000
    TEST_RR_OP  6, add, 0xffffffff80000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP  7, add, 0xffffffff7fff8000, 0xffffffff80000000, 0xffffffffffff8000
    TEST_RR_OP  8, add, 0x8000000000000000, 0x7fffffffffffffff, 0x0000000000000001
    TEST_RR_OP  9, add, 0x0000000000000000, 0xffffffffffffffff, 0x0000000000000001
    TEST_RR_OP 10, add, 0x0000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR_OP 11, add, 0x0000000100000000, 0x00000000ffffffff, 0x0000000000000001
    TEST_RR_OP 12, add, 0x0000000080000000, 0x000000007fffffff, 0x0000000000000001

    # sub
    TEST_RR_OP 13, sub, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP 14, sub, 0x0000000000000000, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP 15, sub, 0xfffffffffffffffc, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP 16, sub, 0x0000000000008000, 0x0000000000000000, 0xffffffffffff8000
    TEST_RR_OP 17, sub, 0x7fffffffffffffff, 0x8000000000000000, 0x0000000000000001
    TEST_RR_OP 18, sub, 0xffffffffffffffff, 0x0000000000000000, 0x0000000000000001
    TEST_RR_OP 19, sub, 0x8000000000000000, 0x0000000000000000, 0x8000000000000000
    TEST_RR_OP 20, sub, 0x00000000ffffffff, 0x0000000100000000, 0x0000000000000001

    # slt (signed)
    TEST_RR_OP 21, slt, 0, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP 22, slt, 0, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP 23, slt, 1, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP 24, slt, 0, 0x0000000000000007, 0x0000000000000003
    TEST_RR_OP 25, slt, 1, 0x8000000000000000, 0x0000000000000000
    TEST_RR_OP 26, slt, 0, 0x0000000000000000, 0x8000000000000000
    TEST_RR_OP 27, slt, 0, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR_OP 28, slt, 1, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR_OP 29, slt, 1, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP 30, slt, 0, 0x0000000000000000, 0xffffffffffffffff
    TEST_RR_OP 31, slt, 0, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP 32, slt, 0, 0x00000000ffffffff, 0xffffffff80000000   # a 32-bit compare would say 1

    # sltu (unsigned)
    TEST_RR_OP 33, sltu, 0, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP 34, sltu, 1, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP 35, sltu, 0, 0x0000000000000007, 0x0000000000000003
    TEST_RR_OP 36, sltu, 0, 0x8000000000000000, 0x0000000000000000
    TEST_RR_OP 37, sltu, 1, 0x0000000000000000, 0x8000000000000000
    TEST_RR_OP 38, sltu, 0, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP 39, sltu, 1, 0x0000000000000000, 0xffffffffffffffff
    TEST_RR_OP 40, sltu, 1, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR_OP 41, sltu, 1, 0x00000000ffffffff, 0x0000000100000000   # a 32-bit compare would say 0
    TEST_RR_OP 42, sltu, 1, 0xfffffffffffffffe, 0xffffffffffffffff

    # and / or / xor
    TEST_RR_OP 43, and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
    TEST_RR_OP 44, and, 0x00f000f000f000f0, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
    TEST_RR_OP 45, and, 0x123456789abcdef0, 0xffffffffffffffff, 0x123456789abcdef0
    TEST_RR_OP 46, or,  0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
    TEST_RR_OP 47, or,  0xfff0fff0fff0fff0, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
    TEST_RR_OP 48, or,  0x8000000000000001, 0x0000000000000000, 0x8000000000000001
    TEST_RR_OP 49, xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
    TEST_RR_OP 50, xor, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
    TEST_RR_OP 51, xor, 0xedcba9876543210f, 0x123456789abcdef0, 0xffffffffffffffff

    # rs1 == rs2
    TEST_RR_SAME 52, add,  0x000000000000001a, 13
    TEST_RR_SAME 53, sub,  0, 0x8000000000000000
    TEST_RR_SAME 54, slt,  0, 0xffffffffffffffff
    TEST_RR_SAME 55, sltu, 0, 0xffffffffffffffff
    TEST_RR_SAME 56, and,  0x5a5a5a5aa5a5a5a5, 0x5a5a5a5aa5a5a5a5
    TEST_RR_SAME 57, or,   0x5a5a5a5aa5a5a5a5, 0x5a5a5a5aa5a5a5a5
    TEST_RR_SAME 58, xor,  0, 0x5a5a5a5aa5a5a5a5

    # x0 as destination is discarded
    TEST_RR_ZERODEST 59, add, 0x1234, 0x5678
    TEST_RR_ZERODEST 60, sub, 0x1234, 0x5678
    TEST_RR_ZERODEST 61, slt, 0x1, 0x5678
    TEST_RR_ZERODEST 62, sltu, 0x1, 0x5678
    TEST_RR_ZERODEST 63, or, 0x1234, 0x5678
    TEST_RR_ZERODEST 64, xor, 0x1234, 0x5678

    # x0 as a source reads 0 (neg / snez / sltz / sgtz idioms)
    TEST 65
    li a2, 0x10
    sub a4, x0, a2
    CHECK a4, 0xfffffffffffffff0
    sltu a4, x0, a2
    CHECK a4, 1
    sltu a4, x0, x0
    CHECK a4, 0
    li a2, 0xffffffffffffffff
    slt a4, a2, x0
    CHECK a4, 1
    slt a4, x0, a2
    CHECK a4, 0
    add a4, x0, x0
    CHECK a4, 0
    and a4, a2, x0
    CHECK a4, 0
    or a4, x0, a2
    CHECK a4, 0xffffffffffffffff

    CODE_END
