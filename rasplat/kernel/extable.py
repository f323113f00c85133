"""The kernel exception table: sorted lookup by exact faulting pc, and fixup_exception().

Mirrors RISC-V Linux (arch/riscv/mm/extable.c): the entry is found by the exact sepc, whatever the trap
cause; EX_TYPE_FIXUP only moves sepc to the fixup (every GPR kept), EX_TYPE_UACCESS_ERR_ZERO also sets
its err register to -EFAULT and its zero register to 0, LOAD_UNALIGNED_ZEROPAD re-reads the aligned
word; any other type is a BUG().
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..elf import ExtableEntry

if TYPE_CHECKING:
    from ..hart import Hart

EX_TYPE_NONE, EX_TYPE_FIXUP, EX_TYPE_BPF, EX_TYPE_UACCESS_ERR_ZERO, EX_TYPE_LOAD_UNALIGNED_ZEROPAD = range(5)
EX_TYPE_NAMES = {0: "NONE", 1: "FIXUP", 2: "BPF", 3: "UACCESS_ERR_ZERO", 4: "LOAD_UNALIGNED_ZEROPAD"}
EFAULT = 14
M64 = (1 << 64) - 1


class ExtableBug(Exception):
    """The entry exists but its type cannot be handled: the kernel BUG()s."""


class ExceptionTable:
    def __init__(self, entries: Iterable[ExtableEntry] = ()) -> None:
        self.entries: list[ExtableEntry] = []
        self._keys: list[int] = []
        self.add(entries)

    def add(self, entries: Iterable[ExtableEntry]) -> None:
        self.entries = sorted([*self.entries, *entries], key=lambda e: e.insn)
        self._keys = [e.insn for e in self.entries]

    def search(self, addr: int) -> ExtableEntry | None:
        i = bisect.bisect_left(self._keys, addr)
        return self.entries[i] if i < len(self._keys) and self._keys[i] == addr else None

    def __len__(self) -> int:
        return len(self.entries)


def fixup_exception(hart: Hart, table: ExceptionTable) -> dict | None:
    """Apply the entry for sepc, if any. Returns the `fixup` event fields, or None when there is none."""
    csr = hart.csr
    epc = csr.sepc
    e = table.search(epc)
    if e is None:
        return None
    fields = {"epc": epc, "fixup": e.fixup, "type": EX_TYPE_NAMES.get(e.type, str(e.type))}
    if e.type == EX_TYPE_FIXUP:
        pass
    elif e.type == EX_TYPE_UACCESS_ERR_ZERO:
        err, zero = e.data & 0x1F, (e.data >> 5) & 0x1F
        if err:
            hart.x[err] = -EFAULT & M64
        if zero:
            hart.x[zero] = 0
        fields.update(err_reg=err, zero_reg=zero)
    elif e.type == EX_TYPE_LOAD_UNALIGNED_ZEROPAD:
        data_reg, addr_reg = e.data & 0x1F, (e.data >> 5) & 0x1F
        addr = hart.x[addr_reg]
        word = int.from_bytes(hart.bus.peek(addr & ~7, 8), "little") >> (8 * (addr & 7))
        if data_reg:
            hart.x[data_reg] = word
        fields.update(data_reg=data_reg, addr_reg=addr_reg)
    else:
        raise ExtableBug(f"exception table entry at {epc:#x} has unsupported type {e.type}")
    csr.sepc = e.fixup
    return fields
