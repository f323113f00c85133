"""RV64IMAC + Zicsr + Zifencei decoding, and a disassembler for oopses and traces.

`decode(bits)` takes a 32-bit word (or a 16-bit parcel whose low two bits are not 0b11) and returns an
`Insn`, or None for an encoding the hart does not implement (the hart raises illegal instruction).
Compressed instructions are expanded to the base instruction they stand for; `Insn.cname` keeps the
compressed mnemonic for the disassembler. Reserved and unsupported encodings are rejected strictly.
"""

from __future__ import annotations

from dataclasses import dataclass

REG_NAMES = (
    "zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6"
).split()


@dataclass(frozen=True, slots=True)
class Insn:
    name: str  # base mnemonic ("addi", "ld", "amoadd.d", "csrrw", ...)
    rd: int = 0
    rs1: int = 0
    rs2: int = 0
    imm: int = 0  # sign-extended immediate; shift amount; CSR number for csr ops; fence pred/succ
    length: int = 4
    raw: int = 0  # the instruction bits (the 16-bit parcel for compressed ones)
    cname: str = ""  # compressed mnemonic ("c.ld"), "" for a 32-bit instruction


def _sext(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (value & (sign - 1)) - (value & sign)


def _bits(w: int, hi: int, lo: int) -> int:
    return (w >> lo) & ((1 << (hi - lo + 1)) - 1)


_LOADS = {0: "lb", 1: "lh", 2: "lw", 3: "ld", 4: "lbu", 5: "lhu", 6: "lwu"}
_STORES = {0: "sb", 1: "sh", 2: "sw", 3: "sd"}
_BRANCHES = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}
_OP_IMM = {0: "addi", 2: "slti", 3: "sltiu", 4: "xori", 6: "ori", 7: "andi"}
_OP = {
    (0, 0): "add", (0x20, 0): "sub", (0, 1): "sll", (0, 2): "slt", (0, 3): "sltu", (0, 4): "xor",
    (0, 5): "srl", (0x20, 5): "sra", (0, 6): "or", (0, 7): "and",
    (1, 0): "mul", (1, 1): "mulh", (1, 2): "mulhsu", (1, 3): "mulhu",
    (1, 4): "div", (1, 5): "divu", (1, 6): "rem", (1, 7): "remu",
}  # fmt: skip
_OP32 = {
    (0, 0): "addw", (0x20, 0): "subw", (0, 1): "sllw", (0, 5): "srlw", (0x20, 5): "sraw",
    (1, 0): "mulw", (1, 4): "divw", (1, 5): "divuw", (1, 6): "remw", (1, 7): "remuw",
}  # fmt: skip
_AMO = {
    0x02: "lr", 0x03: "sc", 0x01: "amoswap", 0x00: "amoadd", 0x04: "amoxor", 0x0C: "amoand",
    0x08: "amoor", 0x10: "amomin", 0x14: "amomax", 0x18: "amominu", 0x1C: "amomaxu",
}  # fmt: skip
_CSR = {1: "csrrw", 2: "csrrs", 3: "csrrc", 5: "csrrwi", 6: "csrrsi", 7: "csrrci"}
_SYSTEM = {0x00000073: "ecall", 0x00100073: "ebreak", 0x10200073: "sret", 0x30200073: "mret", 0x10500073: "wfi"}


def decode(bits: int) -> Insn | None:
    if bits & 3 != 3:
        return decode_compressed(bits & 0xFFFF)
    return decode32(bits & 0xFFFFFFFF)


