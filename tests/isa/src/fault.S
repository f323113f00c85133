# fault: access faults and misaligned atomics.
# Fetch / load / store at an address where nothing is mapped give mcause 1 / 5 / 7 with mtval = the
# faulting address (the effective address rs1 + imm for every load and store width, also for a load into
# x0 and for a compressed load) and mepc = the faulting instruction (the jump target for a fetch fault; the
# jump itself retires and links). AMOs fault as stores (7), LR as a load (5). Misaligned AMO and SC raise
# 6 and misaligned LR raises 4, with mtval = the address and memory unchanged. A 32-bit instruction whose
# second half lies past the end of DRAM raises a fetch fault with mepc = its start and mtval = the first
# unmapped address; loads/stores straddling the end of DRAM fault. Faults from U-mode are taken in M.
    .include "macros.inc"

.equ DRAM_END, 0xc0000000

# Load or store \insn at \off(a1) with a1 = UNMAPPED_ADDR must fault with \cause, mtval = address.
.macro TEST_FAULT n, cause, insn:vararg
    TEST \n
    li a1, UNMAPPED_ADDR
    EXPECT_MTRAP .Lok\@
.Linsn\@:
    \insn
    j fail
.Lok\@:
    CHECK s8, \cause
    CHECK_ADDR s10, .Linsn\@
.endm

    CODE_BEGIN

    # loads of every width: cause 5, mtval = rs1 + imm
    TEST_FAULT  2, CAUSE_LOAD_ACCESS, lb a4, 0(a1)
    CHECK s9, UNMAPPED_ADDR
    TEST_FAULT  3, CAUSE_LOAD_ACCESS, lbu a4, 1(a1)
    CHECK s9, UNMAPPED_ADDR + 1
    TEST_FAULT  4, CAUSE_LOAD_ACCESS, lh a4, 2(a1)
    CHECK s9, UNMAPPED_ADDR + 2
    TEST_FAULT  5, CAUSE_LOAD_ACCESS, lhu a4, 0x7fe(a1)
    CHECK s9, UNMAPPED_ADDR + 0x7fe
    TEST_FAULT  6, CAUSE_LOAD_ACCESS, lw a4, 0x10(a1)
    CHECK s9, UNMAPPED_ADDR + 0x10
    TEST_FAULT  7, CAUSE_LOAD_ACCESS, lwu a4, -4(a1)
    CHECK s9, UNMAPPED_ADDR - 4
    TEST_FAULT  8, CAUSE_LOAD_ACCESS, ld a4, 0x100(a1)
    CHECK s9, UNMAPPED_ADDR + 0x100
    TEST_FAULT  9, CAUSE_LOAD_ACCESS, ld x0, 8(a1)      # a load into x0 still accesses memory
    CHECK s9, UNMAPPED_ADDR + 8

    # stores of every width: cause 7
    TEST_FAULT 10, CAUSE_STORE_ACCESS, sb a4, 0(a1)
    CHECK s9, UNMAPPED_ADDR
    TEST_FAULT 11, CAUSE_STORE_ACCESS, sh a4, 6(a1)
    CHECK s9, UNMAPPED_ADDR + 6
    TEST_FAULT 12, CAUSE_STORE_ACCESS, sw a4, -8(a1)
    CHECK s9, UNMAPPED_ADDR - 8
    TEST_FAULT 13, CAUSE_STORE_ACCESS, sd x0, 0x7f8(a1)
    CHECK s9, UNMAPPED_ADDR + 0x7f8

    # AMOs fault as stores, LR as a load (qemu 7.2 wrongly reports AMO faults as load faults)
.ifndef QEMU_SYSTEM
    TEST_FAULT 14, CAUSE_STORE_ACCESS, amoadd.d a4, a2, (a1)
    CHECK s9, UNMAPPED_ADDR
    TEST_FAULT 15, CAUSE_STORE_ACCESS, amoswap.w a4, a2, (a1)
    CHECK s9, UNMAPPED_ADDR
    TEST_FAULT 16, CAUSE_STORE_ACCESS, amomaxu.d x0, a2, (a1)
    CHECK s9, UNMAPPED_ADDR
.endif
    TEST_FAULT 17, CAUSE_LOAD_ACCESS, lr.d a4, (a1)
    CHECK s9, UNMAPPED_ADDR
    TEST_FAULT 18, CAUSE_LOAD_ACCESS, lr.w a4, (a1)
    CHECK s9, UNMAPPED_ADDR

    # compressed load: mepc is the 16-bit instruction
    TEST 19
    li s0, UNMAPPED_ADDR
    EXPECT_MTRAP .L19
    .option push
    .option rvc
.L19_insn:
    c.ld a0, 8(s0)
    c.nop
    .option pop
    j fail
.L19:
    CHECK s8, CAUSE_LOAD_ACCESS
    CHECK s9, UNMAPPED_ADDR + 8
    CHECK_ADDR s10, .L19_insn

    # fetch from an unmapped address: cause 1, mepc = mtval = target; the jalr itself linked
    TEST 20
    li a1, UNMAPPED_ADDR
    li ra, 0
    EXPECT_MTRAP .L20
.L20_jump:
    jalr ra, 0x40(a1)
    j fail
