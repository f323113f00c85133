# branch: RV64I conditional branches beq, bne, blt, bge, bltu, bgeu.
# Each is checked taken and not taken, forward and backward, on signed/unsigned edges (0x8000...0 vs
# 0x7fff...f, -1 vs 1, values equal in the low 32 bits only) and with x0 operands; plus the extreme
# offsets +4092 / -4096 of the 13-bit branch immediate.
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN

    # beq / bne
    TEST_BR_TAKEN      2, beq, 0, 0
    TEST_BR_TAKEN      3, beq, 1, 1
    TEST_BR_TAKEN      4, beq, -1, -1
    TEST_BR_TAKEN      5, beq, 0x8000000000000000, 0x8000000000000000
    TEST_BR_NOT_TAKEN  6, beq, 0, 1
    TEST_BR_NOT_TAKEN  7, beq, 1, 0
    TEST_BR_NOT_TAKEN  8, beq, -1, 1
    TEST_BR_NOT_TAKEN  9, beq, 0x100000000, 0              # equal in the low 32 bits only
    TEST_BR_NOT_TAKEN 10, beq, 0xffffffff00000001, 1
    TEST_BR_TAKEN     11, bne, 0, 1
    TEST_BR_TAKEN     12, bne, 1, 0
    TEST_BR_TAKEN     13, bne, -1, 1
    TEST_BR_TAKEN     14, bne, 0x100000000, 0
    TEST_BR_NOT_TAKEN 15, bne, 0, 0
    TEST_BR_NOT_TAKEN 16, bne, -1, -1
    TEST_BR_NOT_TAKEN 17, bne, 0x8000000000000000, 0x8000000000000000

    # blt / bge (signed)
    TEST_BR_TAKEN     18, blt, 0, 1
    TEST_BR_TAKEN     19, blt, -1, 1
    TEST_BR_TAKEN     20, blt, -2, -1
    TEST_BR_TAKEN     21, blt, 0x8000000000000000, 0x7fffffffffffffff
    TEST_BR_TAKEN     22, blt, 0x8000000000000000, -1
    TEST_BR_TAKEN     23, blt, 0xffffffff80000000, 0x00000000ffffffff
    TEST_BR_NOT_TAKEN 24, blt, 1, 0
    TEST_BR_NOT_TAKEN 25, blt, 1, -1
    TEST_BR_NOT_TAKEN 26, blt, -1, -2
    TEST_BR_NOT_TAKEN 27, blt, 1, 1
    TEST_BR_NOT_TAKEN 28, blt, 0x7fffffffffffffff, 0x8000000000000000
    TEST_BR_NOT_TAKEN 29, blt, 0x0000000080000000, 0x000000007fffffff   # a 32-bit compare would take it
    TEST_BR_TAKEN     30, bge, 0, 0
    TEST_BR_TAKEN     31, bge, 1, 1
    TEST_BR_TAKEN     32, bge, -1, -1
    TEST_BR_TAKEN     33, bge, 1, 0
    TEST_BR_TAKEN     34, bge, 1, -1
    TEST_BR_TAKEN     35, bge, -1, -2
    TEST_BR_TAKEN     36, bge, 0x7fffffffffffffff, 0x8000000000000000
    TEST_BR_TAKEN     37, bge, 0x0000000080000000, 0x000000007fffffff
    TEST_BR_NOT_TAKEN 38, bge, 0, 1
    TEST_BR_NOT_TAKEN 39, bge, -1, 1
    TEST_BR_NOT_TAKEN 40, bge, -2, -1
    TEST_BR_NOT_TAKEN 41, bge, 0x8000000000000000, 0x7fffffffffffffff

    # bltu / bgeu (unsigned)
    TEST_BR_TAKEN     42, bltu, 0, 1
    TEST_BR_TAKEN     43, bltu, 1, -1
    TEST_BR_TAKEN     44, bltu, -2, -1
    TEST_BR_TAKEN     45, bltu, 0x7fffffffffffffff, 0x8000000000000000
    TEST_BR_TAKEN     46, bltu, 0x00000000ffffffff, 0x0000000100000000   # a 32-bit compare would not
    TEST_BR_NOT_TAKEN 47, bltu, 1, 0
    TEST_BR_NOT_TAKEN 48, bltu, -1, 1
    TEST_BR_NOT_TAKEN 49, bltu, -1, -2
    TEST_BR_NOT_TAKEN 50, bltu, 0x8000000000000000, 0x7fffffffffffffff
    TEST_BR_NOT_TAKEN 51, bltu, 0, 0
    TEST_BR_NOT_TAKEN 52, bltu, -1, -1
    TEST_BR_TAKEN     53, bgeu, 0, 0
    TEST_BR_TAKEN     54, bgeu, 1, 1
    TEST_BR_TAKEN     55, bgeu, -1, -1
    TEST_BR_TAKEN     56, bgeu, 1, 0
    TEST_BR_TAKEN     57, bgeu, -1, 1
    TEST_BR_TAKEN     58, bgeu, -1, -2
    TEST_BR_TAKEN     59, bgeu, 0x8000000000000000, 0x7fffffffffffffff
    TEST_BR_TAKEN     60, bgeu, 0x0000000100000000, 0x00000000ffffffff
    TEST_BR_NOT_TAKEN 61, bgeu, 0, 1
    TEST_BR_NOT_TAKEN 62, bgeu, 1, -1
    TEST_BR_NOT_TAKEN 63, bgeu, -2, -1
    TEST_BR_NOT_TAKEN 64, bgeu, 0x7fffffffffffffff, 0x8000000000000000

    # x0 operands (beqz / bnez / bltz / bgez / blez / bgtz idioms)
    TEST 65
    li a1, -5
    beqz a1, .Lx0_fail
    bgez a1, .Lx0_fail
    blez x0, .Lx0_1
    j fail
.Lx0_1:
    bltz a1, .Lx0_2
    j fail
.Lx0_2:
    bgtz a1, .Lx0_fail
    bltu a1, x0, .Lx0_fail                 # nothing is below 0 unsigned
    bgeu a1, x0, .Lx0_3
.Lx0_fail:
    j fail
.Lx0_3:
    bne x0, x0, .Lx0_fail
    beq x0, x0, .Lx0_4
    j fail
.Lx0_4:

    # extreme branch offsets: +4092 forward, -4096 backward
    TEST 66
    la a4, .Lfar_fwd                        # guard: the assembler must not have expanded the branch
    la a5, .Lbr_fwd
    sub a4, a4, a5
    CHECK a4, 4092
    la a4, .Lbr_back
    la a5, .Lfar_back
    sub a4, a4, a5
    CHECK a4, 4096
    li a1, 1
.Lbr_fwd:
    beq a1, a1, .Lfar_fwd                   # +4092
    j fail
.Lfar_back:
    j .Lfar_done
    .skip 4092 - 12
.Lfar_fwd:
    nop
    nop
    nop
.Lbr_back:
    bne a1, x0, .Lfar_back                  # -4096
    j fail
.Lfar_done:

    CODE_END
