"""An RV64IMAC + Zicsr + Zifencei hart with M/S/U privilege modes.

Execution: `run(max_steps)` fetches, decodes and translates each instruction once (cached by pc, dropped
when something stores into its page or on fence.i) and then only calls the cached function. Per-instruction
work never touches events, logging or plugins; traps, hooks and system instructions leave the fast loop
with the architectural state (pc, instret) written back first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..bus import AccessFault, Bus, HardwareError
from ..errors import RasplatError
from .csr import MPP, MPP_SHIFT, MPRV, MXR, SUM, TSR, TVM, TW, CSRFile, IllegalCSR, M, S, U
from .decode import Insn, decode, disassemble
from .exec.interp import SB, Sync, div, divu, rem, remu, translate
from .mmu import FETCH, LOAD, STORE, Sv39
from .trap import INTERRUPT, PRIV_NAMES, Trap, cause_name, enter_trap, mret, pending_interrupt, sret

if TYPE_CHECKING:
    from ..events import EventLog

M64 = (1 << 64) - 1
TOPEI = {0x35C: "M", 0x15C: "S"}
CHUNK = 4096  # instructions between interrupt polls when nothing forces one earlier
IDLE_SLACK = 1000  # traps/hooks retiring nothing that a run may take beyond its instruction budget


class _Hook(Exception):
    def __init__(self, fn: Callable[[Hart], bool]) -> None:
        self.fn = fn


class _Hooks(dict):
    """hart.hooks[addr] = fn: fn(hart) runs instead of the instruction at addr; True stops the run."""

    def __init__(self, hart: Hart) -> None:
        super().__init__()
        self._hart = hart

    def __setitem__(self, addr: int, fn: Callable[[Hart], bool]) -> None:
        super().__setitem__(addr, fn)
        self._hart.forget_pc(addr)

    def __delitem__(self, addr: int) -> None:
        super().__delitem__(addr)
        self._hart.forget_pc(addr)


class Hart:
    def __init__(self, hartid: int, bus: Bus, events: EventLog, misaligned: str = "emulate") -> None:
        if misaligned not in ("emulate", "trap"):
            raise ValueError("misaligned must be 'emulate' or 'trap'")
        self.hartid = hartid
        self.bus = bus
        self.events = events
        self.x: list[int] = [0] * 32
        self.pc = 0
        self.priv = M
        self.retired = 0  # instructions retired since reset: monotonic, what time and events are measured in
        self._instret_offset = 0  # minstret and mcycle are writable; they count on from the written value
        self._cycle_offset = 0
        self.time_source: Callable[[], int] = lambda: self.retired  # the platform connects its clock (mtime)
        self._res: list[int | None] = [None]  # the LR reservation, shared with translated code
        self.hooks: dict[int, Callable[[Hart], bool]] = _Hooks(self)
        self.decoded: dict[int, Insn] = {}
        self.isa_string = "rv64imac"  # as the device tree describes it; the hart implements RV64IMAC_Zicsr_Zifencei
        self.misaligned = misaligned
        self.mmu = Sv39(bus)
        self.imsic: Any = None  # the hart's IMSIC (rasplat.aia.Imsic), if the platform has one
        # Decoded code per translation mode: "phys" (M-mode or Bare), "virt" (S/U under Sv39, pcs are virtual),
        # "mprv" (M-mode code whose data accesses translate, mstatus.MPRV). Each has its own accessors.
        self._caches: dict[str, tuple[dict[int, Callable[[], int]], dict]] = {
            mode: ({}, self._namespace(mode)) for mode in ("phys", "virt", "mprv")
        }
        self._virt_code_pages: set[int] = set()
        self.mode = ""
        self.csr = CSRFile(self, hartid)
        self.mode_changed()
        bus.watch_code(self._code_written)

    # --- the namespace translated instructions run in ------------------------------------------------------
    def _namespace(self, mode: str) -> dict:
        bus = self.bus
        if mode != "phys":
            load, store = self._vload, self._vstore
        elif self.misaligned == "emulate":
            load, store = bus.load, bus.store
        else:

            def load(a: int, size: int) -> int:
                if a & (size - 1):
                    raise Trap(4, a)
                return bus.load(a, size)

            def store(a: int, size: int, v: int) -> None:
                if a & (size - 1):
                    raise Trap(6, a)
                bus.store(a, size, v)

        return {
            "x": self.x, "load": load, "store": store, "M": M64, "SB": SB, "RES": self._res,
            "Trap": Trap, "AccessFault": AccessFault, "HardwareError": HardwareError,
            "div": div, "rem": rem, "divu": divu, "remu": remu, "__builtins__": {"int": int},
        }  # fmt: skip

    @property
    def instret(self) -> int:
        return (self.retired + self._instret_offset) & M64

    @instret.setter
    def instret(self, value: int) -> None:
        self._instret_offset = value - self.retired

    @property
    def cycle(self) -> int:
        return (self.retired + self._cycle_offset) & M64  # one instruction per cycle

    @cycle.setter
    def cycle(self, value: int) -> None:
        self._cycle_offset = value - self.retired

    @property
    def reservation(self) -> int | None:
        return self._res[0]

    @reservation.setter
    def reservation(self, value: int | None) -> None:
        self._res[0] = value

    def set_privilege(self, priv: int) -> None:
        """Change the privilege mode (the trap and xRET code calls this; so may a host model)."""
        self.priv = priv
        self.mode_changed()

    def mode_changed(self) -> None:
        """Pick the decoded-code cache for the current privilege, satp and mstatus.MPRV/MPP."""
        csr = self.csr
        sv39 = csr.satp >> 60 == 8
        if sv39 and self.priv < M:
            mode = "virt"
        elif sv39 and csr.mstatus & MPRV and (csr.mstatus & MPP) >> MPP_SHIFT < M:
            mode = "mprv"
        else:
            mode = "phys"
        self.mode = mode
        self.icache, self._ns = self._caches[mode]

    def satp_written(self) -> None:
        """A new address space: drop cached translations and the code decoded through them."""
        self.mmu.root = (self.csr.satp & ((1 << 44) - 1)) << 12
        self.sfence_vma()
        self.mode_changed()

    def sfence_vma(self, va: int | None = None) -> None:
        self.mmu.flush(va)
        for mode in ("virt", "mprv"):
            self._caches[mode][0].clear()

    # --- translated data accesses (Sv39 active) ----------------------------------------------------------------
    def _xlate(self, va: int, access: int) -> int:
        st = self.csr.mstatus
        priv = self.priv if self.priv < M else (st & MPP) >> MPP_SHIFT
        return self.mmu.translate(va, access, priv, bool(st & SUM), bool(st & MXR))

    def _vload(self, va: int, size: int) -> int:
        if (va & 0xFFF) + size > 0x1000:  # crosses a page: each part has its own translation
            lo = 0x1000 - (va & 0xFFF)
            return self._vload(va, lo) | self._vload(va + lo, size - lo) << (8 * lo)
        if self.misaligned == "trap" and va & (size - 1):
            raise Trap(4, va)
        pa = self._xlate(va, LOAD)
        try:
            return self.bus.load(pa, size)
        except HardwareError:
            raise Trap(19, va, "load", size, paddr=pa) from None

    def _vstore(self, va: int, size: int, value: int) -> None:
        if (va & 0xFFF) + size > 0x1000:
            lo = 0x1000 - (va & 0xFFF)
            self._xlate(va + lo, STORE)  # both pages must be writable before either is written
            self._vstore(va, lo, value & ((1 << (8 * lo)) - 1))
            self._vstore(va + lo, size - lo, value >> (8 * lo))
            return
        if self.misaligned == "trap" and va & (size - 1):
            raise Trap(6, va)
        pa = self._xlate(va, STORE)
        try:
            self.bus.store(pa, size, value)
        except HardwareError:
            raise Trap(19, va, "store", size, paddr=pa) from None

    # --- decoded-code cache ------------------------------------------------------------------------------
    def _code_written(self, addr: int, size: int) -> None:
        icache = self._caches["phys"][0]
        for pc in range((addr - 2) & ~1, addr + size, 2):
            icache.pop(pc, None)
        if any(p in self._virt_code_pages for p in range(addr >> 12, ((addr + size - 1) >> 12) + 1)):
            self._caches["virt"][0].clear()  # virtual pcs: which ones map this page is not tracked

    def forget_pc(self, pc: int) -> None:
        for icache, _ in self._caches.values():
            icache.pop(pc, None)

    def flush_icache(self) -> None:
        for icache, _ in self._caches.values():
            icache.clear()

    def _fetch(self, pc: int) -> Callable[[], int]:
        """Decode and translate the instruction at pc; raises Trap for fetch faults and illegal encodings."""
        if pc in self.hooks:
            signal = _Hook(self.hooks[pc])

            def hook() -> int:
                raise signal

            return hook
        lo = self._fetch_parcel(pc)
        bits = lo if lo & 3 != 3 else lo | (self._fetch_parcel((pc + 2) & M64) << 16)
        insn = decode(bits)
        if insn is None:
            raise Trap(2, bits)
        op = translate(insn, pc, self._ns)
        self.icache[pc] = op
        self.decoded[pc] = insn
        return op

    def _fetch_parcel(self, va: int) -> int:
        pa = va
        if self.mode == "virt":
            st = self.csr.mstatus
            pa = self.mmu.translate(va, FETCH, self.priv, bool(st & SUM), bool(st & MXR))
            self._virt_code_pages.add(pa >> 12)
        region = self.bus.fetch_region(pa)
        if region is None:
            raise Trap(1, va)
        self.bus.code_pages.add(pa >> 12)
        try:
            return region.target.load(pa - region.base, 2)
        except HardwareError:
            raise Trap(19, va, "fetch", 2, paddr=pa) from None
        except AccessFault:
            raise Trap(1, va) from None

    def insn_at(self, pc: int) -> tuple[Insn | None, int | None]:
        """The instruction at pc (decoded from memory, ignoring poison) and its raw bits, for oopses."""
        try:
            lo = int.from_bytes(self.bus.peek(pc, 2), "little")
            bits = lo if lo & 3 != 3 else int.from_bytes(self.bus.peek(pc, 4), "little")
        except Exception:  # noqa: BLE001 - an unreadable pc is shown as such
            return None, None
        return decode(bits), bits

    def disassemble_at(self, pc: int) -> str:
        insn, bits = self.insn_at(pc)
        return disassemble(insn, pc, bits)

    # --- running -----------------------------------------------------------------------------------------
    def run(self, max_steps: int) -> tuple[int, bool]:
        """Execute up to max_steps instructions (and at most as many traps or hooks that retire none).
        Returns (instructions retired, stopped by a hook)."""
        done = idle = 0
        while done < max_steps:
            irq = pending_interrupt(self)
            if irq is not None:
                self._take(irq | INTERRUPT, 0, self.pc)
            budget = min(CHUNK, max_steps - done)
            retired, stop = self._run_chunk(budget)
            done += retired
            if stop:
                return done, True
            if not retired:  # a trap entry or a hook: bounded too, so code that traps forever still returns
                idle += 1
                if idle > max_steps + IDLE_SLACK:
                    break
        return done, False

    def _run_chunk(self, budget: int) -> tuple[int, bool]:
        icache = self.icache
        fetch = self._fetch
        pc = self.pc
        i = 0
        try:
            for i in range(budget):  # noqa: B007 - i is read after the loop and in the handlers
                pc = (icache.get(pc) or fetch(pc))()
            self.pc = pc
            self.retired += budget
            return budget, False
        except Sync as s:
            self.pc = pc
            self.retired += i
            try:
                self.pc = self._system(s.insn, pc)
                self.retired += 1
                return i + 1, False
            except Trap as t:
                self._take_exception(t, pc)
                return i, False
        except Trap as t:
            self.retired += i
            self._take_exception(t, pc)
            return i, False
        except _Hook as h:
            self.pc = pc
            self.retired += i
            return i, bool(h.fn(self))

    def step(self) -> None:
        """Execute exactly one instruction (or take one pending interrupt first, as run() would)."""
        self.run(1)

    # --- traps -------------------------------------------------------------------------------------------
    def _take_exception(self, t: Trap, pc: int) -> None:
        if t.cause == 19:
            self._consumed(t, pc)
        self._take(t.cause, t.tval, pc)

    def _consumed(self, t: Trap, pc: int) -> None:
        region = self.bus.find(t.paddr, t.size)
        extra = {}
        if region is not None and hasattr(region.target, "consumed"):
            extra = region.target.consumed(t.paddr - region.base, t.size, t.access)
            if "line" in extra:
                extra["line"] += region.base
        self.events.emit(
            "poison.consume", hart=self.hartid, pc=pc, addr=t.paddr, vaddr=t.tval, size=t.size, access=t.access,
            region=region.name if region else None, **extra,
        )  # fmt: skip

    def _take(self, cause: int, tval: int, epc: int) -> None:
        from_priv = self.priv
        to = enter_trap(self, cause, tval, epc)
        self.events.emit(
            "trap", hart=self.hartid, cause=cause & ~INTERRUPT, interrupt=bool(cause & INTERRUPT),
            name=cause_name(cause), epc=epc, tval=tval, priv=PRIV_NAMES[from_priv], to=to, vector=self.pc,
        )  # fmt: skip

    def raise_interrupt_line(self, bit: int, level: bool) -> None:
        """Drive a device interrupt line into mip (MEIP, SEIP, MTIP, local RAS 35/43, ...)."""
        if level:
            self.csr.mip_hw |= 1 << bit
        else:
            self.csr.mip_hw &= ~(1 << bit)

    # --- system instructions (slow path) -----------------------------------------------------------------
    def _system(self, i: Insn, pc: int) -> int:
        n = i.name
        nxt = (pc + i.length) & M64
        priv = self.priv
        if n.startswith("csrr"):
            return self._csr_op(i, nxt)
        if n == "ecall":
            raise Trap({U: 8, S: 9, M: 11}[priv])
        if n == "ebreak":
            raise Trap(3, pc)
        if n == "mret":
            if priv < M:
                raise Trap(2, i.raw)
            mret(self)
            return self.pc
        if n == "sret":
            if priv < S or (priv == S and self.csr.mstatus & TSR):
                raise Trap(2, i.raw)
            sret(self)
            return self.pc
        if n == "wfi":
            if priv == U or (priv == S and self.csr.mstatus & TW):
                raise Trap(2, i.raw)
            return nxt  # no event can wake a stalled hart inside a step budget: WFI is a legal no-op
        if n == "fence.i":
            self.flush_icache()
            return nxt
        if n == "sfence.vma":
            if priv == U or (priv == S and self.csr.mstatus & TVM):
                raise Trap(2, i.raw)
            self.sfence_vma(self.x[i.rs1] if i.rs1 else None)
            return nxt
        raise AssertionError(f"unhandled system instruction {n}")

    def csr_rw(self, num: int, value: int) -> int:
        """What `csrrw rd, num, rs` does at the current privilege, for host models (a driver claiming through
        stopei). Raises RasplatError where the instruction would take an illegal-instruction trap."""
        try:
            self.csr.check(num, self.priv, True)
            if num in TOPEI:
                return self.imsic.file(TOPEI[num]).claim_topei()
            old = self.csr.read(num)
            self.csr.write(num, value)
        except IllegalCSR:
            mode = PRIV_NAMES[self.priv]
            raise RasplatError(f"hart {self.hartid}: csrrw of CSR {num:#x} is illegal in {mode}-mode") from None
        return old

    def _csr_op(self, i: Insn, nxt: int) -> int:
        n, num, rd = i.name, i.imm, i.rd
        src = i.rs1 if n.endswith("i") else self.x[i.rs1]
        writes = n in ("csrrw", "csrrwi") or i.rs1 != 0  # rs1 = x0 / uimm = 0: csrrs/csrrc do not write
        try:
            self.csr.check(num, self.priv, writes)
            if num in TOPEI and writes:  # a write claims the identity read, whatever the value (AIA IMSIC)
                old = self.imsic.file(TOPEI[num]).claim_topei()
            else:
                old = self.csr.read(num) if (rd or not n.startswith("csrrw")) else 0
                if writes:
                    if n.startswith("csrrw"):
                        new = src
                    elif n.startswith("csrrs"):
                        new = old | src
                    else:
                        new = old & ~src
                    self.csr.write(num, new)
        except IllegalCSR:
            raise Trap(2, i.raw) from None
        if rd:
            self.x[rd] = old
        return nxt

    # --- checkpoints ---------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Architectural state: registers, pc, privilege, counters, the LR reservation, the CSRs, the MMU and
        the IMSIC's interrupt files. Not saved: decoded code (derived from memory, decoded again on the next
        fetch) and hooks (closures: the kernel model's boot installs them again; `hooks` lists the addresses so
        a restore can tell when one would be missing)."""
        imsic = None if self.imsic is None else {"M": self.imsic.m.snapshot(), "S": self.imsic.s.snapshot()}
        return {
            "x": list(self.x), "pc": self.pc, "priv": self.priv, "retired": self.retired,
            "instret_offset": self._instret_offset, "cycle_offset": self._cycle_offset, "reservation": self._res[0],
            "csr": self.csr.snapshot(), "mmu": self.mmu.snapshot(), "imsic": imsic, "hooks": sorted(self.hooks),
        }  # fmt: skip

    def restore(self, state: dict) -> None:
        self.x[:] = state["x"]  # in place: translated code holds this list
        self.pc, self.priv, self.retired = state["pc"], state["priv"], state["retired"]
        self._instret_offset, self._cycle_offset = state["instret_offset"], state["cycle_offset"]
        self._res[0] = state["reservation"]
        self.csr.restore(state["csr"])
        self.mmu.restore(state["mmu"])
        if (self.imsic is None) != (state["imsic"] is None):
            raise RasplatError(f"hart {self.hartid}: the checkpoint and the platform disagree on its IMSIC")
        if self.imsic is not None:
            self.imsic.m.restore(state["imsic"]["M"])
            self.imsic.s.restore(state["imsic"]["S"])
        # memory was replaced underneath: nothing decoded before may survive
        self.flush_icache()
        self.decoded.clear()
        self._virt_code_pages.clear()
        self.mode_changed()

    # --- presentation --------------------------------------------------------------------------------------
    def dump(self) -> dict:
        """A register dump for oopses and traces."""
        from .decode import REG_NAMES

        csr = self.csr
        return {
            "pc": self.pc, "priv": PRIV_NAMES[self.priv],
            "x": {REG_NAMES[r]: self.x[r] for r in range(1, 32)},
            "csr": {n: csr[n] for n in ("mstatus", "sepc", "scause", "stval", "mepc", "mcause", "mtval", "satp")},
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"<Hart {self.hartid} pc={self.pc:#x} priv={PRIV_NAMES[self.priv]} retired={self.retired}>"
