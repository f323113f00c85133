"""Per-instruction translation: each decoded instruction at a given pc becomes a Python function.

The function takes no arguments, executes the instruction on the hart's register list `x`, and returns
the next pc. Everything known at decode time (registers, immediates, the pc itself) is folded into the
source, which is compiled once per distinct text and shared by every hart. A faulting instruction raises
`Trap` before it changes any architectural state, so traps are precise. System instructions (CSRs, xRET,
ecall, fences) raise `Sync` instead and run on the hart's slow path with its state fully written back.

A block translator can later join these same bodies into basic blocks without touching trap semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from ..decode import Insn

SB = 1 << 63  # the sign bit: x ^ SB orders signed values as unsigned ones
_SB = SB
_M64 = (1 << 64) - 1

LOAD_SIZES = {"lb": 1, "lh": 2, "lw": 4, "ld": 8, "lbu": 1, "lhu": 2, "lwu": 4}
STORE_SIZES = {"sb": 1, "sh": 2, "sw": 4, "sd": 8}
_LOAD_EXT = {
    "lb": "((v ^ 0x80) - 0x80) & M", "lh": "((v ^ 0x8000) - 0x8000) & M",
    "lw": "((v ^ 0x80000000) - 0x80000000) & M",
}  # fmt: skip
SLOW_OPS = frozenset(
    "ecall ebreak mret sret wfi fence.i sfence.vma csrrw csrrs csrrc csrrwi csrrsi csrrci".split()
)


class Sync(Exception):
    """Raised by a system instruction: run `handler(insn, pc) -> next pc` on the hart's slow path."""

    def __init__(self, insn: Insn, pc: int) -> None:
        self.insn = insn
        self.pc = pc


def _sx32(expr: str) -> str:
    return f"(((({expr}) & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000) & M"


def _s32(expr: str) -> str:
    return f"((({expr}) & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000"


def _alu_expr(i: Insn, pc: int) -> str | None:
    """The value an ALU instruction writes to rd, as a Python expression, or None if not an ALU op."""
    a, b, imm = f"x[{i.rs1}]", f"x[{i.rs2}]", i.imm
    sa = f"(({a} ^ SB) - SB)"
    sb = f"(({b} ^ SB) - SB)"
    n = i.name
    exprs = {
        "lui": f"{imm & _M64}",
        "auipc": f"{(pc + imm) & _M64}",
        "addi": f"({a} + {imm}) & M" if i.rs1 else f"{imm & _M64}",
        "slti": f"int(({a} ^ SB) < {(imm & _M64) ^ _SB})",
        "sltiu": f"int({a} < {imm & _M64})",
        "xori": f"{a} ^ {imm & _M64}",
        "ori": f"{a} | {imm & _M64}",
        "andi": f"{a} & {imm & _M64}",
        "slli": f"({a} << {imm}) & M",
        "srli": f"{a} >> {imm}",
        "srai": f"({sa} >> {imm}) & M",
        "addiw": _sx32(f"{a} + {imm}"),
        "slliw": _sx32(f"{a} << {imm}"),
        "srliw": _sx32(f"({a} & 0xFFFFFFFF) >> {imm}"),
        "sraiw": f"(({_s32(a)}) >> {imm}) & M",
        "add": f"({a} + {b}) & M",
        "sub": f"({a} - {b}) & M",
        "sll": f"({a} << ({b} & 63)) & M",
        "slt": f"int(({a} ^ SB) < ({b} ^ SB))",
        "sltu": f"int({a} < {b})",
        "xor": f"{a} ^ {b}",
        "srl": f"{a} >> ({b} & 63)",
        "sra": f"({sa} >> ({b} & 63)) & M",
        "or": f"{a} | {b}",
        "and": f"{a} & {b}",
        "addw": _sx32(f"{a} + {b}"),
        "subw": _sx32(f"{a} - {b}"),
        "sllw": _sx32(f"{a} << ({b} & 31)"),
        "srlw": _sx32(f"({a} & 0xFFFFFFFF) >> ({b} & 31)"),
        "sraw": f"(({_s32(a)}) >> ({b} & 31)) & M",
        "mul": f"({a} * {b}) & M",
        "mulh": f"(({sa} * {sb}) >> 64) & M",
        "mulhsu": f"(({sa} * {b}) >> 64) & M",
        "mulhu": f"({a} * {b}) >> 64",
        "mulw": _sx32(f"{a} * {b}"),
        "div": f"div({sa}, {sb}) & M",
        "rem": f"rem({sa}, {sb}) & M",
        "divu": f"divu({a}, {b})",
        "remu": f"remu({a}, {b})",
        "divw": _sx32(f"div({_s32(a)}, {_s32(b)})"),
        "remw": _sx32(f"rem({_s32(a)}, {_s32(b)})"),
        "divuw": _sx32(f"divu({a} & 0xFFFFFFFF, {b} & 0xFFFFFFFF)"),
        "remuw": _sx32(f"remu({a} & 0xFFFFFFFF, {b} & 0xFFFFFFFF)"),
    }
    return exprs.get(n)


_BRANCH_COND = {
    "beq": "x[{a}] == x[{b}]", "bne": "x[{a}] != x[{b}]",
    "blt": "(x[{a}] ^ SB) < (x[{b}] ^ SB)", "bge": "(x[{a}] ^ SB) >= (x[{b}] ^ SB)",
    "bltu": "x[{a}] < x[{b}]", "bgeu": "x[{a}] >= x[{b}]",
}  # fmt: skip