.L20:
    CHECK s8, CAUSE_FETCH_ACCESS
    CHECK s9, UNMAPPED_ADDR + 0x40
    CHECK s10, UNMAPPED_ADDR + 0x40
    la a0, .L20_jump
    addi a0, a0, 4
    CHECK_EQ ra, a0

    # misaligned AMOs: cause 6, mtval = address, memory untouched (qemu 7.2 wrongly raises cause 4)
    la a1, adata
    li a2, 0x1111111111111111
    sd a2, 0(a1)
    sd a2, 8(a1)
    li a3, 0x22
.ifndef QEMU_SYSTEM
    TEST 21
    addi a5, a1, 2
    EXPECT_MTRAP .L21
    amoadd.w a4, a3, (a5)
    j fail
.L21:
    CHECK s8, CAUSE_MISALIGNED_STORE
    CHECK_EQ s9, a5
    TEST 22
    addi a5, a1, 4
    EXPECT_MTRAP .L22
    amoswap.d a4, a3, (a5)
    j fail
.L22:
    CHECK s8, CAUSE_MISALIGNED_STORE
    CHECK_EQ s9, a5
    TEST 23
    addi a5, a1, 1
    EXPECT_MTRAP .L23
    amomax.d a4, a3, (a5)
    j fail
.L23:
    CHECK s8, CAUSE_MISALIGNED_STORE
    CHECK_EQ s9, a5
    TEST 24
    addi a5, a1, 6
    EXPECT_MTRAP .L24
    amoor.w a4, a3, (a5)
    j fail
.L24:
    CHECK s8, CAUSE_MISALIGNED_STORE
    CHECK_EQ s9, a5
    ld a4, 0(a1)
    CHECK a4, 0x1111111111111111
    ld a4, 8(a1)
    CHECK a4, 0x1111111111111111
.endif

    # misaligned LR: cause 4
    TEST 25
    addi a5, a1, 2
    EXPECT_MTRAP .L25
    lr.w a4, (a5)
    j fail
.L25:
    CHECK s8, CAUSE_MISALIGNED_LOAD
    CHECK_EQ s9, a5
    TEST 26
    addi a5, a1, 4
    EXPECT_MTRAP .L26
    lr.d a4, (a5)
    j fail
.L26:
    CHECK s8, CAUSE_MISALIGNED_LOAD
    CHECK_EQ s9, a5

    # misaligned SC (even with a reservation on the aligned address): cause 6, no write (qemu 7.2 just
    # fails the SC)
.ifndef QEMU_SYSTEM
    TEST 27
    lr.d a4, (a1)
    addi a5, a1, 4
    EXPECT_MTRAP .L27
    sc.d a4, a3, (a5)
    j fail
.L27:
    CHECK s8, CAUSE_MISALIGNED_STORE
    CHECK_EQ s9, a5
    TEST 28
    lr.w a4, (a1)
    addi a5, a1, 1
    EXPECT_MTRAP .L28
    sc.w a4, a3, (a5)
    j fail
.L28:
    CHECK s8, CAUSE_MISALIGNED_STORE
    CHECK_EQ s9, a5
    ld a4, 0(a1)
    CHECK a4, 0x1111111111111111
    ld a4, 8(a1)
    CHECK a4, 0x1111111111111111
.endif

    # a 32-bit instruction straddling the end of DRAM: mepc = start, mtval = first byte past DRAM
    # (qemu 7.2 aborts on this fetch)
.ifndef QEMU_SYSTEM
    TEST 29
    li a1, DRAM_END - 2
    li a2, 0x0513                              # low parcel of addi a0, x0, 0 (32-bit encoding)
    sh a2, 0(a1)
    fence.i
    EXPECT_MTRAP .L29
    jr a1
    j fail
.L29:
    CHECK s8, CAUSE_FETCH_ACCESS
    CHECK s10, DRAM_END - 2
    CHECK s9, DRAM_END
.endif

    # loads / stores straddling the end of DRAM fault (mtval: the access or its unmapped part)
    TEST 30
    li a1, DRAM_END - 4
    EXPECT_MTRAP .L30
    ld a4, 0(a1)
    j fail
.L30:
    CHECK s8, CAUSE_LOAD_ACCESS
    li a0, DRAM_END - 4
    beq s9, a0, .L30_ok
    CHECK s9, DRAM_END
.L30_ok:
    TEST 31
    EXPECT_MTRAP .L31
    sw a4, 2(a1)
    j fail
.L31:
    CHECK s8, CAUSE_STORE_ACCESS
    li a0, DRAM_END - 2
    beq s9, a0, .L31_ok
    CHECK s9, DRAM_END
.L31_ok:

    # faults from U-mode are taken in M with MPP = U
    TEST 32
    li a1, UNMAPPED_ADDR
    GOTO_PRIV PRV_U, .Lu32
.Lu32:
    EXPECT_MTRAP .L32
    sw x0, 0(a1)
    j fail
.L32:
    CHECK s8, CAUSE_STORE_ACCESS
    CHECK s9, UNMAPPED_ADDR
    srli a0, s7, 11
    andi a0, a0, 3
    CHECK a0, PRV_U

    CODE_END

    DATA_BEGIN
adata:
    .dword 0, 0