def decode32(w: int) -> Insn | None:
    op = w & 0x7F
    rd, f3, rs1, rs2, f7 = _bits(w, 11, 7), _bits(w, 14, 12), _bits(w, 19, 15), _bits(w, 24, 20), w >> 25
    i_imm = _sext(w >> 20, 12)
    if op == 0x37:
        return Insn("lui", rd, imm=_sext(w & 0xFFFFF000, 32), raw=w)
    if op == 0x17:
        return Insn("auipc", rd, imm=_sext(w & 0xFFFFF000, 32), raw=w)
    if op == 0x6F:
        imm = (_bits(w, 31, 31) << 20) | (_bits(w, 19, 12) << 12) | (_bits(w, 20, 20) << 11) | (_bits(w, 30, 21) << 1)
        return Insn("jal", rd, imm=_sext(imm, 21), raw=w)
    if op == 0x67 and f3 == 0:
        return Insn("jalr", rd, rs1, imm=i_imm, raw=w)
    if op == 0x63 and f3 in _BRANCHES:
        imm = (_bits(w, 31, 31) << 12) | (_bits(w, 7, 7) << 11) | (_bits(w, 30, 25) << 5) | (_bits(w, 11, 8) << 1)
        return Insn(_BRANCHES[f3], rs1=rs1, rs2=rs2, imm=_sext(imm, 13), raw=w)
    if op == 0x03 and f3 in _LOADS:
        return Insn(_LOADS[f3], rd, rs1, imm=i_imm, raw=w)
    if op == 0x23 and f3 in _STORES:
        return Insn(_STORES[f3], rs1=rs1, rs2=rs2, imm=_sext((f7 << 5) | rd, 12), raw=w)
    if op == 0x13:
        if f3 in _OP_IMM:
            return Insn(_OP_IMM[f3], rd, rs1, imm=i_imm, raw=w)
        shamt, f6 = _bits(w, 25, 20), w >> 26
        if f3 == 1 and f6 == 0:
            return Insn("slli", rd, rs1, imm=shamt, raw=w)
        if f3 == 5 and f6 in (0, 0x10):
            return Insn("srai" if f6 else "srli", rd, rs1, imm=shamt, raw=w)
        return None
    if op == 0x1B:
        if f3 == 0:
            return Insn("addiw", rd, rs1, imm=i_imm, raw=w)
        if f3 == 1 and f7 == 0:
            return Insn("slliw", rd, rs1, imm=rs2, raw=w)
        if f3 == 5 and f7 in (0, 0x20):
            return Insn("sraiw" if f7 else "srliw", rd, rs1, imm=rs2, raw=w)
        return None
    if op == 0x33:
        name = _OP.get((f7, f3))
        return Insn(name, rd, rs1, rs2, raw=w) if name else None
    if op == 0x3B:
        name = _OP32.get((f7, f3))
        return Insn(name, rd, rs1, rs2, raw=w) if name else None
    if op == 0x2F and f3 in (2, 3):
        name = _AMO.get(f7 >> 2)
        if name is None or (name == "lr" and rs2 != 0):
            return None
        return Insn(f"{name}.{'w' if f3 == 2 else 'd'}", rd, rs1, rs2, imm=f7 & 3, raw=w)  # imm = aq<<1 | rl
    if op == 0x0F:
        if f3 == 0:
            return Insn("fence", imm=(w >> 20) & 0xFFF, raw=w)  # rd/rs1 are reserved-ignore; fm, pred, succ
        if f3 == 1:
            return Insn("fence.i", raw=w)
        return None
    if op == 0x73:
        if f3 == 0:
            if w in _SYSTEM:
                return Insn(_SYSTEM[w], raw=w)
            if f7 == 0x09 and rd == 0:
                return Insn("sfence.vma", rs1=rs1, rs2=rs2, raw=w)
            return None
        if f3 in _CSR:
            return Insn(_CSR[f3], rd, rs1, imm=w >> 20, raw=w)  # rs1 holds uimm for the *i forms
    return None


