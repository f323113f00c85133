# amo: A-extension AMOs amoswap, amoadd, amoxor, amoand, amoor, amomin, amomax, amominu, amomaxu in .w and
# .d forms. rd receives the old memory value (sign-extended from 32 bits for .w); memory receives the
# result; .w ops use only rs2[31:0], compare as 32-bit (signed or unsigned) and leave the neighbouring
# word untouched. Also rd = x0, rd == rs2, rd == rs1, and the aq/rl encodings.
# variant: unprivileged
    .include "macros.inc"

# Word AMO on a word whose neighbour holds a sentinel; checks rd, the new word and the sentinel.
.macro TEST_AMO_W n, inst, mem, val, rd_expected, mem_expected
    TEST \n
    la a1, amo_buf
    li a2, \mem
    sw a2, 0(a1)
    li a2, 0x5a5a5a5a
    sw a2, 4(a1)
    li a3, \val
    \inst a4, a3, (a1)
    CHECK a4, \rd_expected
    lwu a5, 0(a1)
    CHECK a5, \mem_expected
    lwu a5, 4(a1)
    CHECK a5, 0x5a5a5a5a
.endm

# Doubleword AMO; checks rd and the new doubleword.
.macro TEST_AMO_D n, inst, mem, val, mem_expected
    TEST \n
    la a1, amo_buf
    li a2, \mem
    sd a2, 0(a1)
    li a3, \val
    \inst a4, a3, (a1)
    CHECK a4, \mem
    ld a5, 0(a1)
    CHECK a5, \mem_expected
