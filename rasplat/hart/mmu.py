"""Sv39 address translation with a TLB (privileged spec, "Sv39: Page-Based 39-bit Virtual-Memory System").

The walk reads PTEs through the bus (so a poisoned page table consumes poison like any load), checks V,
R/W/X, U against the effective privilege with SUM and MXR, superpage alignment and the reserved bits, and
updates A and D in hardware (Svadu behaviour: the PTE is written back, no fault). Translations are cached
per virtual page; `flush()` (sfence.vma, satp writes) drops them, so the TLB never outlives a remapping the
software announced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..bus import AccessFault, HardwareError
from .trap import Trap

if TYPE_CHECKING:
    from ..bus import Bus

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = (1 << i for i in range(8))
PTE_RESERVED = ((1 << 10) - 1) << 54  # Svpbmt, Svnapot and reserved bits: none is implemented
LEVELS, PTESIZE, PAGE_SHIFT = 3, 8, 12
FETCH, LOAD, STORE = 0, 1, 2
PAGE_FAULT = {FETCH: 12, LOAD: 13, STORE: 15}
ACCESS_FAULT = {FETCH: 1, LOAD: 5, STORE: 7}
ACCESS_NAMES = {FETCH: "fetch", LOAD: "load", STORE: "store"}
U_MODE, S_MODE = 0, 1


class Sv39:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.root = 0  # physical address of the root page table (satp.PPN << 12)
        self.tlb: dict[int, tuple[int, int, int, int]] = {}  # vpn -> (pa of page, size mask, pte, pte address)

    def snapshot(self) -> dict:
        """The root and the TLB. Architecturally an empty TLB would do, but a hit does not re-walk: a page table
        changed (or poisoned) without sfence.vma must give the same result after a restore."""
        return {"root": self.root, "tlb": [[vpn, *entry] for vpn, entry in self.tlb.items()]}

    def restore(self, state: dict) -> None:
        self.root = state["root"]
        self.tlb = {vpn: (base, mask, pte, pte_addr) for vpn, base, mask, pte, pte_addr in state["tlb"]}

    def flush(self, va: int | None = None) -> None:
        """Forget every translation (va None) or those of the page (or superpage) holding va."""
        if va is None:
            self.tlb.clear()
            return
        for vpn, (_, mask, _, _) in list(self.tlb.items()):
            if (vpn << PAGE_SHIFT) & ~mask == va & ~mask:
                del self.tlb[vpn]

    def translate(self, va: int, access: int, priv: int, sum_: bool, mxr: bool) -> int:
        """The physical address for va, or Trap (page fault / access fault / hardware error on the walk)."""
        if (va >> 38) not in (0, (1 << 26) - 1):  # bits 63:39 must all equal bit 38
            raise Trap(PAGE_FAULT[access], va)
        vpn = va >> PAGE_SHIFT
        entry = self.tlb.get(vpn)
        if entry is None:
            entry = self._walk(va, access)
        base, mask, pte, pte_addr = entry
        self._check(pte, va, access, priv, sum_, mxr)
        if not pte & PTE_A or (access == STORE and not pte & PTE_D):
            pte |= PTE_A | (PTE_D if access == STORE else 0)
            self._write_pte(pte_addr, pte, va, access)
            entry = (base, mask, pte, pte_addr)
            self.tlb[vpn] = entry
        return base | (va & mask)

    def _walk(self, va: int, access: int) -> tuple[int, int, int, int]:
        table = self.root
        for level in range(LEVELS - 1, -1, -1):
            pte_addr = table + ((va >> (PAGE_SHIFT + 9 * level)) & 0x1FF) * PTESIZE
            pte = self._read_pte(pte_addr, va, access)
            if not pte & PTE_V or (not pte & PTE_R and pte & PTE_W) or pte & PTE_RESERVED:
                raise Trap(PAGE_FAULT[access], va)
            ppn = (pte >> 10) & ((1 << 44) - 1)
            if pte & (PTE_R | PTE_X):  # a leaf
                mask = (1 << (PAGE_SHIFT + 9 * level)) - 1
                if (ppn << PAGE_SHIFT) & mask:  # misaligned superpage
                    raise Trap(PAGE_FAULT[access], va)
                entry = ((ppn << PAGE_SHIFT) & ~mask, mask, pte, pte_addr)
                self.tlb[va >> PAGE_SHIFT] = entry
                return entry
            if pte & (PTE_A | PTE_D | PTE_U):  # reserved in non-leaf PTEs
                raise Trap(PAGE_FAULT[access], va)
            table = ppn << PAGE_SHIFT
        raise Trap(PAGE_FAULT[access], va)  # a pointer at level 0

    @staticmethod
    def _check(pte: int, va: int, access: int, priv: int, sum_: bool, mxr: bool) -> None:
        if priv == U_MODE:
            ok_user = bool(pte & PTE_U)
        else:  # S-mode: U pages only with SUM, and never executable
            ok_user = not pte & PTE_U or (sum_ and access != FETCH)
        if access == FETCH:
            allowed = pte & PTE_X
        elif access == LOAD:
            allowed = pte & PTE_R or (mxr and pte & PTE_X)
        else:
            allowed = pte & PTE_W
        if not ok_user or not allowed:
            raise Trap(PAGE_FAULT[access], va)

    def _read_pte(self, addr: int, va: int, access: int) -> int:
        try:
            return self.bus.load(addr, PTESIZE)
        except AccessFault:
            raise Trap(ACCESS_FAULT[access], va) from None
        except HardwareError:
            raise Trap(19, va, "ptw", PTESIZE, paddr=addr) from None

    def _write_pte(self, addr: int, pte: int, va: int, access: int) -> None:
        try:
            self.bus.store(addr, PTESIZE, pte)
        except AccessFault:
            raise Trap(ACCESS_FAULT[access], va) from None
        except HardwareError:
            raise Trap(19, va, "ptw", PTESIZE, paddr=addr) from None
