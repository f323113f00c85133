# rvc: every RV64C instruction, forced with explicit c.* mnemonics: c.addi4spn, c.ld, c.lw, c.sd, c.sw,
# c.nop, c.addi, c.addiw, c.li, c.addi16sp, c.lui, c.srli, c.srai, c.andi, c.sub, c.xor, c.or, c.and,
# c.subw, c.addw, c.j, c.beqz, c.bnez, c.slli, c.ldsp, c.lwsp, c.jr, c.mv, c.jalr, c.add, c.sdsp, c.swsp
# (c.ebreak is in illegal.S, which can take the trap). Immediate extremes, sign extension of c.lw/c.lwsp/
# c.li/c.lui/c.addiw results, c.jalr linking pc+2 (also c.jalr ra), the RVC HINT encodings (rd = x0 or
# zero immediate/shift) executing as no-ops, 32-bit instructions at pc = 2 mod 4, one that straddles a
# 4 KiB page boundary, and jalr to a 2-byte aligned target.
# variant: unprivileged
    .include "macros.inc"
    CODE_BEGIN
    .option rvc

    la sp, cstack_top

    # c.addi4spn: rd' = sp + nzuimm (4..1020, multiple of 4)
    TEST 2
    c.addi4spn a0, sp, 4
    sub a0, a0, sp
    CHECK a0, 4
    c.addi4spn s1, sp, 1020
    sub s1, s1, sp
    CHECK s1, 1020

    # c.ld / c.sd: offsets 0..248 (multiple of 8)
    TEST 3
    la s0, cdata
    c.ld a0, 0(s0)
    CHECK a0, 0x8877665544332211
    c.ld a1, 248(s0)
    CHECK a1, 0xfedcba9876543210
    li a2, 0x0102030405060708
    c.sd a2, 8(s0)
    ld a3, 8(s0)
    CHECK a3, 0x0102030405060708
    c.sd a2, 240(s0)
    ld a3, 240(s0)
    CHECK a3, 0x0102030405060708

    # c.lw sign-extends / c.sw: offsets 0..124 (multiple of 4)
    TEST 4
    la s0, cdata
    c.lw a0, 16(s0)
    CHECK a0, 0xffffffff80000001
    c.lw a1, 124(s0)
    CHECK a1, 0x000000007ffffffe
    li a4, 0xdeadbeefcafef00d
    c.sw a4, 120(s0)
    lwu a3, 120(s0)
    CHECK a3, 0xcafef00d
    lwu a3, 124(s0)
    CHECK a3, 0x7ffffffe

    # c.nop changes nothing
    TEST 5
    li a0, 0x1234
    c.nop
    CHECK a0, 0x1234

    # c.addi: 64-bit add of a 6-bit signed immediate
    TEST 6
    li a0, 0x7fffffffffffffff
    c.addi a0, 1
    CHECK a0, 0x8000000000000000
    li a0, 0x000000007fffffff
    c.addi a0, 1
    CHECK a0, 0x0000000080000000
    li t0, 0
    c.addi t0, -32
    CHECK t0, 0xffffffffffffffe0
    c.addi t0, 31
    CHECK t0, 0xffffffffffffffff

    # c.addiw: 32-bit add, result sign-extended (imm 0 is sext.w)
    TEST 7
    li a0, 0x7fffffff
    c.addiw a0, 1
    CHECK a0, 0xffffffff80000000
    li a0, 0x123456780000ffff
    c.addiw a0, 0
    CHECK a0, 0x000000000000ffff
    li t1, 0x00000000fffffff0
    c.addiw t1, -1
    CHECK t1, 0xffffffffffffffef
    li a1, 0xffffffff80000000
    c.addiw a1, -32
    CHECK a1, 0x000000007fffffe0

    # c.li: 6-bit signed immediate, any rd
    TEST 8
    c.li a0, -32
    CHECK a0, 0xffffffffffffffe0
    c.li a5, 31
    CHECK a5, 31
    li t0, 99
    c.li t0, 0
    CHECK t0, 0

    # c.addi16sp: sp += nzimm (-512..496, multiple of 16)
    TEST 9
    mv a2, sp
    c.addi16sp sp, -512
    sub a3, a2, sp
    CHECK a3, 512
    c.addi16sp sp, 496
    sub a3, a2, sp
    CHECK a3, 16
    c.addi16sp sp, 16
    CHECK_EQ sp, a2

    # c.lui: 6-bit nzimm into bits 17:12, sign-extended
    TEST 10
    c.lui a0, 1
    CHECK a0, 0x1000
    c.lui a0, 31
    CHECK a0, 0x1f000
    c.lui a0, 0xfffff
    CHECK a0, 0xfffffffffffff000
    c.lui t1, 0xfffe0
    CHECK t1, 0xfffffffffffe0000

    # c.srli / c.srai: shamt 1..63
    TEST 11
    li a0, 0x8000000000000001
    c.srli a0, 63
    CHECK a0, 1
    li a0, 0x8000000000000001
    c.srli a0, 32
    CHECK a0, 0x80000000
    li a0, 0x8000000000000001
    c.srli a0, 1
    CHECK a0, 0x4000000000000000
    li a1, 0x8000000000000000
    c.srai a1, 63
    CHECK a1, 0xffffffffffffffff
    li a1, 0x8000000000000000
    c.srai a1, 32
    CHECK a1, 0xffffffff80000000
    li a1, 0x7fffffffffffffff
    c.srai a1, 1
    CHECK a1, 0x3fffffffffffffff

    # c.andi: 6-bit signed immediate
    TEST 12
    li a0, 0x123456789abcdeff
    c.andi a0, -32
    CHECK a0, 0x123456789abcdee0
    li a0, 0xff
    c.andi a0, 0x15
    CHECK a0, 0x15
    li a0, 0x8000000000000000
    c.andi a0, -1
    CHECK a0, 0x8000000000000000

    # c.sub / c.xor / c.or / c.and
    TEST 13
    li a0, 3
    li a1, 7
    c.sub a0, a1
    CHECK a0, 0xfffffffffffffffc
    li a2, 0xff00ff00ff00ff00
    li a3, 0x0f0f0f0f0f0f0f0f
    mv a4, a2
    c.xor a4, a3
    CHECK a4, 0xf00ff00ff00ff00f
    mv a4, a2
    c.or a4, a3
    CHECK a4, 0xff0fff0fff0fff0f
    mv a4, a2
    c.and a4, a3
    CHECK a4, 0x0f000f000f000f00

    # c.subw / c.addw: 32-bit, sign-extended
    TEST 14
    li a0, 0x80000000
    li a1, 1
    c.subw a0, a1
    CHECK a0, 0x7fffffff
    li a0, 0
    li a1, 0x80000000
    c.subw a0, a1
    CHECK a0, 0xffffffff80000000
    li s0, 0x7fffffff
    li s1, 1
    c.addw s0, s1
    CHECK s0, 0xffffffff80000000
    li s0, 0x1234567800000005
    li s1, 0xabcdef0000000003
    c.addw s0, s1
    CHECK s0, 8

    # c.j forward and backward
    TEST 15
    li a0, 0
    c.j .Lcj_fwd
    j fail
