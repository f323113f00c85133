"""Sv39 page tables built by the kernel model, in simulated physical memory, for the hart to walk."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..hart.mmu import PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X

if TYPE_CHECKING:
    from ..bus import Bus

PAGE = 4096
LEVEL_SIZE = {0: PAGE, 1: 2 << 20, 2: 1 << 30}  # 4 KiB pages, 2 MiB megapages, 1 GiB gigapages
PERMS = {"r": PTE_R, "w": PTE_W, "x": PTE_X, "u": PTE_U}
SATP_SV39 = 8 << 60


class PageTable:
    """One address space. `alloc_page()` supplies zeroed physical pages for the table levels; `root` adopts a
    table that already exists in memory (a restored checkpoint)."""

    def __init__(self, bus: Bus, alloc_page: Callable[[], int], root: int | None = None) -> None:
        self.bus = bus
        self.alloc_page = alloc_page
        self.root = alloc_page() if root is None else root

    @property
    def satp(self) -> int:
        return SATP_SV39 | self.root >> 12

    def map(self, va: int, pa: int, size: int, perms: str, level: int = 0, accessed: bool = True) -> None:
        """Map [va, va+size) to pa with perms from "rwxu" using pages of the given level (0, 1, 2)."""
        step = LEVEL_SIZE[level]
        if va % step or pa % step or size % step:
            raise ConfigError(f"page table: va {va:#x}, pa {pa:#x}, size {size:#x} are not {step:#x}-aligned")
        bits = PTE_V | sum(PERMS[p] for p in perms) | ((PTE_A | PTE_D) if accessed else 0)
        for off in range(0, size, step):
            self._set(va + off, level, ((pa + off) >> 12) << 10 | bits)

    def unmap(self, va: int, level: int = 0) -> None:
        self._set(va, level, 0)

    def protect(self, va: int, perms: str) -> None:
        """Change the permissions of the 4 KiB page at va (like mprotect / a COW write-protect)."""
        addr = self.pte_address(va)
        pte = self._read(addr)
        keep = pte & ~(PTE_R | PTE_W | PTE_X | PTE_U)
        self._write(addr, keep | sum(PERMS[p] for p in perms))

    def pte_address(self, va: int, level: int = 0) -> int:
        table = self.root
        for lvl in (2, 1, 0):
            addr = table + ((va >> (12 + 9 * lvl)) & 0x1FF) * 8
            if lvl == level:
                return addr
            pte = self._read(addr)
            if not pte & PTE_V:
                raise ConfigError(f"page table: {va:#x} is not mapped (level {lvl})")
            table = (pte >> 10) << 12
        raise AssertionError("unreachable")

    def lookup(self, va: int) -> int | None:
        """The PTE that maps va, or None (what the hardware walk would find, without side effects)."""
        table = self.root
        for lvl in (2, 1, 0):
            pte = self._read(table + ((va >> (12 + 9 * lvl)) & 0x1FF) * 8)
            if not pte & PTE_V:
                return None
            if pte & (PTE_R | PTE_X):
                return pte
            table = (pte >> 10) << 12
        return None

    def _set(self, va: int, level: int, pte: int) -> None:
        table = self.root
        for lvl in range(2, level, -1):
            addr = table + ((va >> (12 + 9 * lvl)) & 0x1FF) * 8
            entry = self._read(addr)
            if not entry & PTE_V:
                entry = (self.alloc_page() >> 12) << 10 | PTE_V
                self._write(addr, entry)
            elif entry & (PTE_R | PTE_X):
                raise ConfigError(f"page table: {va:#x} is inside a level-{lvl} superpage")
            table = (entry >> 10) << 12
        self._write(table + ((va >> (12 + 9 * level)) & 0x1FF) * 8, pte)

    def _read(self, addr: int) -> int:
        return int.from_bytes(self.bus.peek(addr, 8), "little")

    def _write(self, addr: int, pte: int) -> None:
        self.bus.write(addr, pte.to_bytes(8, "little"))
