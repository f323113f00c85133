"""Fault-space pruning: one fault-free golden run answers a whole sweep of fault positions.

A fault here is a window of bytes, [p, hi) inside a `FaultWindow`, that refuses every access of one kind
(loads, or stores) touching it: x86 COPY_MC_TEST's semantics, where a simulated fault fires when an access
ends past the injection address. For a deterministic routine, all positions p whose window is first touched
by the same dynamic access of the fault-free run see exactly the same execution up to that access, so they
form one equivalence class (FAIL*, Schirmeier et al.): one run per class, its result mapped to every member.

The golden run single-steps the call (`Hart.step`, so it needs nothing from the hart's hot path and stays
exact however the hart translates code) and, before each access to the window, snapshots what the rest of the
run depends on: pc, the GPRs, the bytes of the area of the window the routine writes, the kernel stack page
when the routine uses it, and the instructions retired so far. A class then costs one run *resumed* from its
snapshot with the fault armed, not a run from the start.

After the first fault, a member's run can still differ from the representative's if a later access touches
the window for some members and not for others (a handler that retries up to the fault, say). Every resumed
run is checked for that and the class is split and re-run where it happens, so the mapping is exact.

What a resumed run restores is the whole state a copy routine has: registers, pc, the window's writable area
and the stack page. Anything else the routine changes (global variables, CSRs) is not restored; a routine that
keeps such state needs brute force. The test suite checks pruning against brute force.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .bus import HardwareError
from .errors import KernelPanic
from .hart.csr import SIE, S
from .memory.ram import RAM

if TYPE_CHECKING:
    from .events import EventLog
    from .platform import Platform

LOAD, STORE = 0, 1
KIND_NAMES = ("load", "store")
M64 = (1 << 64) - 1
STACK_BYTES = 4096  # the part of the kernel stack a leaf routine may use, snapshotted when it does


class FaultWindow(RAM):
    """RAM for fault campaigns: records every access in order and refuses the ones that touch a fault window.

    `log` holds (kind, offset, size) for every load and store, the refused one included, until `reset()`.
    `arm(kind, lo, hi)` makes every access of that kind touching [lo, hi) raise `exc` (HardwareError by
    default: the hart takes a precise hardware-error trap, cause 19; AccessFault gives an access fault, as an
    unmapped page would). `faulted` is the log index of the first refused access.
    """

    def __init__(self, size: int, name: str = "fault-window") -> None:
        super().__init__(size, name=name)
        self.log: list[tuple[int, int, int]] = []
        self.fault: tuple[int, int, int] | None = None
        self.exc: type[Exception] = HardwareError
        self.faulted: int | None = None

    def arm(self, kind: int, lo: int, hi: int, exc: type[Exception] = HardwareError) -> None:
        self.fault, self.exc = (kind, lo, hi), exc

    def disarm(self) -> None:
        self.fault = None

    def reset(self) -> None:
        self.log = []
        self.faulted = None

    def load(self, off: int, size: int) -> int:
        log = self.log
        log.append((LOAD, off, size))
        f = self.fault
        if f is not None and f[0] == LOAD and off + size > f[1] and off < f[2]:
            if self.faulted is None:
                self.faulted = len(log) - 1
            raise self.exc
        return RAM.load(self, off, size)

    def store(self, off: int, size: int, value: int) -> None:
        log = self.log
        log.append((STORE, off, size))
        f = self.fault
        if f is not None and f[0] == STORE and off + size > f[1] and off < f[2]:
            if self.faulted is None:
                self.faulted = len(log) - 1
            raise self.exc
        RAM.store(self, off, size, value)

    def consumed(self, off: int, size: int, access: str) -> dict:
        return {"window": True}  # no poisoned line: the fault window refused the access


def extents(log: list[tuple[int, int, int]], start: tuple[int, int, int, int] | None = None) -> tuple[int, ...]:
    """(read lo, read hi, write lo, write hi) over the log, continuing from `start`. Empty: lo > hi."""
    rlo, rhi, wlo, whi = start or (M64, -1, M64, -1)
    for kind, off, size in log:
        if kind == LOAD:
            rlo, rhi = min(rlo, off), max(rhi, off + size)
        else:
            wlo, whi = min(wlo, off), max(whi, off + size)
    return rlo, rhi, wlo, whi


@dataclass(slots=True)
class Snapshot:
    """The state just before the instruction that made access `index` of the golden run."""

    index: int
    pc: int
    regs: list[int]
    area: bytes
    stack: bytes | None
    retired: int
    extents: tuple[int, ...]  # of the accesses before this one


@dataclass(slots=True)
class RunResult:
    ret: int | None  # a0 at the return; None if the run panicked or did not return
    retired: int  # instructions retired by the call
    panic: str | None = None
    hang: bool = False
    trap_pc: int | None = None  # epc of the first exception the run took
    log: list[tuple[int, int, int]] = field(default_factory=list)  # the window accesses of this run
    faulted: int | None = None  # index in `log` of the first refused access


@dataclass(slots=True)
class Golden:
    result: RunResult
    snapshots: dict[int, Snapshot]  # by log index
    area: bytes  # the writable area at the end
    prunable: bool  # False if the run stored outside the area (a resumed run could not restore that)


class Runner:
    """Runs calls of one S-mode function on hart 0: from the start, single-stepped with snapshots, or resumed.

    The call is set up as `Kernel.call` does (a0.. = args, ra = the model's return hook, sp = the kernel stack
    top, S-mode) but from all-zero registers and a zeroed stack page, and with sstatus.SIE clear, so every run
    starts from the same state and no interrupt lands in the middle: a run is a function of its inputs only.
    """

    def __init__(self, plat: Platform, window: FaultWindow, window_base: int, area: tuple[int, int]) -> None:
        from .kernel.kernel import STACK_TOP

        self.plat = plat
        self.hart = plat.harts[0]
        self.kernel = plat.kernel
        self.kernel.boot()
        self.window, self.base = window, window_base
        self.area = area  # [lo, hi) offsets in the window the routine may write
        self.stack_top = STACK_TOP
        self.ret_addr = self.kernel.firmware.symbol("rasplat_call_return")
        self._zero_stack = bytes(STACK_BYTES)

    # --- plain runs ------------------------------------------------------------------------------------------
    def start(self, fn: int, args: tuple[int, ...]) -> None:
        self.plat.bus.write(self.stack_top - STACK_BYTES, self._zero_stack)
        self.kernel.prepare_call(fn, args, interrupts=False, clean=True)
        self.window.reset()

    def finish(self, max_steps: int) -> RunResult:
        """Run the started call to its return (or panic, or max_steps)."""
        h, events = self.hart, self.plat.events
        mark, retired = len(events), h.retired
        panic, stopped = None, False
        try:
            _, stopped = h.run(max_steps)
        except KernelPanic as e:
            panic = str(e)
        returned = panic is None and stopped and h.pc == self.ret_addr
        result = RunResult(
            ret=h.x[10] if returned else None, retired=h.retired - retired, panic=panic,
            hang=panic is None and not returned, trap_pc=_first_trap_pc(events, mark),
            log=self.window.log, faulted=self.window.faulted,
        )  # fmt: skip
        _drop_events(events, mark)
        return result

    def call(self, fn: int, args: tuple[int, ...], max_steps: int) -> RunResult:
        self.start(fn, args)
        return self.finish(max_steps)

    # --- golden run and resumed runs ----------------------------------------------------------------------------
    def golden(self, fn: int, args: tuple[int, ...], max_steps: int, stack: bool = False) -> Golden:
        """The fault-free run, single-stepped, with a snapshot before every access to the window.

        With stack=False the stack page is not snapshotted; if the run turns out to use it, it is run again
        with stack=True (a copy routine seldom touches the stack, and the page costs a read per access)."""
        h, win, bus = self.hart, self.window, self.plat.bus
        lo, hi = self.area
        initial = win.read_bytes(lo, hi - lo)
        self.start(fn, args)
        log, events = win.log, self.plat.events
        mark, start_retired = len(events), h.retired
        snapshots: dict[int, Snapshot] = {}
        area = win.read_bytes(lo, hi - lo)
        ext: tuple[int, ...] = (M64, -1, M64, -1)
        stack_lo = self.stack_top - STACK_BYTES
        prunable = True
        panic = None
        ret_addr = self.ret_addr
        steps = 0  # loop iterations: a trap or hook retires nothing, and code may trap forever
        try:
            while h.pc != ret_addr and h.retired - start_retired < max_steps and steps < 2 * max_steps:
                steps += 1
                pc, regs, seen = h.pc, h.x[:], len(log)
                before = h.retired - start_retired
                h.step()
                if len(log) == seen:
                    continue
                stack_bytes = bus.peek(stack_lo, STACK_BYTES) if stack else None
                new = log[seen:]
                for i in range(seen, len(log)):
                    snapshots[i] = Snapshot(i, pc, regs, area, stack_bytes, before, ext)
                ext = extents(new, ext)
                if any(kind == STORE for kind, _, _ in new):
                    prunable &= all(lo <= off and off + size <= hi for kind, off, size in new if kind == STORE)
                    area = win.read_bytes(lo, hi - lo)
        except KernelPanic as e:
            panic = str(e)
        returned = panic is None and h.pc == ret_addr
        result = RunResult(
            ret=h.x[10] if returned else None, retired=h.retired - start_retired, panic=panic,
            hang=panic is None and not returned, trap_pc=_first_trap_pc(events, mark), log=log, faulted=None,
        )  # fmt: skip
        _drop_events(events, mark)
        # A step that took a trap also ran the handler (and maybe more): its snapshot would not be exact.
        prunable &= result.trap_pc is None
        if not stack and bus.peek(stack_lo, STACK_BYTES) != self._zero_stack:
            win.write_bytes(lo, initial)
            return self.golden(fn, args, max_steps, stack=True)
        return Golden(result, snapshots, win.read_bytes(lo, hi - lo), prunable)

    def resume(self, snap: Snapshot, max_steps: int) -> RunResult:
        """Continue from a snapshot (the caller has armed the fault); retired counts from the call's start."""
        h, win = self.hart, self.window
        lo, _ = self.area
        win.write_bytes(lo, snap.area)
        if snap.stack is not None:
            self.plat.bus.write(self.stack_top - STACK_BYTES, snap.stack)
        h.x[:] = snap.regs
        h.pc = snap.pc
        h.set_privilege(S)
        h.csr.mstatus &= ~SIE
        win.reset()
        result = self.finish(max(max_steps - snap.retired, 1))
        result.retired += snap.retired
        return result