.Lcj_back:
    c.addi a0, 1
    c.j .Lcj_done
.Lcj_fwd:
    c.addi a0, 2
    c.j .Lcj_back
.Lcj_done:
    CHECK a0, 3

    # c.beqz / c.bnez on the full 64-bit register
    TEST 16
    li a0, 0
    c.beqz a0, .Lbz1
    j fail
.Lbz1:
    li a0, 0x100000000                         # low 32 bits zero, register non-zero
    c.beqz a0, .Lbz_fail
    c.bnez a0, .Lbz2
.Lbz_fail:
    j fail
.Lbz2:
    li a1, 0
    c.bnez a1, .Lbz_fail
    li a2, 3
.Lbz_loop:                                     # backward c.bnez
    c.addi a2, -1
    c.bnez a2, .Lbz_loop
    CHECK a2, 0

    # c.slli: any rd, shamt 1..63
    TEST 17
    li t0, 1
    c.slli t0, 63
    CHECK t0, 0x8000000000000000
    li a0, 0x00000000ffffffff
    c.slli a0, 32
    CHECK a0, 0xffffffff00000000
    li ra, 0x4000000000000001
    c.slli ra, 1
    CHECK ra, 0x8000000000000002

    # c.sdsp / c.ldsp: offsets 0..504 (multiple of 8), any rd
    TEST 18
    li a0, 0x1122334455667788
    c.sdsp a0, 504(sp)
    c.ldsp t2, 504(sp)
    CHECK t2, 0x1122334455667788
    li a1, 0x8000000000000000
    c.sdsp a1, 0(sp)
    c.ldsp ra, 0(sp)
    CHECK ra, 0x8000000000000000

    # c.swsp / c.lwsp: offsets 0..252 (multiple of 4), c.lwsp sign-extends
    TEST 19
    li a0, 0x00000000fedcba98
    c.swsp a0, 252(sp)
    c.lwsp t3, 252(sp)
    CHECK t3, 0xfffffffffedcba98
    li a1, 0xffffffff7fffffff
    c.swsp a1, 4(sp)
    c.lwsp t4, 4(sp)
    CHECK t4, 0x000000007fffffff
    lwu t4, 0(sp)                              # c.swsp at 4 left the word at 0 alone
    CHECK t4, 0x00000000

    # c.mv / c.add: any registers
    TEST 20
    li a0, 0x5555aaaa5555aaaa
    c.mv t1, a0
    CHECK t1, 0x5555aaaa5555aaaa
    li t5, 0x7fffffffffffffff
    c.mv ra, t5
    c.add ra, t5
    CHECK ra, 0xfffffffffffffffe
    li a2, 0x00000000ffffffff
    c.add a2, a2
    CHECK a2, 0x00000001fffffffe

    # c.jr: jump, no link
    TEST 21
    li ra, 0
    la t0, .Lcjr_target
    c.jr t0
    j fail