_AMO_NEW = {
    "amoswap": "b", "amoadd": "(o + b) & {mask}", "amoxor": "o ^ b", "amoand": "o & b", "amoor": "o | b",
    "amomin": "o if (o ^ {sign}) < (b ^ {sign}) else b", "amomax": "o if (o ^ {sign}) > (b ^ {sign}) else b",
    "amominu": "o if o < b else b", "amomaxu": "o if o > b else b",
}  # fmt: skip


def _write(rd: int, expr: str) -> str:
    return f"x[{rd}] = {expr}" if rd else f"_ = {expr}"


def _mem_guard(body: list[str], fault: int, access: str, size: int) -> list[str]:
    """Wrap a memory access: bus signals become precise traps (access fault / hardware error)."""
    return [
        "try:",
        *("    " + line for line in body),
        "except AccessFault:",
        f"    raise Trap({fault}, a) from None",
        "except HardwareError:",
        f"    raise Trap(19, a, {access!r}, {size}) from None",
    ]


def source(i: Insn, pc: int) -> str:
    """The Python source of the function that executes `i` at `pc`."""
    nxt = (pc + i.length) & _M64
    n = i.name
    lines: list[str]
    expr = _alu_expr(i, pc)
    if expr is not None:
        lines = [f"x[{i.rd}] = {expr}"] if i.rd else []
    elif n in _BRANCH_COND:
        cond = _BRANCH_COND[n].format(a=i.rs1, b=i.rs2)
        return f"def op():\n    return {(pc + i.imm) & _M64} if {cond} else {nxt}\n"
    elif n == "jal":
        lines = [f"x[{i.rd}] = {nxt}"] if i.rd else []
        return "def op():\n" + "".join(f"    {ln}\n" for ln in lines) + f"    return {(pc + i.imm) & _M64}\n"
    elif n == "jalr":
        lines = [f"t = (x[{i.rs1}] + {i.imm}) & {_M64 & ~1}"]
        if i.rd:
            lines.append(f"x[{i.rd}] = {nxt}")
        return "def op():\n" + "".join(f"    {ln}\n" for ln in lines) + "    return t\n"
    elif n in LOAD_SIZES:
        size = LOAD_SIZES[n]
        lines = [f"a = (x[{i.rs1}] + {i.imm}) & M", *_mem_guard([f"v = load(a, {size})"], 5, "load", size)]
        if i.rd:
            lines.append(f"x[{i.rd}] = {_LOAD_EXT.get(n, 'v')}")
    elif n in STORE_SIZES:
        size = STORE_SIZES[n]
        value = f"x[{i.rs2}]" if size == 8 else f"x[{i.rs2}] & {(1 << (8 * size)) - 1:#x}"
        lines = [f"a = (x[{i.rs1}] + {i.imm}) & M", *_mem_guard([f"store(a, {size}, {value})"], 7, "store", size)]
    elif n.startswith(("lr.", "sc.", "amo")):
        lines = _amo_lines(i)
    elif n == "fence":
        lines = []  # one hart in program order, a coherent bus: nothing to order
    else:
        raise ValueError(f"no translation for {n}")
    return "def op():\n" + "".join(f"    {ln}\n" for ln in lines) + f"    return {nxt}\n"


def _amo_lines(i: Insn) -> list[str]:
    base, width = i.name.split(".")
    size = 4 if width == "w" else 8
    mask = "0xFFFFFFFF" if size == 4 else "M"
    ext = (lambda e: _sx32(e)) if size == 4 else (lambda e: e)
    lines = [f"a = x[{i.rs1}]"]
    if base == "lr":
        lines += [f"if a & {size - 1}:", "    raise Trap(4, a)"]
        lines += _mem_guard([f"v = load(a, {size})"], 5, "load", size)
        lines += ["RES[0] = a"]
        if i.rd:
            lines.append(f"x[{i.rd}] = {ext('v')}")
        return lines
    lines += [f"if a & {size - 1}:", "    raise Trap(6, a)"]
    if base == "sc":
        store = _mem_guard([f"store(a, {size}, x[{i.rs2}] & {mask})"], 7, "store", size)
        lines += ["if RES[0] == a:", *("    " + ln for ln in store), "    r = 0", "else:", "    r = 1", "RES[0] = None"]
        if i.rd:
            lines.append(f"x[{i.rd}] = r")
        return lines
    new = _AMO_NEW[base].format(mask=mask, sign="0x80000000" if size == 4 else "SB")
    lines += [f"b = x[{i.rs2}] & {mask}"]
    lines += _mem_guard([f"o = load(a, {size})", f"store(a, {size}, {new})"], 7, "amo", size)
    if i.rd:
        lines.append(f"x[{i.rd}] = {ext('o')}")
    return lines


@lru_cache(maxsize=65536)
def _compiled(src: str) -> object:
    return compile(src, "<rasplat-op>", "exec")


def translate(i: Insn, pc: int, namespace: dict) -> Callable[[], int]:
    """A function executing `i` at `pc` against the hart namespace (x, load, store, RES, ...)."""
    if i.name in SLOW_OPS:
        signal = Sync(i, pc)

        def op() -> int:
            raise signal

        return op
    exec(_compiled(source(i, pc)), namespace)
    return namespace.pop("op")


def div(a: int, b: int) -> int:
    """Signed division rounding toward zero; by zero gives -1, overflow gives the dividend (RISC-V M)."""
    if b == 0:
        return -1
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def rem(a: int, b: int) -> int:
    if b == 0:
        return a
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def divu(a: int, b: int) -> int:
    return a // b if b else _M64


def remu(a: int, b: int) -> int:
    return a % b if b else a