.endm

    CODE_BEGIN

    # amoswap.w / amoadd.w
    TEST_AMO_W  2, amoswap.w, 0x80000000, 0x12345678, 0xffffffff80000000, 0x12345678
    TEST_AMO_W  3, amoswap.w, 0x7fffffff, 0xdeadbeef00000001, 0x7fffffff, 0x00000001
    TEST_AMO_W  4, amoadd.w,  0x7fffffff, 1, 0x7fffffff, 0x80000000
    TEST_AMO_W  5, amoadd.w,  0xffffffff, 0x0000000100000001, 0xffffffffffffffff, 0x00000000
    TEST_AMO_W  6, amoadd.w,  0x80000000, 0xffffffffffffffff, 0xffffffff80000000, 0x7fffffff
    # amoxor.w / amoand.w / amoor.w
    TEST_AMO_W  7, amoxor.w,  0xff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0xf0f0f0f0
    TEST_AMO_W  8, amoand.w,  0xff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0x0f000f00
    TEST_AMO_W  9, amoor.w,   0xff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0xfff0fff0
    TEST_AMO_W 10, amoand.w,  0xffffffff, 0x123456780000ffff, 0xffffffffffffffff, 0x0000ffff
    # amomin.w / amomax.w: 32-bit signed compare
    TEST_AMO_W 11, amomin.w,  0x80000000, 0x7fffffff, 0xffffffff80000000, 0x80000000
    TEST_AMO_W 12, amomin.w,  0x00000005, 0xfffffffffffffffd, 0x5, 0xfffffffd
    TEST_AMO_W 13, amomin.w,  0x00000001, 0x00000000fffffffe, 0x1, 0xfffffffe   # rs2[31:0] = -2
    TEST_AMO_W 14, amomax.w,  0x80000000, 0x7fffffff, 0xffffffff80000000, 0x7fffffff
    TEST_AMO_W 15, amomax.w,  0x00000001, 0x00000000fffffffe, 0x1, 0x00000001
    TEST_AMO_W 16, amomax.w,  0xfffffffe, 0xffffffff, 0xfffffffffffffffe, 0xffffffff
    # amominu.w / amomaxu.w: 32-bit unsigned compare, rs2[63:32] ignored
    TEST_AMO_W 17, amominu.w, 0x80000000, 0x7fffffff, 0xffffffff80000000, 0x7fffffff
    TEST_AMO_W 18, amominu.w, 0x00000001, 0xfffffffe, 0x1, 0x00000001
    TEST_AMO_W 19, amominu.w, 0x00000005, 0x0000000100000003, 0x5, 0x00000003
    TEST_AMO_W 20, amomaxu.w, 0x80000000, 0x7fffffff, 0xffffffff80000000, 0x80000000
    TEST_AMO_W 21, amomaxu.w, 0x00000001, 0xfffffffe, 0x1, 0xfffffffe
    TEST_AMO_W 22, amomaxu.w, 0x00000005, 0xffffffff00000003, 0x5, 0x00000005

    # doubleword forms
    TEST_AMO_D 23, amoswap.d, 0x8000000000000000, 0x0123456789abcdef, 0x0123456789abcdef
    TEST_AMO_D 24, amoadd.d,  0x7fffffffffffffff, 1, 0x8000000000000000
    TEST_AMO_D 25, amoadd.d,  0x00000000ffffffff, 1, 0x0000000100000000
    TEST_AMO_D 26, amoadd.d,  0xffffffffffffffff, 0xffffffffffffffff, 0xfffffffffffffffe
    TEST_AMO_D 27, amoxor.d,  0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
    TEST_AMO_D 28, amoand.d,  0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00
    TEST_AMO_D 29, amoor.d,   0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xfff0fff0fff0fff0
    TEST_AMO_D 30, amomin.d,  0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_AMO_D 31, amomin.d,  0xffffffffffffffff, 0, 0xffffffffffffffff
    TEST_AMO_D 32, amomin.d,  0x0000000100000000, 0x00000000ffffffff, 0x00000000ffffffff
    TEST_AMO_D 33, amomax.d,  0x8000000000000000, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_AMO_D 34, amomax.d,  0xffffffffffffffff, 0, 0
    TEST_AMO_D 35, amomax.d,  0x00000000ffffffff, 0x0000000100000000, 0x0000000100000000
    TEST_AMO_D 36, amominu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_AMO_D 37, amominu.d, 0xffffffffffffffff, 0, 0
    TEST_AMO_D 38, amominu.d, 0x0000000100000000, 0x00000000ffffffff, 0x00000000ffffffff
    TEST_AMO_D 39, amomaxu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    TEST_AMO_D 40, amomaxu.d, 0xffffffffffffffff, 0, 0xffffffffffffffff
    TEST_AMO_D 41, amomaxu.d, 0x00000000ffffffff, 0x0000000100000000, 0x0000000100000000

    # aq / rl / aqrl encodings behave the same
    TEST_AMO_D 42, amoadd.d.aq,   10, 5, 15
    TEST_AMO_D 43, amoadd.d.rl,   10, 5, 15
    TEST_AMO_D 44, amoadd.d.aqrl, 10, 5, 15
    TEST_AMO_W 45, amoor.w.aqrl,  0x1, 0x80000000, 0x1, 0x80000001

    # rd = x0 still updates memory
    TEST 46
    la a1, amo_buf
    li a2, 100
    sd a2, 0(a1)
    li a3, 23
    amoadd.d x0, a3, (a1)
    CHECK x0, 0
    ld a5, 0(a1)
    CHECK a5, 123
    amoswap.w x0, x0, (a1)
    ld a5, 0(a1)
    CHECK a5, 0

    # rd == rs2: the operation uses the old rs2, rd then gets the old memory value
    TEST 47
    la a1, amo_buf
    li a2, 0x1111
    sd a2, 0(a1)
    li a3, 0x2222
    amoswap.d a3, a3, (a1)
    CHECK a3, 0x1111
    ld a5, 0(a1)
    CHECK a5, 0x2222
    li a3, 0x1
    amoadd.w a3, a3, (a1)
    CHECK a3, 0x2222
    ld a5, 0(a1)
    CHECK a5, 0x2223

    # rd == rs1: the address is read before rd is written
    TEST 48
    la a1, amo_buf
    mv a6, a1
    li a2, 40
    sd a2, 0(a1)
    li a3, 2
    amoadd.d a1, a3, (a1)
    CHECK a1, 40
    ld a5, 0(a6)
    CHECK a5, 42

    CODE_END

    DATA_BEGIN
amo_buf:
    .dword 0, 0