def decode_compressed(h: int) -> Insn | None:
    q, f3 = h & 3, h >> 13
    rd_p, rs2_p = 8 + _bits(h, 4, 2), 8 + _bits(h, 4, 2)
    rs1_p = 8 + _bits(h, 9, 7)
    rd, rs2 = _bits(h, 11, 7), _bits(h, 6, 2)
    imm6 = _sext((_bits(h, 12, 12) << 5) | _bits(h, 6, 2), 6)

    def c(cname: str, name: str, rd: int = 0, rs1: int = 0, rs2: int = 0, imm: int = 0) -> Insn:
        return Insn(name, rd, rs1, rs2, imm, 2, h, cname)

    if q == 0:
        if f3 == 0:
            imm = (_bits(h, 12, 11) << 4) | (_bits(h, 10, 7) << 6) | (_bits(h, 6, 6) << 2) | (_bits(h, 5, 5) << 3)
            return c("c.addi4spn", "addi", rd_p, 2, imm=imm) if imm else None  # imm 0 (and h == 0) reserved
        lw_off = (_bits(h, 12, 10) << 3) | (_bits(h, 6, 6) << 2) | (_bits(h, 5, 5) << 6)
        ld_off = (_bits(h, 12, 10) << 3) | (_bits(h, 6, 5) << 6)
        if f3 == 2:
            return c("c.lw", "lw", rd_p, rs1_p, imm=lw_off)
        if f3 == 3:
            return c("c.ld", "ld", rd_p, rs1_p, imm=ld_off)
        if f3 == 6:
            return c("c.sw", "sw", rs1=rs1_p, rs2=rs2_p, imm=lw_off)
        if f3 == 7:
            return c("c.sd", "sd", rs1=rs1_p, rs2=rs2_p, imm=ld_off)
        return None  # c.fld / c.fsd (no F/D) and the reserved slot
    if q == 1:
        if f3 == 0:
            return c("c.addi" if rd else "c.nop", "addi", rd, rd, imm=imm6)
        if f3 == 1:
            return c("c.addiw", "addiw", rd, rd, imm=imm6) if rd else None
        if f3 == 2:
            return c("c.li", "addi", rd, 0, imm=imm6)
        if f3 == 3:
            if rd == 2:
                imm = (
                    (_bits(h, 12, 12) << 9) | (_bits(h, 6, 6) << 4) | (_bits(h, 5, 5) << 6)
                    | (_bits(h, 4, 3) << 7) | (_bits(h, 2, 2) << 5)
                )  # fmt: skip
                return c("c.addi16sp", "addi", 2, 2, imm=_sext(imm, 10)) if imm else None
            return c("c.lui", "lui", rd, imm=imm6 << 12) if imm6 else None
        if f3 == 4:
            f2 = _bits(h, 11, 10)
            shamt = (_bits(h, 12, 12) << 5) | _bits(h, 6, 2)
            if f2 == 0:
                return c("c.srli", "srli", rs1_p, rs1_p, imm=shamt)
            if f2 == 1:
                return c("c.srai", "srai", rs1_p, rs1_p, imm=shamt)
            if f2 == 2:
                return c("c.andi", "andi", rs1_p, rs1_p, imm=imm6)
            sub = (_bits(h, 12, 12) << 2) | _bits(h, 6, 5)
            names = {0: "sub", 1: "xor", 2: "or", 3: "and", 4: "subw", 5: "addw"}
            if sub not in names:
                return None
            return c("c." + names[sub], names[sub], rs1_p, rs1_p, rs2_p)
        if f3 == 5:
            imm = (
                (_bits(h, 12, 12) << 11) | (_bits(h, 11, 11) << 4) | (_bits(h, 10, 9) << 8) | (_bits(h, 8, 8) << 10)
                | (_bits(h, 7, 7) << 6) | (_bits(h, 6, 6) << 7) | (_bits(h, 5, 3) << 1) | (_bits(h, 2, 2) << 5)
            )  # fmt: skip
            return c("c.j", "jal", 0, imm=_sext(imm, 12))
        imm = (
            (_bits(h, 12, 12) << 8) | (_bits(h, 11, 10) << 3) | (_bits(h, 6, 5) << 6)
            | (_bits(h, 4, 3) << 1) | (_bits(h, 2, 2) << 5)
        )  # fmt: skip
        return c("c.beqz" if f3 == 6 else "c.bnez", "beq" if f3 == 6 else "bne", rs1=rs1_p, rs2=0, imm=_sext(imm, 9))
    if q == 2:
        if f3 == 0:
            return c("c.slli", "slli", rd, rd, imm=(_bits(h, 12, 12) << 5) | rs2)
        if f3 == 2:
            off = (_bits(h, 12, 12) << 5) | (_bits(h, 6, 4) << 2) | (_bits(h, 3, 2) << 6)
            return c("c.lwsp", "lw", rd, 2, imm=off) if rd else None
        if f3 == 3:
            off = (_bits(h, 12, 12) << 5) | (_bits(h, 6, 5) << 3) | (_bits(h, 4, 2) << 6)
            return c("c.ldsp", "ld", rd, 2, imm=off) if rd else None
        if f3 == 4:
            if not _bits(h, 12, 12):
                if rs2 == 0:
                    return c("c.jr", "jalr", 0, rd) if rd else None
                return c("c.mv", "add", rd, 0, rs2)
            if rd == 0 and rs2 == 0:
                return c("c.ebreak", "ebreak")
            if rs2 == 0:
                return c("c.jalr", "jalr", 1, rd)
            return c("c.add", "add", rd, rd, rs2)
        if f3 == 6:
            return c("c.swsp", "sw", rs1=2, rs2=rs2, imm=(_bits(h, 12, 9) << 2) | (_bits(h, 8, 7) << 6))
        if f3 == 7:
            return c("c.sdsp", "sd", rs1=2, rs2=rs2, imm=(_bits(h, 12, 10) << 3) | (_bits(h, 9, 7) << 6))
    return None  # c.fldsp / c.fsdsp (no F/D)