def fault_classes(
    log: list[tuple[int, int, int]], kind: int, positions: list[int], hi: int
) -> list[tuple[int | None, list[int]]]:
    """Group fault positions by the first access of `kind` in the log that touches [position, hi).

    positions must be sorted. Returns (log index, members) in log order; index None collects the positions
    no access touches (their faulty run is the golden run itself)."""
    classes: list[tuple[int | None, list[int]]] = []
    reach = -1  # positions below reach are claimed by earlier accesses
    i = 0
    for index, (k, off, size) in enumerate(log):
        if k != kind or off >= hi or off + size <= reach:
            continue
        end = off + size
        j = bisect.bisect_left(positions, end, lo=i)
        if j > i:
            classes.append((index, positions[i:j]))
            i = j
        reach = end
        if i == len(positions):
            break
    if i < len(positions):
        classes.append((None, positions[i:]))
    return classes


def split_points(run: RunResult, kind: int, members: list[int], hi: int) -> int | None:
    """Where the representative's run stops standing for all of members: the first access after the fault
    that faulted for the representative (members[0]) but would not for the later members. Returns the index
    in members of the first member that diverges, or None when the run holds for all of them."""
    if run.faulted is None:
        return None
    last = members[-1]
    for k, off, size in run.log[run.faulted + 1 :]:
        end = off + size
        if k == kind and off < hi and members[0] < end <= last:
            return bisect.bisect_left(members, end)
    return None


def _first_trap_pc(events: EventLog, mark: int) -> int | None:
    for i in range(mark, len(events)):
        e = events[i]
        if e["kind"] == "trap" and not e.get("interrupt"):
            return e["epc"]
    return None


def _drop_events(events: EventLog, mark: int) -> None:
    """Forget the run's events (trap, fixup, ...): a sweep of millions of runs must not keep them. Listeners
    (a trace being recorded) have seen them already. The log is back to `mark` events after every run, so
    this copies only the few events from before the sweep."""
    if len(events) > mark:
        events.restore(list(itertools.islice(events, mark)))
