# user alu: RV64I integer and branch behaviour on pseudo-random operands (xorshift64), 400 iterations.
# Every register-register, immediate and word op, variable shifts (amount from the random operand),
# signed/unsigned compares and all six branch conditions feed accumulators, so any single wrong result
# changes the published registers. Compared bit-for-bit against qemu-user.
    .include "common.inc"
    START

    li s0, 400                                 # iterations
    li s1, 0x9e3779b97f4a7c15                  # rng state
    li s2, 0x0123456789abcdef
    li s3, 0xfedcba9876543210
.Lloop:
    XORSHIFT s1, t0
    mv a0, s1
    srli a1, s1, 29
    slli t0, s1, 7
    xor a1, a1, t0                             # second operand, loosely correlated with the first

    add a2, a0, a1
    sub a3, a0, a1
    addw a4, a0, a1
    subw a5, a0, a1
    sll a6, a0, a1
    srl a7, a0, a1
    sra t1, a0, a1
    sllw t2, a0, a1
    srlw t3, a0, a1
    sraw t4, a0, a1
    slt t5, a0, a1
    sltu t6, a0, a1

    add s2, s2, a2
    xor s3, s3, a3
    add s4, s4, a4
    sub s5, s5, a5
    xor s6, s6, a6
    add s7, s7, a7
    xor s8, s8, t1
    add s9, s9, t2
    xor s10, s10, t3
    add s11, s11, t4
    slli t5, t5, 1
    or t5, t5, t6
    add ra, ra, t5

    and t0, a0, a1
    add s2, s2, t0
    or t0, a0, a1
    xor s3, s3, t0
    xor t0, a0, a1
    add s4, s4, t0

    # immediate forms
    addi t0, a0, -2048
    xor s5, s5, t0
    addiw t0, a0, 2047
    add s6, s6, t0
    slti t0, a0, -1
    add s7, s7, t0
    sltiu t0, a0, -1
    add s8, s8, t0
    andi t0, a0, -241
    xor s9, s9, t0
    ori t0, a0, 0x70f
    add s10, s10, t0
    xori t0, a0, -1
    xor s11, s11, t0
    slli t0, a0, 63
    add s2, s2, t0
    srli t0, a0, 32
    add s3, s3, t0
    srai t0, a0, 31
    xor s4, s4, t0
    slliw t0, a0, 31
    add s5, s5, t0
    srliw t0, a0, 1
    xor s6, s6, t0
    sraiw t0, a0, 17
    add s7, s7, t0
    lui t0, 0x80000
    xor t0, t0, a0
    add s8, s8, t0

    # branches: one counter bit per condition
    li t0, 0
    beq a0, a1, 1f
    ori t0, t0, 1
1:  bne a2, a3, 1f
    ori t0, t0, 2
1:  blt a0, a1, 1f
    ori t0, t0, 4
1:  bge a4, a5, 1f
    ori t0, t0, 8
1:  bltu a6, a7, 1f
    ori t0, t0, 16
1:  bgeu t1, t2, 1f
    ori t0, t0, 32
1:  slli s9, s9, 1
    xor s9, s9, t0

    addi s0, s0, -1
    bnez s0, .Lloop

    FINISH
