"""The M-mode firmware model: a minimal SBI (base + SSE) and firmware-first RAS handling.

It runs at the M-mode trap vector (a hook), like OpenSBI. SBI calls from S-mode are answered from registers
a7 (EID), a6 (FID), a0..a5. In firmware-first mode the RAS signals trap to M-mode: the firmware reads and
clears the RERI record, keeps it in its error status block (what GHES reads), and injects the registered SBI
SSE RAS event into S-mode exactly as the SSE extension describes (SBI v3.0 ext-sse): it saves the interrupted
sepc, SPP/SPIE and a6/a7, sets a6 = hart id and a7 = the entry argument, and enters S-mode at the entry pc.
`complete` undoes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..hart.csr import MIE, MPIE, MPP, MPP_SHIFT, SIE, SPIE, SPP, M, S
from ..hart.trap import INTERRUPT, cause_name, mret

if TYPE_CHECKING:
    from ..hart import Hart
    from .kernel import Kernel

M64 = (1 << 64) - 1
EID_BASE, EID_SSE = 0x10, 0x535345
SBI_SUCCESS, SBI_ERR_NOT_SUPPORTED, SBI_ERR_INVALID_PARAM, SBI_ERR_INVALID_STATE = 0, -2, -3, -10
SSE_REGISTER, SSE_UNREGISTER, SSE_ENABLE, SSE_DISABLE, SSE_COMPLETE = 2, 3, 4, 5, 6
UNUSED, REGISTERED, ENABLED, RUNNING = 0, 1, 2, 3
LOCAL_HIGH_PRIO_RAS, GLOBAL_HIGH_PRIO_RAS, LOCAL_LOW_PRIO_RAS, GLOBAL_LOW_PRIO_RAS = 0x0, 0x8000, 0x100000, 0x108000
RAS_EVENTS = {43: LOCAL_HIGH_PRIO_RAS, 35: LOCAL_LOW_PRIO_RAS}
SBI_SPEC_VERSION = 3 << 24  # SBI v3.0


@dataclass
class SseEvent:
    event_id: int
    state: int = UNUSED
    entry_pc: int = 0
    entry_arg: int = 0
    one_shot: bool = False
    pending: bool = False
    saved: dict | None = None  # interrupted sepc, flags, a6, a7 while RUNNING


class Firmware:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.plat = kernel.plat
        self.sse = {eid: SseEvent(eid) for eid in (*RAS_EVENTS.values(), GLOBAL_HIGH_PRIO_RAS, GLOBAL_LOW_PRIO_RAS)}
        self.error_status: list[dict] = []  # records taken firmware-first, for the OS to read (GHES-like)

    # --- the M-mode trap vector ----------------------------------------------------------------------------
    def trap(self, hart: Hart) -> bool:
        csr = hart.csr
        cause = csr.mcause
        if cause == 9:  # ecall from S: an SBI call
            self._sbi_call(hart)
            return False
        if cause & INTERRUPT and (cause & ~INTERRUPT) in RAS_EVENTS:
            self._ras_interrupt(hart, cause & ~INTERRUPT)
            return False
        if cause & INTERRUPT and cause & ~INTERRUPT == 11 and hart.imsic is not None:
            identity = hart.csr_rw(0x35C, 0) >> 16  # claim through mtopei
            self.plat.events.emit("irq", hart=hart.hartid, level="M", cause=11, identity=identity)
            signal = self.kernel.irq.m_signals.get(identity)
            if signal is not None:
                self._ras(hart, signal)
            else:
                mret(hart)
            return False
        self.kernel.die(hart, f"firmware: unhandled M-mode trap: {cause_name(cause)}", machine=True)
        return False

    # --- SBI ------------------------------------------------------------------------------------------------
    def _sbi_call(self, hart: Hart) -> None:
        x = hart.x
        eid, fid = x[17], x[16]
        error, value = SBI_ERR_NOT_SUPPORTED, 0
        if eid == EID_BASE:
            error, value = self._base(fid, x[10])
        elif eid == EID_SSE:
            if fid == SSE_COMPLETE:
                self._sse_complete(hart)
                return  # complete resumes the interrupted context; no return to the caller
            error, value = self._sse(fid, x[10], x[11], x[12])
        self.plat.events.emit("sbi", hart=hart.hartid, eid=eid, fid=fid, error=error)
        x[10], x[11] = error & M64, value & M64
        hart.csr.mepc += 4
        mret(hart)

    @staticmethod
    def _base(fid: int, arg: int) -> tuple[int, int]:
        if fid == 0:
            return SBI_SUCCESS, SBI_SPEC_VERSION
        if fid == 3:  # probe_extension
            return SBI_SUCCESS, int(arg in (EID_BASE, EID_SSE))
        if fid in (1, 2):  # implementation id / version: rasplat is not a registered SBI implementation
            return SBI_SUCCESS, 0
        return SBI_ERR_NOT_SUPPORTED, 0

    def _sse(self, fid: int, event_id: int, a1: int, a2: int) -> tuple[int, int]:
        event = self.sse.get(event_id)
        if event is None:
            return SBI_ERR_INVALID_PARAM, 0
        if fid == SSE_REGISTER:
            if event.state != UNUSED:
                return SBI_ERR_INVALID_STATE, 0
            if a1 & 1:
                return SBI_ERR_INVALID_PARAM, 0  # the entry pc must be 2-byte aligned
            event.entry_pc, event.entry_arg, event.state = a1, a2, REGISTERED
        elif fid == SSE_UNREGISTER:
            if event.state not in (REGISTERED, ENABLED):
                return SBI_ERR_INVALID_STATE, 0
            event.state = UNUSED
        elif fid == SSE_ENABLE:
            if event.state != REGISTERED:
                return SBI_ERR_INVALID_STATE, 0
            event.state = ENABLED
        elif fid == SSE_DISABLE:
            if event.state != ENABLED:
                return SBI_ERR_INVALID_STATE, 0
            event.state = REGISTERED
        else:
            return SBI_ERR_NOT_SUPPORTED, 0
        return SBI_SUCCESS, 0

    # --- firmware-first RAS --------------------------------------------------------------------------------
    def _ras_interrupt(self, hart: Hart, irq: int) -> None:
        self.plat.events.emit("irq", hart=hart.hartid, level="M", cause=irq)
        self._ras(hart, "high" if irq == 43 else "low")

    def _ras(self, hart: Hart, signal: str) -> None:
        records = self.kernel.irq.drain_banks(for_signal=signal, reader="firmware")
        self.error_status.extend(records)
        event = self.sse[LOCAL_HIGH_PRIO_RAS if signal == "high" else LOCAL_LOW_PRIO_RAS]
        if event.state == ENABLED and records:
            self._sse_inject(hart, event)
        else:
            mret(hart)

    def _sse_inject(self, hart: Hart, event: SseEvent) -> None:
        """Return from the M-mode trap straight into the S-mode handler (SSE "event injection")."""
        csr = hart.csr
        interrupted_pc, interrupted_mode = csr.mepc, (csr.mstatus & MPP) >> MPP_SHIFT
        st = csr.mstatus
        event.saved = {"sepc": csr.sepc, "spp": bool(st & SPP), "spie": bool(st & SPIE), "a6": hart.x[16],
                       "a7": hart.x[17]}  # fmt: skip
        # leave M as mret would (MIE <- MPIE, MPIE <- 1, MPP <- U), then enter S at the entry point
        st = (st & ~MIE) | (MIE if st & MPIE else 0)
        st = (st | MPIE) & ~MPP
        st = (st & ~SPP) | (SPP if interrupted_mode != 0 else 0)
        st = (st & ~SPIE) | (SPIE if st & SIE else 0)
        csr.mstatus = st & ~SIE
        csr.sepc = interrupted_pc
        hart.x[16], hart.x[17] = hart.hartid, event.entry_arg
        event.state = RUNNING
        hart.pc = event.entry_pc
        hart.set_privilege(S)
        self.plat.events.emit("sse.inject", hart=hart.hartid, event_id=event.event_id, entry=event.entry_pc,
                              interrupted_pc=interrupted_pc)  # fmt: skip

    def _sse_complete(self, hart: Hart) -> None:
        event = next((e for e in self.sse.values() if e.state == RUNNING), None)
        csr = hart.csr
        if event is None or event.saved is None:
            hart.x[10] = SBI_ERR_INVALID_STATE & M64
            csr.mepc += 4
            mret(hart)
            return
        st = csr.mstatus
        resume_pc, resume_mode = csr.sepc, S if st & SPP else 0
        st = (st & ~SIE) | (SIE if st & SPIE else 0)
        saved = event.saved
        st = (st & ~SPIE) | (SPIE if saved["spie"] else 0)
        st = (st & ~SPP) | (SPP if saved["spp"] else 0)
        st = (st & ~MIE) | (MIE if st & MPIE else 0)  # leave M-mode (as mret does for the M bits)
        csr.mstatus = (st | MPIE) & ~MPP
        csr.sepc = saved["sepc"]
        hart.x[16], hart.x[17] = saved["a6"], saved["a7"]
        event.state, event.saved = (REGISTERED if event.one_shot else ENABLED), None
        hart.pc = resume_pc
        hart.set_privilege(resume_mode)
        self.plat.events.emit("sse.complete", hart=hart.hartid, event_id=event.event_id, resume_pc=resume_pc)

    def describe(self) -> dict[str, Any]:
        return {hex(e.event_id): e.state for e in self.sse.values()}


__all__ = ["Firmware", "LOCAL_HIGH_PRIO_RAS", "LOCAL_LOW_PRIO_RAS", "M"]
