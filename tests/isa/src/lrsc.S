# lrsc: A-extension load-reserved / store-conditional, word and doubleword.
# lr.w sign-extends; sc succeeds (rd = 0, memory written) right after lr to the same address; sc without
# a reservation, after a successful sc, or to an address outside the reservation set fails (rd != 0, no
# write); every sc, successful or not, invalidates the reservation; sc.w writes only 32 bits; a
# lr/sc retry loop makes progress; aq/rl encodings.
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # lr.d / sc.d success
    TEST 2
    la a1, res_a
    li a2, 0x1122334455667788
    sd a2, 0(a1)
    lr.d a4, (a1)
    CHECK a4, 0x1122334455667788
    li a3, 0x0123456789abcdef
    sc.d a5, a3, (a1)
    CHECK a5, 0
    ld a4, 0(a1)
    CHECK a4, 0x0123456789abcdef

    # a second sc.d without a new lr fails and leaves memory alone
    TEST 3
    li a3, 0xdead
    sc.d a5, a3, (a1)
    beqz a5, fail
    ld a4, 0(a1)
    CHECK a4, 0x0123456789abcdef

    # sc.d with no lr at all since the last sc fails
    TEST 4
    la a1, res_a
    li a3, 0xbeef
    sc.d a5, a3, (a1)
    beqz a5, fail
    ld a4, 0(a1)
    CHECK a4, 0x0123456789abcdef

    # lr.w sign-extends; sc.w success writes only the addressed word
    TEST 5
    la a1, res_a
    li a2, 0xa5a5a5a580000000
    sd a2, 0(a1)
    lr.w a4, (a1)
    CHECK a4, 0xffffffff80000000
    li a3, 0xffffffff00000007                  # only rs2[31:0] is stored
    sc.w a5, a3, (a1)
    CHECK a5, 0
    ld a4, 0(a1)
    CHECK a4, 0xa5a5a5a500000007

    # sc.w without reservation fails
    TEST 6
    li a3, 0x99
    sc.w a5, a3, (a1)
    beqz a5, fail
    ld a4, 0(a1)
    CHECK a4, 0xa5a5a5a500000007

    # sc to an address outside the reservation set fails, and the failed sc kills the reservation
    TEST 7
    la a1, res_a
    la a6, res_b                               # another page
    li a2, 0x42
    sd a2, 0(a6)
    lr.d a4, (a1)
    li a3, 0x77
    sc.d a5, a3, (a6)
    beqz a5, fail
    ld a4, 0(a6)
    CHECK a4, 0x42
    sc.d a5, a3, (a1)                          # reservation already invalidated by the failed sc
    beqz a5, fail
    ld a4, 0(a1)
    CHECK a4, 0xa5a5a5a500000007

    # lr/sc with aq/rl bits, rd = x0 for sc discards the status but the store happens
    TEST 8
    la a1, res_a
    lr.d.aq a4, (a1)
    CHECK a4, 0xa5a5a5a500000007
    li a3, 0x5555
    sc.d.rl a5, a3, (a1)
    CHECK a5, 0
    lr.w.aqrl a4, (a1)
    CHECK a4, 0x5555
    li a3, 0x6666
    sc.w.aqrl x0, a3, (a1)
    CHECK x0, 0
    ld a4, 0(a1)
    CHECK a4, 0x6666

    # sc with rd == rs2: the old rs2 is stored, then rd = 0
    TEST 9
    la a1, res_a
    lr.d a4, (a1)
    li a3, 0xabcdef
    sc.d a3, a3, (a1)
    CHECK a3, 0
    ld a4, 0(a1)
    CHECK a4, 0xabcdef

    # atomic increment with a retry loop: 100 iterations must add exactly 100
    TEST 10
    la a1, res_a
    sd x0, 0(a1)
    li a6, 100
.Linc_loop:
    lr.d a4, (a1)
    addi a4, a4, 1
    sc.d a5, a4, (a1)
    bnez a5, .Linc_loop
    addi a6, a6, -1
    bnez a6, .Linc_loop
    ld a4, 0(a1)
    CHECK a4, 100

    CODE_END

    DATA_BEGIN
res_a:
    .dword 0, 0
    .balign 4096
res_b:
    .dword 0
