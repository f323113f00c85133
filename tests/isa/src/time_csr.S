# time_csr: the time CSR is real time (a read-only shadow of the platform timer): it never runs backwards,
# neither over a stretch of execution nor when M-mode rewrites the instruction and cycle counters.
    .include "macros.inc"
    CODE_BEGIN

    # non-decreasing over a loop
    TEST 2
    rdtime a2
    li a0, 1000
1:  addi a0, a0, -1
    bnez a0, 1b
    rdtime a3
    bltu a3, a2, fail

    # rewriting minstret / mcycle (up, then down to 0) must not move time backwards
    TEST 3
    li a1, 0x1000000
    csrw minstret, a1
    csrw mcycle, a1
    rdtime a2
    csrw minstret, x0
    csrw mcycle, x0
    rdtime a3
    bltu a3, a2, fail

    CODE_END
