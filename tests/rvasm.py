"""A tiny RV64 encoder for hand-written test snippets (the ISA suite uses the GNU assembler instead)."""

from __future__ import annotations

import struct

REGS = {n: i for i, n in enumerate(
    "zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6".split()
)}


def r(name: str | int) -> int:
    return name if isinstance(name, int) else REGS[name]


def i_type(op: int, f3: int, rd, rs1, imm: int) -> int:
    return ((imm & 0xFFF) << 20) | (r(rs1) << 15) | (f3 << 12) | (r(rd) << 7) | op


def s_type(op: int, f3: int, rs2, rs1, imm: int) -> int:
    return (((imm >> 5) & 0x7F) << 25) | (r(rs2) << 20) | (r(rs1) << 15) | (f3 << 12) | ((imm & 0x1F) << 7) | op


def addi(rd, rs1, imm: int) -> int:
    return i_type(0x13, 0, rd, rs1, imm)


def lb(rd, rs1, imm: int) -> int:
    return i_type(0x03, 0, rd, rs1, imm)


def lw(rd, rs1, imm: int) -> int:
    return i_type(0x03, 2, rd, rs1, imm)


def ld(rd, rs1, imm: int) -> int:
    return i_type(0x03, 3, rd, rs1, imm)


def sb(rs2, rs1, imm: int) -> int:
    return s_type(0x23, 0, rs2, rs1, imm)


def sw(rs2, rs1, imm: int) -> int:
    return s_type(0x23, 2, rs2, rs1, imm)


def sd(rs2, rs1, imm: int) -> int:
    return s_type(0x23, 3, rs2, rs1, imm)


def amoadd_d(rd, rs2, rs1) -> int:
    return (r(rs2) << 20) | (r(rs1) << 15) | (3 << 12) | (r(rd) << 7) | 0x2F


def csrrw(rd, csr: int, rs1) -> int:
    return i_type(0x73, 1, rd, rs1, csr)


def csrrs(rd, csr: int, rs1) -> int:
    return i_type(0x73, 2, rd, rs1, csr)


def jalr(rd, rs1, imm: int = 0) -> int:
    return i_type(0x67, 0, rd, rs1, imm)


def lui(rd, imm20: int) -> int:
    return ((imm20 & 0xFFFFF) << 12) | (r(rd) << 7) | 0x37


ECALL, EBREAK, MRET, SRET, WFI, FENCE_I = 0x73, 0x00100073, 0x30200073, 0x10200073, 0x10500073, 0x0000100F
J_SELF = 0x0000006F  # jal zero, 0


def slli(rd, rs1, shamt: int) -> int:
    return i_type(0x13, 1, rd, rs1, shamt)


def srli(rd, rs1, shamt: int) -> int:
    return i_type(0x13, 5, rd, rs1, shamt)


def jal(rd, offset: int) -> int:
    imm = offset & 0x1FFFFF
    return (
        (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3FF) << 21) | (((imm >> 11) & 1) << 20)
        | (((imm >> 12) & 0xFF) << 12) | (r(rd) << 7) | 0x6F
    )  # fmt: skip


def li(rd, value: int) -> list[int]:
    """Load a 32-bit constant: signed (-2**31 .. 2**31-1) or, with two more shifts, unsigned up to 2**32-1."""
    if value >= 1 << 31:
        return [*li(rd, value - (1 << 32)), slli(rd, rd, 32), srli(rd, rd, 32)]
    lo = ((value & 0xFFF) ^ 0x800) - 0x800
    hi = ((value - lo) >> 12) & 0xFFFFF
    return [lui(rd, hi), addi(rd, rd, lo)] if hi else [addi(rd, "zero", lo)]


def code(*words: int | list[int]) -> bytes:
    flat: list[int] = []
    for w in words:
        flat.extend(w if isinstance(w, list) else [w])
    return b"".join(struct.pack("<I", w) for w in flat)
