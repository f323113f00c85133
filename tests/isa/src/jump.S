# jump: RV64I jal and jalr.
# Link value pc+4 for both, rd = x0 (no link), backward jal, jalr with positive / negative / odd offsets
# and odd base (bit 0 of the target is cleared, no exception), and jalr with rd == rs1 (the target uses the
# old rs1).
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # jal: link = address of jal + 4
    TEST 2
    li ra, 0
.Ljal1:
    jal ra, .Ljal1_target
    j fail
.Ljal1_target:
    la a5, .Ljal1
    addi a5, a5, 4
    CHECK_EQ ra, a5

    # jal with another rd, and x0 (plain jump: nothing written)
    TEST 3
.Ljal2:
    jal t0, .Ljal2_target
    j fail
.Ljal2_target:
    la a5, .Ljal2
    addi a5, a5, 4
    CHECK_EQ t0, a5
    jal x0, .Ljal3_target
    j fail
.Ljal3_target:
    CHECK x0, 0

    # jal backward
    TEST 4
    li a4, 0
    j .Ljal4_fwd
.Ljal4_back:
    li a4, 1
    j .Ljal4_done
.Ljal4_fwd:
    jal a3, .Ljal4_back
    j fail
.Ljal4_done:
    CHECK a4, 1

    # jalr: zero offset, link = pc+4
    TEST 5
    la t0, .Ljalr5_target
.Ljalr5:
    jalr ra, 0(t0)
    j fail
.Ljalr5_target:
    la a5, .Ljalr5
    addi a5, a5, 4
    CHECK_EQ ra, a5

    # jalr: positive and negative offsets
    TEST 6
    la t0, .Ljalr6_target - 16
    jalr ra, 16(t0)
    j fail
.Ljalr6_target:
    la t0, .Ljalr6_target2 + 2040
    jalr ra, -2040(t0)
    j fail
.Ljalr6_target2:

    # jalr clears bit 0 of the target: odd base, odd offset
    TEST 7
    la t0, .Ljalr7_target
    addi t0, t0, 1
    jalr ra, 0(t0)
    j fail
.Ljalr7_target:
    la t0, .Ljalr7_target2
    jalr ra, 1(t0)
    j fail
.Ljalr7_target2:
    la t0, .Ljalr7_target3 - 3
    jalr ra, 4(t0)                          # base + 4 is odd
    j fail
.Ljalr7_target3:

    # jalr rd == rs1: target from the old value, then link written
    TEST 8
    la ra, .Ljalr8_target
.Ljalr8:
    jalr ra, 0(ra)
    j fail
.Ljalr8_target:
    la a5, .Ljalr8
    addi a5, a5, 4
    CHECK_EQ ra, a5

    # jalr x0 (jr / ret): no link
    TEST 9
    la t1, .Ljalr9_target
    jalr x0, 0(t1)
    j fail
.Ljalr9_target:
    CHECK x0, 0

    # call/return through a real subroutine, link register reused
    TEST 10
    li a0, 5
    call .Lsub_double
    CHECK a0, 10
    call .Lsub_double
    CHECK a0, 20
    j .Ljump_done
.Lsub_double:
    add a0, a0, a0
    ret
.Ljump_done:

    CODE_END
