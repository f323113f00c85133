# user muldiv: M-extension results on pseudo-random operands with injected edge cases, 300 iterations.
# Every third iteration or so the divisor is forced to 0, -1 (with dividend INT64_MIN or INT32_MIN), or a
# value equal in the low 32 bits only, to exercise the divide-by-zero and overflow rules of all eight
# divide/remainder instructions next to mul, mulh, mulhsu, mulhu and mulw. Compared against qemu-user.
    .include "common.inc"
    START

    li s0, 300
    li s1, 0x2545f4914f6cdd1d
.Lloop:
    XORSHIFT s1, t0
    mv a0, s1
    srli a1, s1, 23
    slli t0, s1, 11
    xor a1, a1, t0
    andi t1, s1, 7                             # pick an edge case now and then
    li t0, 1
    bne t1, t0, 1f
    li a1, 0                                   # divide by zero
1:  li t0, 2
    bne t1, t0, 1f
    li a0, 0x8000000000000000                  # 64-bit overflow
    li a1, -1
1:  li t0, 3
    bne t1, t0, 1f
    li a0, 0xffffffff80000000                  # 32-bit overflow
    li a1, -1
1:  li t0, 4
    bne t1, t0, 1f
    li t2, 0xffffffff00000000                  # low word zero: W forms divide by zero
    and a1, a1, t2
1:  li t0, 5
    bne t1, t0, 1f
    srli a1, a1, 40                            # small divisor
1:
    mul a2, a0, a1
    mulh a3, a0, a1
    mulhsu a4, a0, a1
    mulhu a5, a0, a1
    mulw a6, a0, a1
    div a7, a0, a1
    divu t2, a0, a1
    rem t3, a0, a1
    remu t4, a0, a1
    divw t5, a0, a1
    divuw t6, a0, a1
    remw s2, a0, a1
    remuw s3, a0, a1

    add s4, s4, a2
    xor s5, s5, a3
    add s6, s6, a4
    xor s7, s7, a5
    add s8, s8, a6
    xor s9, s9, a7
    add s9, s9, t2
    xor s10, s10, t3
    add s10, s10, t4
    xor s11, s11, t5
    add s11, s11, t6
    xor ra, ra, s2
    add ra, ra, s3
    slli ra, ra, 1

    # check the M identities the hardware must satisfy: a == (a / b) * b + a % b (b != 0, no overflow)
    mul t0, a7, a1
    add t0, t0, t3
    sub t0, t0, a0
    add s4, s4, t0                             # adds 0 whenever the identity holds

    addi s0, s0, -1
    bnez s0, .Lloop

    FINISH
