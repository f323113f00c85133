# user mem: loads, stores, AMOs, LR/SC, compressed code and indirect jumps on a 4 KiB buffer, 250
# iterations. Pseudo-random values are stored with every width at pseudo-random (also misaligned)
# offsets and read back with every load width; AMOs of every kind and LR/SC hit aligned slots; a jump
# table is walked with jalr. Assembled with C enabled, so most of it runs as RVC. Compared against qemu-user.
    .include "common.inc"
    START

    la s2, buf
    li s0, 250
    li s1, 0x853c49e6748fea9b
.Lloop:
    XORSHIFT s1, t0
    andi t1, s1, 0x7f7                         # byte offset (misaligned on purpose), < 2048 - 8
    add t1, t1, s2
    srli t2, s1, 17
    andi t2, t2, 0x3f8                         # aligned slot offset for atomics
    add t2, t2, s2

    # stores of every width, reads of every width
    sd s1, 0(t1)
    srli t0, s1, 8
    sw t0, 8(t1)
    srli t0, s1, 16
    sh t0, 12(t1)
    srli t0, s1, 24
    sb t0, 14(t1)
    ld a0, 1(t1)
    lw a1, 3(t1)
    lwu a2, 5(t1)
    lh a3, 7(t1)
    lhu a4, 9(t1)
    lb a5, 11(t1)
    lbu a6, 13(t1)
    add s3, s3, a0
    xor s3, s3, a1
    add s4, s4, a2
    xor s4, s4, a3
    add s5, s5, a4
    xor s5, s5, a5
    add s5, s5, a6

    # AMOs on an aligned slot
    li t0, 0x5bd1e9955bd1e995
    xor a7, s1, t0
    amoadd.d t3, a7, (t2)
    amoxor.w t4, a7, (t2)
    amoor.d t5, s1, (t2)
    amoand.w t6, a7, (t2)
    amomin.d a0, a7, (t2)
    amomax.w a1, s1, (t2)
    amominu.d a2, s1, (t2)
    amomaxu.w a3, a7, (t2)
    amoswap.d a4, s1, (t2)
    add s6, s6, t3
    xor s6, s6, t4
    add s7, s7, t5
    xor s7, s7, t6
    add s8, s8, a0
    xor s8, s8, a1
    add s9, s9, a2
    xor s9, s9, a3
    add s9, s9, a4

    # LR/SC increment of another slot
    addi t3, t2, 1024
1:  lr.d a5, (t3)
    add a5, a5, a7
    sc.d a6, a5, (t3)
    bnez a6, 1b
    lr.w a6, (t3)
    xor s10, s10, a6

    # indirect jump through a table indexed by the random value
    srli t0, s1, 40
    andi t0, t0, 3
    slli t0, t0, 3
    la t4, jump_table
    add t4, t4, t0
    ld t4, 0(t4)
    jalr ra, 0(t4)
    add s11, s11, a0

    addi s0, s0, -1
    bnez s0, .Lloop

    # fold the whole buffer so every byte written matters
    mv t1, s2
    li t2, 4096 / 8
    li t3, 0
2:  ld t0, 0(t1)
    add t3, t3, t0
    slli t0, t3, 5
    xor t3, t3, t0
    addi t1, t1, 8
    addi t2, t2, -1
    bnez t2, 2b
    mv a7, t3

    FINISH

f0: li a0, 3
    ret
f1: slli a0, s1, 3
    ret
f2: srai a0, s1, 5
    ret
f3: not a0, s1
    ret

    .section .data, "aw", @progbits
    .balign 8
jump_table:
    .dword f0, f1, f2, f3
    .balign 4096
buf:
    .skip 4096
