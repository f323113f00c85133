# div: M-extension divides div, divu, rem, remu and the word forms divw, divuw, remw, remuw.
# Signed truncation toward zero (remainder takes the dividend's sign), division by zero (quotient all ones,
# remainder = dividend; for the word forms the 32-bit dividend sign-extended), signed overflow INT_MIN / -1
# (quotient INT_MIN, remainder 0) for 64 and 32 bits, and word forms ignoring bits 63:32 of the operands.
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # div
    TEST_RR_OP   2, div   , 0x0000000000000003, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP   3, div   , 0xfffffffffffffffd, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP   4, div   , 0xfffffffffffffffd, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP   5, div   , 0x0000000000000003, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP   6, div   , 0x8000000000000000, 0x8000000000000000, 0x0000000000000001
    TEST_RR_OP   7, div   , 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP   8, div   , 0xffffffffffffffff, 0x8000000000000000, 0x0000000000000000
    TEST_RR_OP   9, div   , 0xffffffffffffffff, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP  10, div   , 0xffffffffffffffff, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  11, div   , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP  12, div   , 0x8000000000000001, 0x7fffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  13, div   , 0x3fffffffffffffff, 0x7fffffffffffffff, 0x0000000000000002
    TEST_RR_OP  14, div   , 0xffffe2b6aa67affd, 0xdeadbeefcafebabe, 0x0000000000012345
    TEST_RR_OP  15, div   , 0x0000000000000000, 0xdeadbeefcafebabe, 0x8000000000000000
    TEST_RR_OP  16, div   , 0x0000000000000000, 0x0000000000000005, 0x0000000000000007
    TEST_RR_OP  17, div   , 0x0000000000000000, 0x00000000ffffffff, 0x0000000100000000
    TEST_RR_OP  18, div   , 0x0000000000000001, 0x0000000100000000, 0x00000000ffffffff

    # divu
    TEST_RR_OP  19, divu  , 0x0000000000000003, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP  20, divu  , 0x2aaaaaaaaaaaaaa7, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP  21, divu  , 0x0000000000000000, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP  22, divu  , 0x0000000000000000, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP  23, divu  , 0x8000000000000000, 0x8000000000000000, 0x0000000000000001
    TEST_RR_OP  24, divu  , 0x0000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP  25, divu  , 0xffffffffffffffff, 0x8000000000000000, 0x0000000000000000
    TEST_RR_OP  26, divu  , 0xffffffffffffffff, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP  27, divu  , 0xffffffffffffffff, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  28, divu  , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP  29, divu  , 0x0000000000000000, 0x7fffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  30, divu  , 0x3fffffffffffffff, 0x7fffffffffffffff, 0x0000000000000002
    TEST_RR_OP  31, divu  , 0x0000c3b6fa62cc6b, 0xdeadbeefcafebabe, 0x0000000000012345
    TEST_RR_OP  32, divu  , 0x0000000000000001, 0xdeadbeefcafebabe, 0x8000000000000000
    TEST_RR_OP  33, divu  , 0x0000000000000000, 0x0000000000000005, 0x0000000000000007
    TEST_RR_OP  34, divu  , 0x0000000000000000, 0x00000000ffffffff, 0x0000000100000000
    TEST_RR_OP  35, divu  , 0x0000000000000001, 0x0000000100000000, 0x00000000ffffffff

    # rem
    TEST_RR_OP  36, rem   , 0x0000000000000002, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP  37, rem   , 0xfffffffffffffffe, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP  38, rem   , 0x0000000000000002, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP  39, rem   , 0xfffffffffffffffe, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP  40, rem   , 0x0000000000000000, 0x8000000000000000, 0x0000000000000001
    TEST_RR_OP  41, rem   , 0x0000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP  42, rem   , 0x8000000000000000, 0x8000000000000000, 0x0000000000000000
    TEST_RR_OP  43, rem   , 0x0000000000000001, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP  44, rem   , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  45, rem   , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP  46, rem   , 0x0000000000000000, 0x7fffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  47, rem   , 0x0000000000000001, 0x7fffffffffffffff, 0x0000000000000002
    TEST_RR_OP  48, rem   , 0xffffffffffffb48d, 0xdeadbeefcafebabe, 0x0000000000012345
    TEST_RR_OP  49, rem   , 0xdeadbeefcafebabe, 0xdeadbeefcafebabe, 0x8000000000000000
    TEST_RR_OP  50, rem   , 0x0000000000000005, 0x0000000000000005, 0x0000000000000007
    TEST_RR_OP  51, rem   , 0x00000000ffffffff, 0x00000000ffffffff, 0x0000000100000000
    TEST_RR_OP  52, rem   , 0x0000000000000001, 0x0000000100000000, 0x00000000ffffffff

    # remu
    TEST_RR_OP  53, remu  , 0x0000000000000002, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP  54, remu  , 0x0000000000000002, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP  55, remu  , 0x0000000000000014, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP  56, remu  , 0xffffffffffffffec, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP  57, remu  , 0x0000000000000000, 0x8000000000000000, 0x0000000000000001
    TEST_RR_OP  58, remu  , 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP  59, remu  , 0x8000000000000000, 0x8000000000000000, 0x0000000000000000
    TEST_RR_OP  60, remu  , 0x0000000000000001, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP  61, remu  , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  62, remu  , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP  63, remu  , 0x7fffffffffffffff, 0x7fffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  64, remu  , 0x0000000000000001, 0x7fffffffffffffff, 0x0000000000000002
    TEST_RR_OP  65, remu  , 0x00000000000000e7, 0xdeadbeefcafebabe, 0x0000000000012345
    TEST_RR_OP  66, remu  , 0x5eadbeefcafebabe, 0xdeadbeefcafebabe, 0x8000000000000000
    TEST_RR_OP  67, remu  , 0x0000000000000005, 0x0000000000000005, 0x0000000000000007
    TEST_RR_OP  68, remu  , 0x00000000ffffffff, 0x00000000ffffffff, 0x0000000100000000
    TEST_RR_OP  69, remu  , 0x0000000000000001, 0x0000000100000000, 0x00000000ffffffff

    # divw
    TEST_RR_OP  70, divw  , 0x0000000000000003, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP  71, divw  , 0xfffffffffffffffd, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP  72, divw  , 0xfffffffffffffffd, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP  73, divw  , 0x0000000000000003, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP  74, divw  , 0xffffffff80000000, 0xffffffff80000000, 0x0000000000000001
    TEST_RR_OP  75, divw  , 0xffffffff80000000, 0xffffffff80000000, 0xffffffffffffffff
    TEST_RR_OP  76, divw  , 0xffffffff80000000, 0x0000000080000000, 0x00000000ffffffff
    TEST_RR_OP  77, divw  , 0xffffffffffffffff, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP  78, divw  , 0xffffffffffffffff, 0x0000000080000000, 0x0000000000000000
    TEST_RR_OP  79, divw  , 0xffffffffffffffff, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP  80, divw  , 0xffffffffffffffff, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  81, divw  , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP  82, divw  , 0xffffffffffffffff, 0x000000007fffffff, 0x0000000000000000
    TEST_RR_OP  83, divw  , 0x000000003fffffff, 0x123456787fffffff, 0xabcdef0000000002
    TEST_RR_OP  84, divw  , 0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000001
    TEST_RR_OP  85, divw  , 0x0000000000000000, 0x00000000ffffffff, 0x0000000000000002
    TEST_RR_OP  86, divw  , 0x0000000000000002, 0x00000000fffffffe, 0x00000000ffffffff
    TEST_RR_OP  87, divw  , 0x0000000000000002, 0x0000000100000007, 0x0000000100000003
    TEST_RR_OP  88, divw  , 0xffffffffffffe2b7, 0x00000000deadbeef, 0xffffffff00012345

    # divuw
    TEST_RR_OP  89, divuw , 0x0000000000000003, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP  90, divuw , 0x000000002aaaaaa7, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP  91, divuw , 0x0000000000000000, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP  92, divuw , 0x0000000000000000, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP  93, divuw , 0xffffffff80000000, 0xffffffff80000000, 0x0000000000000001
    TEST_RR_OP  94, divuw , 0x0000000000000000, 0xffffffff80000000, 0xffffffffffffffff
    TEST_RR_OP  95, divuw , 0x0000000000000000, 0x0000000080000000, 0x00000000ffffffff
    TEST_RR_OP  96, divuw , 0xffffffffffffffff, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP  97, divuw , 0xffffffffffffffff, 0x0000000080000000, 0x0000000000000000
    TEST_RR_OP  98, divuw , 0xffffffffffffffff, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP  99, divuw , 0xffffffffffffffff, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP 100, divuw , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP 101, divuw , 0xffffffffffffffff, 0x000000007fffffff, 0x0000000000000000
    TEST_RR_OP 102, divuw , 0x000000003fffffff, 0x123456787fffffff, 0xabcdef0000000002
    TEST_RR_OP 103, divuw , 0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000001
    TEST_RR_OP 104, divuw , 0x000000007fffffff, 0x00000000ffffffff, 0x0000000000000002
    TEST_RR_OP 105, divuw , 0x0000000000000000, 0x00000000fffffffe, 0x00000000ffffffff
    TEST_RR_OP 106, divuw , 0x0000000000000002, 0x0000000100000007, 0x0000000100000003
    TEST_RR_OP 107, divuw , 0x000000000000c3b6, 0x00000000deadbeef, 0xffffffff00012345

    # remw
    TEST_RR_OP 108, remw  , 0x0000000000000002, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP 109, remw  , 0xfffffffffffffffe, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP 110, remw  , 0x0000000000000002, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP 111, remw  , 0xfffffffffffffffe, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP 112, remw  , 0x0000000000000000, 0xffffffff80000000, 0x0000000000000001
    TEST_RR_OP 113, remw  , 0x0000000000000000, 0xffffffff80000000, 0xffffffffffffffff
    TEST_RR_OP 114, remw  , 0x0000000000000000, 0x0000000080000000, 0x00000000ffffffff
    TEST_RR_OP 115, remw  , 0xffffffff80000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP 116, remw  , 0xffffffff80000000, 0x0000000080000000, 0x0000000000000000
    TEST_RR_OP 117, remw  , 0x0000000000000001, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP 118, remw  , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP 119, remw  , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP 120, remw  , 0x000000007fffffff, 0x000000007fffffff, 0x0000000000000000
    TEST_RR_OP 121, remw  , 0x0000000000000001, 0x123456787fffffff, 0xabcdef0000000002
    TEST_RR_OP 122, remw  , 0x0000000000000000, 0x00000000ffffffff, 0x0000000000000001
    TEST_RR_OP 123, remw  , 0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000002
    TEST_RR_OP 124, remw  , 0x0000000000000000, 0x00000000fffffffe, 0x00000000ffffffff
    TEST_RR_OP 125, remw  , 0x0000000000000001, 0x0000000100000007, 0x0000000100000003
    TEST_RR_OP 126, remw  , 0xffffffffffff9e9c, 0x00000000deadbeef, 0xffffffff00012345

    # remuw
    TEST_RR_OP 127, remuw , 0x0000000000000002, 0x0000000000000014, 0x0000000000000006
    TEST_RR_OP 128, remuw , 0x0000000000000002, 0xffffffffffffffec, 0x0000000000000006
    TEST_RR_OP 129, remuw , 0x0000000000000014, 0x0000000000000014, 0xfffffffffffffffa
    TEST_RR_OP 130, remuw , 0xffffffffffffffec, 0xffffffffffffffec, 0xfffffffffffffffa
    TEST_RR_OP 131, remuw , 0x0000000000000000, 0xffffffff80000000, 0x0000000000000001
    TEST_RR_OP 132, remuw , 0xffffffff80000000, 0xffffffff80000000, 0xffffffffffffffff
    TEST_RR_OP 133, remuw , 0xffffffff80000000, 0x0000000080000000, 0x00000000ffffffff
    TEST_RR_OP 134, remuw , 0xffffffff80000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP 135, remuw , 0xffffffff80000000, 0x0000000080000000, 0x0000000000000000
    TEST_RR_OP 136, remuw , 0x0000000000000001, 0x0000000000000001, 0x0000000000000000
    TEST_RR_OP 137, remuw , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP 138, remuw , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000000
    TEST_RR_OP 139, remuw , 0x000000007fffffff, 0x000000007fffffff, 0x0000000000000000
    TEST_RR_OP 140, remuw , 0x0000000000000001, 0x123456787fffffff, 0xabcdef0000000002
    TEST_RR_OP 141, remuw , 0x0000000000000000, 0x00000000ffffffff, 0x0000000000000001
    TEST_RR_OP 142, remuw , 0x0000000000000001, 0x00000000ffffffff, 0x0000000000000002
    TEST_RR_OP 143, remuw , 0xfffffffffffffffe, 0x00000000fffffffe, 0x00000000ffffffff
    TEST_RR_OP 144, remuw , 0x0000000000000001, 0x0000000100000007, 0x0000000100000003
    TEST_RR_OP 145, remuw , 0x0000000000011ce1, 0x00000000deadbeef, 0xffffffff00012345

    TEST_RR_ZERODEST 146, div, 7, 0
    TEST_RR_ZERODEST 147, remu, 7, 0
    TEST_RR_SAME 148, div, 1, 0x8000000000000000
    TEST_RR_SAME 149, rem, 0, 0xffffffffffffffff
    TEST_RR_SAME 150, divuw, 0xffffffffffffffff, 0xffffffff00000000                  # 0 / 0
    TEST_RR_SAME 151, remw, 0, 0xffffffff80000000

    CODE_END
