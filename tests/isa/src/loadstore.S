# loadstore: RV64I loads lb, lh, lw, ld, lbu, lhu, lwu and stores sb, sh, sw, sd.
# Sign vs zero extension for every width, positive/negative/extreme (-2048, 2047) offsets, stores that
# must only touch their own bytes (and only the low bits of rs2), x0 as store source and load destination,
# and misaligned accesses of every width (performed by rasplat's hardware, also across a page boundary).
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # sign-extending loads
    TEST_LD  2, lb, 0xffffffffffffffff, 0, bytes
    TEST_LD  3, lb, 0x0000000000000000, 1, bytes
    TEST_LD  4, lb, 0xfffffffffffffff0, 2, bytes
    TEST_LD  5, lb, 0x000000000000000f, 3, bytes
    TEST_LD  6, lb, 0x000000000000007f, 4, bytes
    TEST_LD  7, lb, 0xffffffffffffff80, 5, bytes
    TEST_LD  8, lh, 0x00000000000000ff, 0, halves
    TEST_LD  9, lh, 0xffffffffffffff00, 2, halves
    TEST_LD 10, lh, 0x0000000000000ff0, 4, halves
    TEST_LD 11, lh, 0xfffffffffffff00f, 6, halves
    TEST_LD 12, lh, 0xffffffffffff8000, 8, halves
    TEST_LD 13, lw, 0x0000000000ff00ff, 0, words
    TEST_LD 14, lw, 0xffffffffff00ff00, 4, words
    TEST_LD 15, lw, 0x000000000ff00ff0, 8, words
    TEST_LD 16, lw, 0xfffffffff00ff00f, 12, words
    TEST_LD 17, lw, 0xffffffff80000000, 16, words
    TEST_LD 18, ld, 0x00ff00ff00ff00ff, 0, dwords
    TEST_LD 19, ld, 0xff00ff00ff00ff00, 8, dwords
    TEST_LD 20, ld, 0x0ff00ff00ff00ff0, 16, dwords
    TEST_LD 21, ld, 0xf00ff00ff00ff00f, 24, dwords

    # zero-extending loads
    TEST_LD 22, lbu, 0x00000000000000ff, 0, bytes
    TEST_LD 23, lbu, 0x0000000000000000, 1, bytes
    TEST_LD 24, lbu, 0x00000000000000f0, 2, bytes
    TEST_LD 25, lbu, 0x0000000000000080, 5, bytes
    TEST_LD 26, lhu, 0x00000000000000ff, 0, halves
    TEST_LD 27, lhu, 0x000000000000ff00, 2, halves
    TEST_LD 28, lhu, 0x000000000000f00f, 6, halves
    TEST_LD 29, lhu, 0x0000000000008000, 8, halves
    TEST_LD 30, lwu, 0x0000000000ff00ff, 0, words
    TEST_LD 31, lwu, 0x00000000ff00ff00, 4, words
    TEST_LD 32, lwu, 0x00000000f00ff00f, 12, words
    TEST_LD 33, lwu, 0x0000000080000000, 16, words

    # negative and extreme offsets
    TEST_LD 34, lb,  0xffffffffffffff80, -1, bytes + 6
    TEST_LD 35, lhu, 0x000000000000ff00, -8, halves + 10
    TEST_LD 36, lw,  0xfffffffff00ff00f, -4, words + 16
    TEST_LD 37, ld,  0x0ff00ff00ff00ff0, -16, dwords + 32
    TEST_LD 38, ld,  0xff00ff00ff00ff00, 2047, dwords + 8 - 2047
    TEST_LD 39, lbu, 0x00000000000000f0, -2048, bytes + 2 + 2048
    TEST_LD 40, lwu, 0x00000000ff00ff00, -2048, words + 4 + 2048

    # load into x0 is discarded
    TEST 41
    la a1, dwords
    ld x0, 8(a1)
    CHECK x0, 0
    lb x0, 0(a1)
    CHECK x0, 0

    # store then reload, every width
    TEST_ST 42, lb,  sb, 0xffffffffffffffaa, 0xaa, 0, scratch
    TEST_ST 43, lbu, sb, 0x00000000000000aa, 0xaa, 1, scratch
    TEST_ST 44, lb,  sb, 0x0000000000000055, 0xffffffffffffff55, 7, scratch  # only rs2[7:0] is stored
    TEST_ST 45, lh,  sh, 0xffffffffffffaa00, 0xaa00, 2, scratch
    TEST_ST 46, lhu, sh, 0x000000000000aa00, 0xaa00, 4, scratch
    TEST_ST 47, lh,  sh, 0x0000000000001234, 0x5678123456781234, 6, scratch
    TEST_ST 48, lw,  sw, 0xffffffffaa00aa00, 0xaa00aa00, 8, scratch
    TEST_ST 49, lwu, sw, 0x00000000aa00aa00, 0xaa00aa00, 12, scratch
    TEST_ST 50, lw,  sw, 0x000000000a0b0c0d, 0xffffffff0a0b0c0d, 16, scratch
    TEST_ST 51, ld,  sd, 0xaa00aa00aa00aa00, 0xaa00aa00aa00aa00, 24, scratch
    TEST_ST 52, ld,  sd, 0x0123456789abcdef, 0x0123456789abcdef, -8, scratch + 40
    TEST_ST 53, lw,  sw, 0x0000000012345678, 0x12345678, 2047, scratch + 40 - 2047
    TEST_ST 54, lh,  sh, 0xffffffffffff8001, 0x8001, -2048, scratch + 44 + 2048

    # narrow stores leave the neighbouring bytes alone (little-endian byte lanes)
    TEST 55
    la a1, scratch
    li a2, 0x1122334455667788
    sd a2, 0(a1)
    li a3, 0xab
    sb a3, 3(a1)
    ld a4, 0(a1)
    CHECK a4, 0x11223344ab667788
    li a3, 0xcdef
    sh a3, 6(a1)
    ld a4, 0(a1)
    CHECK a4, 0xcdef3344ab667788
    li a3, 0x0badf00d
    sw a3, 0(a1)
    ld a4, 0(a1)
    CHECK a4, 0xcdef33440badf00d
    lbu a4, 4(a1)
    CHECK a4, 0x44
    lhu a4, 4(a1)
    CHECK a4, 0x3344
    sd x0, 0(a1)                           # x0 as source stores zero
    ld a4, 0(a1)
    CHECK a4, 0

    # misaligned loads of every width (rasplat performs them in hardware)
    TEST 56
    la a1, dwords
    lh a4, 1(a1)
    CHECK a4, 0xffffffffffffff00
    lhu a4, 3(a1)
    CHECK a4, 0x000000000000ff00
    lw a4, 1(a1)
    CHECK a4, 0xffffffffff00ff00
    lw a4, 2(a1)
    CHECK a4, 0x0000000000ff00ff
    lwu a4, 3(a1)
    CHECK a4, 0x00000000ff00ff00
    lw a4, 7(a1)                           # bytes 7..10: 00 00 ff 00
    CHECK a4, 0x0000000000ff0000
    ld a4, 1(a1)
    CHECK a4, 0x0000ff00ff00ff00
    ld a4, 4(a1)
    CHECK a4, 0xff00ff0000ff00ff
    ld a4, 7(a1)
    CHECK a4, 0x00ff00ff00ff0000

    # misaligned stores, then aligned reloads
    TEST 57
    la a1, scratch
    sd x0, 0(a1)
    sd x0, 8(a1)
    li a2, 0x8899aabbccddeeff
    sd a2, 3(a1)
    ld a4, 0(a1)
    CHECK a4, 0xbbccddeeff000000
    ld a4, 8(a1)
    CHECK a4, 0x00000000008899aa
    li a2, 0x01020304
    sw a2, 13(a1)                          # bytes 13..16
    ld a4, 8(a1)
    CHECK a4, 0x02030400008899aa
    lbu a4, 16(a1)
    CHECK a4, 0x01
    li a2, 0xbeef
    sh a2, 1(a1)
    ld a4, 0(a1)
    CHECK a4, 0xbbccddeeffbeef00

    # rd == rs1: the base is read before the load overwrites it
    TEST 58
    la a1, dwords
    ld a1, 8(a1)
    CHECK a1, 0xff00ff00ff00ff00
    la a1, words
    lw a1, 4(a1)
    CHECK a1, 0xffffffffff00ff00

    # misaligned access straddling a 4 KiB page boundary
    TEST 59
    la a1, page_end
    li a2, 0x0706050403020100
    sd a2, -4(a1)
    lwu a4, -4(a1)
    CHECK a4, 0x03020100
    lwu a4, 0(a1)
    CHECK a4, 0x07060504
    ld a4, -4(a1)
    CHECK a4, 0x0706050403020100
    lh a4, -1(a1)
    CHECK a4, 0x0403

    CODE_END

    DATA_BEGIN
bytes:
    .byte 0xff, 0x00, 0xf0, 0x0f, 0x7f, 0x80, 0x00, 0x00
halves:
    .half 0x00ff, 0xff00, 0x0ff0, 0xf00f, 0x8000, 0x0000
    .balign 8
words:
    .word 0x00ff00ff, 0xff00ff00, 0x0ff00ff0, 0xf00ff00f, 0x80000000, 0
dwords:
    .dword 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf00ff00ff00ff00f
scratch:
    .skip 64
    .balign 4096
    .skip 4096
page_end:                                  # first byte of the next page
    .skip 16
