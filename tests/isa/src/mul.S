# mul: M-extension multiplies mul, mulh, mulhsu, mulhu, mulw.
# Low and high halves of the 128-bit product for signed x signed, signed x unsigned and unsigned x
# unsigned operands at the edges (0, 1, -1, INT64_MIN, INT64_MAX, 2^32-1, 2^32, mixed patterns); mulw
# takes the low 32 bits of the operands, ignores bits 63:32 and sign-extends its 32-bit result.
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # mul
    TEST_RR_OP   2, mul   , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP   3, mul   , 0x0000000000000001, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP   4, mul   , 0x0000000000000015, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP   5, mul   , 0x0000000000000000, 0x0000000000000000, 0xffffffffffff8000
    TEST_RR_OP   6, mul   , 0x0000000000000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP   7, mul   , 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP   8, mul   , 0x0000000000000001, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP   9, mul   , 0x0000000000000001, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_RR_OP  10, mul   , 0x0000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR_OP  11, mul   , 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR_OP  12, mul   , 0x000000000000ff7f, 0xaaaaaaaaaaaaaaab, 0x000000000002fe7d
    TEST_RR_OP  13, mul   , 0x000000000000ff7f, 0x000000000002fe7d, 0xaaaaaaaaaaaaaaab
    TEST_RR_OP  14, mul   , 0xfffffffe00000001, 0x00000000ffffffff, 0x00000000ffffffff
    TEST_RR_OP  15, mul   , 0x0000000000000000, 0x0000000100000000, 0x0000000100000000
    TEST_RR_OP  16, mul   , 0xca165e3e6f4690de, 0xdeadbeefcafebabe, 0x123456789abcdef1
    TEST_RR_OP  17, mul   , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000001
    TEST_RR_OP  18, mul   , 0xffffffffffffffff, 0x0000000000000001, 0xffffffffffffffff
    TEST_RR_OP  19, mul   , 0x0000000000000000, 0x8000000000000000, 0x0000000000000002
    TEST_RR_OP  20, mul   , 0x4000000000000000, 0xffffffff80000000, 0xffffffff80000000

    # mulh
    TEST_RR_OP  21, mulh  , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  22, mulh  , 0x0000000000000000, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP  23, mulh  , 0x0000000000000000, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP  24, mulh  , 0x0000000000000000, 0x0000000000000000, 0xffffffffffff8000
    TEST_RR_OP  25, mulh  , 0x0000000000000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP  26, mulh  , 0x0000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP  27, mulh  , 0x0000000000000000, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  28, mulh  , 0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_RR_OP  29, mulh  , 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR_OP  30, mulh  , 0xc000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR_OP  31, mulh  , 0xffffffffffff0081, 0xaaaaaaaaaaaaaaab, 0x000000000002fe7d
    TEST_RR_OP  32, mulh  , 0xffffffffffff0081, 0x000000000002fe7d, 0xaaaaaaaaaaaaaaab
    TEST_RR_OP  33, mulh  , 0x0000000000000000, 0x00000000ffffffff, 0x00000000ffffffff
    TEST_RR_OP  34, mulh  , 0x0000000000000001, 0x0000000100000000, 0x0000000100000000
    TEST_RR_OP  35, mulh  , 0xfda16776506d22e7, 0xdeadbeefcafebabe, 0x123456789abcdef1
    TEST_RR_OP  36, mulh  , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000001
    TEST_RR_OP  37, mulh  , 0xffffffffffffffff, 0x0000000000000001, 0xffffffffffffffff
    TEST_RR_OP  38, mulh  , 0xffffffffffffffff, 0x8000000000000000, 0x0000000000000002
    TEST_RR_OP  39, mulh  , 0x0000000000000000, 0xffffffff80000000, 0xffffffff80000000

    # mulhsu
    TEST_RR_OP  40, mulhsu, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  41, mulhsu, 0x0000000000000000, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP  42, mulhsu, 0x0000000000000000, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP  43, mulhsu, 0x0000000000000000, 0x0000000000000000, 0xffffffffffff8000
    TEST_RR_OP  44, mulhsu, 0x0000000000000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP  45, mulhsu, 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP  46, mulhsu, 0xffffffffffffffff, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  47, mulhsu, 0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_RR_OP  48, mulhsu, 0xc000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR_OP  49, mulhsu, 0x3fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR_OP  50, mulhsu, 0xffffffffffff0081, 0xaaaaaaaaaaaaaaab, 0x000000000002fe7d
    TEST_RR_OP  51, mulhsu, 0x000000000001fefe, 0x000000000002fe7d, 0xaaaaaaaaaaaaaaab
    TEST_RR_OP  52, mulhsu, 0x0000000000000000, 0x00000000ffffffff, 0x00000000ffffffff
    TEST_RR_OP  53, mulhsu, 0x0000000000000001, 0x0000000100000000, 0x0000000100000000
    TEST_RR_OP  54, mulhsu, 0xfda16776506d22e7, 0xdeadbeefcafebabe, 0x123456789abcdef1
    TEST_RR_OP  55, mulhsu, 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000001
    TEST_RR_OP  56, mulhsu, 0x0000000000000000, 0x0000000000000001, 0xffffffffffffffff
    TEST_RR_OP  57, mulhsu, 0xffffffffffffffff, 0x8000000000000000, 0x0000000000000002
    TEST_RR_OP  58, mulhsu, 0xffffffff80000000, 0xffffffff80000000, 0xffffffff80000000

    # mulhu
    TEST_RR_OP  59, mulhu , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  60, mulhu , 0x0000000000000000, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP  61, mulhu , 0x0000000000000000, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP  62, mulhu , 0x0000000000000000, 0x0000000000000000, 0xffffffffffff8000
    TEST_RR_OP  63, mulhu , 0x0000000000000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP  64, mulhu , 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP  65, mulhu , 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  66, mulhu , 0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_RR_OP  67, mulhu , 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR_OP  68, mulhu , 0x3fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR_OP  69, mulhu , 0x000000000001fefe, 0xaaaaaaaaaaaaaaab, 0x000000000002fe7d
    TEST_RR_OP  70, mulhu , 0x000000000001fefe, 0x000000000002fe7d, 0xaaaaaaaaaaaaaaab
    TEST_RR_OP  71, mulhu , 0x0000000000000000, 0x00000000ffffffff, 0x00000000ffffffff
    TEST_RR_OP  72, mulhu , 0x0000000000000001, 0x0000000100000000, 0x0000000100000000
    TEST_RR_OP  73, mulhu , 0x0fd5bdeeeb2a01d8, 0xdeadbeefcafebabe, 0x123456789abcdef1
    TEST_RR_OP  74, mulhu , 0x0000000000000000, 0xffffffffffffffff, 0x0000000000000001
    TEST_RR_OP  75, mulhu , 0x0000000000000000, 0x0000000000000001, 0xffffffffffffffff
    TEST_RR_OP  76, mulhu , 0x0000000000000001, 0x8000000000000000, 0x0000000000000002
    TEST_RR_OP  77, mulhu , 0xffffffff00000000, 0xffffffff80000000, 0xffffffff80000000

    # mulw
    TEST_RR_OP  78, mulw  , 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    TEST_RR_OP  79, mulw  , 0x0000000000000001, 0x0000000000000001, 0x0000000000000001
    TEST_RR_OP  80, mulw  , 0x0000000000000015, 0x0000000000000003, 0x0000000000000007
    TEST_RR_OP  81, mulw  , 0x0000000000000000, 0x0000000000000000, 0xffffffffffff8000
    TEST_RR_OP  82, mulw  , 0x0000000000000000, 0xffffffff80000000, 0x0000000000000000
    TEST_RR_OP  83, mulw  , 0x0000000000000000, 0x8000000000000000, 0xffffffffffffffff
    TEST_RR_OP  84, mulw  , 0x0000000000000001, 0xffffffffffffffff, 0xffffffffffffffff
    TEST_RR_OP  85, mulw  , 0x0000000000000001, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_RR_OP  86, mulw  , 0x0000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR_OP  87, mulw  , 0x0000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RR_OP  88, mulw  , 0x000000000000ff7f, 0xaaaaaaaaaaaaaaab, 0x000000000002fe7d
    TEST_RR_OP  89, mulw  , 0x000000000000ff7f, 0x000000000002fe7d, 0xaaaaaaaaaaaaaaab
    TEST_RR_OP  90, mulw  , 0x0000000000000001, 0x00000000ffffffff, 0x00000000ffffffff
    TEST_RR_OP  91, mulw  , 0x0000000000000000, 0x0000000100000000, 0x0000000100000000
    TEST_RR_OP  92, mulw  , 0x000000006f4690de, 0xdeadbeefcafebabe, 0x123456789abcdef1
    TEST_RR_OP  93, mulw  , 0xffffffffffffffff, 0xffffffffffffffff, 0x0000000000000001
    TEST_RR_OP  94, mulw  , 0xffffffffffffffff, 0x0000000000000001, 0xffffffffffffffff
    TEST_RR_OP  95, mulw  , 0x0000000000000000, 0x8000000000000000, 0x0000000000000002
    TEST_RR_OP  96, mulw  , 0x0000000000000000, 0xffffffff80000000, 0xffffffff80000000
    TEST_RR_OP  97, mulw  , 0xfffffffffffffffe, 0x000000007fffffff, 0x0000000000000002
    TEST_RR_OP  98, mulw  , 0x0000000000000000, 0x1234567800010000, 0xabcdef0000010000
    TEST_RR_OP  99, mulw  , 0xffffffff80000000, 0x0000000080000000, 0x0000000000000001
    TEST_RR_OP 100, mulw  , 0xffffffffffffffff, 0x000000000000ffff, 0x0000000000010001

    TEST_RR_ZERODEST 101, mul, 3, 5
    TEST_RR_ZERODEST 102, mulhu, -1, -1
    TEST_RR_SAME 103, mulh, 0x4000000000000000, 0x8000000000000000     # (-2^63)^2 >> 64 = 2^62
    TEST_RR_SAME 104, mulhsu, 0xc000000000000000, 0x8000000000000000   # -2^63 * 2^63 >> 64 = -2^62
    TEST_RR_SAME 105, mulhu, 0xfffffffffffffffe, 0xffffffffffffffff

    CODE_END
