# smc: self-modifying code made visible with fence.i, and the FENCE family.
# A routine is patched (32-bit and compressed encodings, several times after it already ran) and re-run
# after fence.i; code is copied into a data page and executed and patched there; fence, fence rw,rw,
# fence.tso, pause, fence iorw,iorw and a FENCE with non-zero rd/rs1 (which must be ignored, rd unwritten)
# execute as ordering no-ops.
    .include "macros.inc"

.equ INSN_LI_A0_1, 0x00100513                  # addi a0, x0, 1
.equ INSN_LI_A0_2, 0x00200513
.equ INSN_LI_A0_3, 0x00300513
.equ INSN_LI_A0_7, 0x00700513
.equ INSN_LI_A0_8, 0x00800513
.equ INSN_C_LI_A0_5_C_NOP, 0x00014515          # c.li a0, 5 ; c.nop
.equ INSN_RET, 0x00008067                      # jalr x0, 0(ra)

    CODE_BEGIN

    # the routine as assembled
    TEST 2
    li a0, 0
    call patch_target
    CHECK a0, 1

    # patch, fence.i, run
    TEST 3
    la a1, patch_target
    li a2, INSN_LI_A0_2
    sw a2, 0(a1)
    fence.i
    call patch_target
    CHECK a0, 2

    # patch the already re-decoded routine again
    TEST 4
    li a2, INSN_LI_A0_3
    sw a2, 0(a1)
    fence.i
    call patch_target
    CHECK a0, 3

    # patch with two compressed instructions in place of the 32-bit one (halfword stores)
    TEST 5
    li a2, INSN_C_LI_A0_5_C_NOP & 0xffff
    sh a2, 0(a1)
    li a2, INSN_C_LI_A0_5_C_NOP >> 16
    sh a2, 2(a1)
    fence.i
    call patch_target
    CHECK a0, 5
    li a2, INSN_LI_A0_1                        # restore
    sw a2, 0(a1)
    fence.i
    call patch_target
    CHECK a0, 1

    # code written into a data page, run, patched, run again
    TEST 6
    la a1, ram_code
    li a2, INSN_LI_A0_7
    sw a2, 0(a1)
    li a2, INSN_RET
    sw a2, 4(a1)
    fence.i
    jalr ra, 0(a1)
    CHECK a0, 7
    li a2, INSN_LI_A0_8
    sw a2, 0(a1)
    fence.i
    jalr ra, 0(a1)
    CHECK a0, 8

    # a loop whose body is patched between passes
    TEST 7
    la a1, loop_insn
    li a0, 0
    li a3, 2
.Lpass:
    call loop_body
    li a2, 0x01050513                          # addi a0, a0, 16
    sw a2, 0(a1)
    fence.i
    addi a3, a3, -1
    bnez a3, .Lpass
    CHECK a0, 17                               # +1 on the first pass, +16 on the second
    li a2, 0x00150513                          # restore addi a0, a0, 1
    sw a2, 0(a1)
    fence.i

    # the FENCE family executes without side effects on registers or memory
    TEST 8
    la a1, fdata
    li a2, 0x1234
    sd a2, 0(a1)
    li ra, 0x5a5a
    fence
    fence rw, rw
    fence r, r
    fence w, w
    fence.tso
    .word 0x0100000f                           # pause (fence w, 0)
    fence iorw, iorw
    .word 0x0ff0808f                           # fence iorw, iorw with rd = rs1 = x1: fields ignored
    fence.i
    CHECK ra, 0x5a5a
    ld a4, 0(a1)
    CHECK a4, 0x1234

    CODE_END

    # patched code lives in its own page, away from the test code
    .section .text.smc, "ax", @progbits
    .balign 4096
patch_target:
    addi a0, x0, 1
    ret
loop_body:
loop_insn:
    addi a0, a0, 1
    ret

    DATA_BEGIN
fdata:
    .dword 0
    .balign 4096
ram_code:
    .skip 64