# --- disassembly --------------------------------------------------------------------------------------------
_LOAD_NAMES = set(_LOADS.values())
_STORE_NAMES = set(_STORES.values())


def disassemble(insn: Insn | None, pc: int = 0, raw: int | None = None) -> str:
    """One line of assembly, GNU style with ABI register names (branch targets as absolute addresses)."""
    if insn is None:
        return f".insn {raw:#x}  # illegal" if raw is not None else "<unreadable>"
    r = REG_NAMES
    n, rd, rs1, rs2, imm = insn.name, r[insn.rd], r[insn.rs1], r[insn.rs2], insn.imm
    if n in _LOAD_NAMES:
        text = f"{n} {rd}, {imm}({rs1})"
    elif n in _STORE_NAMES:
        text = f"{n} {rs2}, {imm}({rs1})"
    elif n in ("lui", "auipc"):
        text = f"{n} {rd}, {(imm >> 12) & 0xFFFFF:#x}"
    elif n == "jal":
        text = f"jal {rd}, {(pc + imm) & (2**64 - 1):#x}"
    elif n == "jalr":
        text = f"jalr {rd}, {imm}({rs1})"
    elif n in _BRANCHES.values():
        text = f"{n} {rs1}, {rs2}, {(pc + imm) & (2**64 - 1):#x}"
    elif n.startswith(("lr.", "sc.", "amo")):
        text = f"{n} {rd}, {rs2 + ', ' if not n.startswith('lr.') else ''}({rs1})"
    elif n.startswith("csrr"):
        from .csr import csr_name

        src = str(insn.rs1) if n.endswith("i") else rs1
        text = f"{n} {rd}, {csr_name(imm)}, {src}"
    elif n in _SYSTEM.values() or n in ("fence", "fence.i"):
        text = n
    elif n == "sfence.vma":
        text = f"sfence.vma {rs1}, {rs2}"
    elif n in _OP.values() or n in _OP32.values():
        text = f"{n} {rd}, {rs1}, {rs2}"
    else:  # immediate ALU ops and shifts
        text = f"{n} {rd}, {rs1}, {imm}"
    return f"{text}  # {insn.cname}" if insn.cname else text