.Lcjr_target:
    CHECK ra, 0

    # c.jalr: links ra = pc + 2
    TEST 22
    la t0, .Lcjalr_target
.Lcjalr:
    c.jalr t0
    j fail
.Lcjalr_target:
    la a5, .Lcjalr
    addi a5, a5, 2
    CHECK_EQ ra, a5

    # c.jalr ra: the target is the old ra, then ra = pc + 2
    TEST 23
    la ra, .Lcjalr_ra_target
.Lcjalr_ra:
    c.jalr ra
    j fail
.Lcjalr_ra_target:
    la a5, .Lcjalr_ra
    addi a5, a5, 2
    CHECK_EQ ra, a5

    # HINT encodings are legal no-ops (rd = x0, zero immediates / shift amounts)
    TEST 24
    li a0, 0x1234
    li a1, 0x5678
    .half 0x0005                               # c.nop with nzimm = 1
    .half 0x0501                               # c.addi a0, 0
    .half 0x4015                               # c.li x0, 5
    .half 0x6005                               # c.lui x0, 1
    .half 0x802a                               # c.mv x0, a0
    .half 0x902a                               # c.add x0, a0
    .half 0x0006                               # c.slli x0, 1
    .half 0x0502                               # c.slli a0, 0
    .half 0x8101                               # c.srli a0, 0
    .half 0x8501                               # c.srai a0, 0
    c.nop
    CHECK a0, 0x1234
    CHECK a1, 0x5678
    CHECK x0, 0

    # 32-bit instruction at pc = 2 mod 4, reached by jalr to a 2-byte aligned target
    TEST 25
    la t0, .Lhalf_target
    andi a0, t0, 3
    CHECK a0, 2
    li a1, 10
    jalr ra, 0(t0)
    j fail
    .balign 4
    c.nop
.Lhalf_target:
    .option push
    .option norvc
    addi a1, a1, 5                             # 32-bit encoding at a 2 mod 4 address
    .option pop
    CHECK a1, 15

    # a 32-bit instruction straddling a 4 KiB page boundary of the code
    TEST 26
    li a1, 1
    j .Lstraddle
    .balign 4096
    .skip 4096 - 8
.Lstraddle:
    c.nop
    c.nop
    c.nop
    .option push
    .option norvc
.Lstraddle_insn:
    addi a1, a1, 0x100                         # bytes 4094..4097 of the page
    .option pop
    CHECK a1, 0x101
    la a0, .Lstraddle_insn
    li a2, 0xfff
    and a0, a0, a2
    CHECK a0, 0xffe

    CODE_END

    DATA_BEGIN
cdata:
    .dword 0x8877665544332211, 0
    .word 0x80000001, 0
    .fill 25, 4, 0
    .word 0x7ffffffe                           # offset 124
    .fill 15, 8, 0
    .dword 0xfedcba9876543210                  # offset 248
    .balign 16
cstack:
    .skip 1024
cstack_top:
    .skip 1024
