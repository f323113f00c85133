"""The copy-contract verifier: run a copy routine against every fault position and classify how it keeps
"return 0, or the number of bytes not copied".

A case is (length n, source alignment, destination alignment, side, fault offset f). The routine copies n
bytes between two buffers in a `FaultWindow` mapped at a free address above DRAM; the fault is the window
[buffer + f, end of the buffer's area) refusing every load (side "src": a hardware error, as poison gives) or
every store (side "dst": an access fault, as an unmapped page gives). That is x86 COPY_MC_TEST's semantics — a
simulated fault fires when an access ends past the injection address — at byte granularity: poison is per
64-byte line, so a line cannot put a fault at an arbitrary byte, a window can.

Each case is classified from the return value, the destination buffer and the extents of every access:
- exact: ret is the number of destination bytes not written (dst[0, n-ret) is the source, the rest untouched);
- over-estimate: ret is larger by some bytes (safe: a caller trusts less than was copied);
- UNSAFE: under-estimate (ret < bytes not written, 0 on a fault included), return > n, corrupted prefix
  (dst[0, n-ret) is not the source), touched suffix (bytes past the copied prefix changed), read outside the
  source range, write outside the destination range, panic (no fixup), hang, and a non-zero return (or wrong
  data) without a fault.
"written" is the copied prefix, the first byte where dst differs from src; the destination starts as the
complement of the source, so every byte tells whether it was written.

Pruning (`rasplat.pruning`) answers all fault offsets of one (n, alignments, side) group from one golden run
plus one resumed run per equivalence class; `brute=True` runs every case from the start.
"""

from __future__ import annotations

import enum
import hashlib
import html
import os
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from .bus import AccessFault, HardwareError
from .errors import ConfigError
from .pruning import LOAD, STORE, FaultWindow, Runner, RunResult, extents, fault_classes, split_points

WINDOW_START = 0xC000_0000  # first candidate base for the verifier's window (just above the default 1 GiB DRAM)
GUARD = 64  # bytes of each buffer's area before and after the largest copy
MAX_ALIGN = 64  # alignments are offsets 0..63 from a page-aligned base
SIDES = ("src", "dst")
NO_PC = 0


# --- verdicts -------------------------------------------------------------------------------------------------
class Verdict(enum.IntFlag):
    EXACT = 1
    OVER = 2
    UNDER = 4
    BAD_RETURN = 8
    CORRUPTED_PREFIX = 16
    TOUCHED_SUFFIX = 32
    READ_OUTSIDE = 64
    WRITE_OUTSIDE = 128
    PANIC = 256
    HANG = 512
    WRONG_SUCCESS = 1024


SAFE = Verdict.EXACT | Verdict.OVER
# (flag, short name for rows, table label)
VERDICTS: tuple[tuple[Verdict, str, str], ...] = (
    (Verdict.EXACT, "exact", "exact count"),
    (Verdict.OVER, "over", "over-estimate"),
    (Verdict.UNDER, "under", "under-estimate"),
    (Verdict.BAD_RETURN, "bad-return", "return > n"),
    (Verdict.CORRUPTED_PREFIX, "corrupt-prefix", "corrupted prefix"),
    (Verdict.TOUCHED_SUFFIX, "touched-suffix", "touched suffix"),
    (Verdict.READ_OUTSIDE, "read-outside", "read outside the source"),
    (Verdict.WRITE_OUTSIDE, "write-outside", "write outside the destination"),
    (Verdict.PANIC, "panic", "no fixup (panic)"),
    (Verdict.HANG, "hang", "hang (no return)"),
    (Verdict.WRONG_SUCCESS, "wrong-success", "wrong return/data on success"),
)


def outcome_name(flags: int) -> str:
    return "+".join(short for flag, short, _ in VERDICTS if flags & flag) or "none"


@cache
def _names(flags: int) -> tuple[str, ...]:
    return tuple(short for flag, short, _ in VERDICTS if flags & flag)


def is_unsafe(flags: int) -> bool:
    return bool(flags & ~SAFE)


class Outcome(NamedTuple):
    flags: int
    ret: int | None
    written: int
    pc: int | None  # the access that took the fault (None: no fault was taken)
    retired: int  # instructions the call executed


# --- what is verified -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Routine:
    """A copy routine `unsigned long fn(void *dst, const void *src, size_t n)`: a firmware symbol, or a symbol
    of another ELF (built by the GNU toolchain) that the kernel model loads like a module."""

    symbol: str = "__memcpy_mc"
    elf: str | None = None

    @property
    def label(self) -> str:
        return f"{self.symbol} ({self.elf})" if self.elf else f"{self.symbol} (firmware)"


class Layout:
    """Where the buffers sit inside the window (offsets from its base). Each buffer has an area of GUARD bytes
    before its page-aligned base and GUARD bytes after the longest copy at the largest alignment; the fault
    window of a case ends at the end of its buffer's area."""

    def __init__(self, max_len: int) -> None:
        self.max_len = max_len
        self.src_base = 0x1000
        self.src_area = (self.src_base - GUARD, self.src_base + MAX_ALIGN + max_len + GUARD)
        self.dst_base = _align_up(self.src_area[1] + 0x1000, 0x1000)
        self.dst_area = (self.dst_base - GUARD, self.dst_base + MAX_ALIGN + max_len + GUARD)
        self.size = _align_up(self.dst_area[1] + 0x1000, 0x1000)


def _align_up(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def _free_base(bus: Any, size: int, start: int = WINDOW_START) -> int:
    """The lowest 64 KiB-aligned address >= start where [base, base+size) overlaps no mapped region."""
    base = start
    for region in sorted(bus.regions, key=lambda r: r.base):
        if region.end <= base:
            continue
        if region.base >= base + size:
            break
        base = _align_up(region.end, 1 << 16)
    if base + size > 1 << 64:
        raise ConfigError("verify: no free address range for the fault window")
    return base


class CopyRig:
    """A platform with the routine loaded and the fault window mapped; one per worker process."""

    def __init__(self, routine: Routine, max_len: int, platform: str = "default") -> None:
        from .platform import Platform

        self.routine = routine
        self.plat = Platform.default() if platform == "default" else Platform.from_devicetree(platform)
        self.layout = layout = Layout(max_len)
        self.window = FaultWindow(layout.size, name="verify-window")
        self.base = _free_base(self.plat.bus, layout.size)
        self.plat.bus.map("verify-window", self.base, layout.size, self.window)
        kernel = self.plat.kernel
        if routine.elf:
            _check_module_placement(routine.elf, kernel.firmware.segments)
            kernel.load_module(routine.elf)
        self.fn = kernel.resolve(routine.symbol)
        self.runner = Runner(self.plat, self.window, self.base, layout.dst_area)
        # Random-looking source bytes, so that a shifted or mixed-up copy shows; a byte's value depends on its
        # place in its area only, not on max_len, so rigs of different sizes hold the same data.
        self.src_image = _noise(b"src", layout.src_area[1] - layout.src_area[0])
        self.dst_image = _noise(b"dst", layout.dst_area[1] - layout.dst_area[0])


def _noise(name: bytes, size: int) -> bytes:
    blocks = (hashlib.blake2b(i.to_bytes(8, "little"), person=name).digest() for i in range((size + 63) // 64))
    return b"".join(blocks)[:size]


def _check_module_placement(path: str, firmware: list[tuple[int, int]]) -> None:
    """A module linked over the firmware or the kernel model's stack would overwrite them when loaded."""
    from .elf import load_file
    from .kernel.kernel import STACK_TOP

    image, _ = load_file(path)
    reserved = (min(v for v, _ in firmware), STACK_TOP)
    for vaddr, memsz in image.segments:
        if vaddr < reserved[1] and reserved[0] < vaddr + memsz:
            raise ConfigError(
                f"{path}: segment [{vaddr:#x}, {vaddr + memsz:#x}) overlaps the firmware and kernel-model area "
                f"[{reserved[0]:#x}, {reserved[1]:#x}); link it elsewhere (e.g. -Ttext=0x88000000)"
            )


@lru_cache(maxsize=4)
def _rig(routine: Routine, max_len: int, platform: str) -> CopyRig:
    return CopyRig(routine, max_len, platform)


def rig_for(routine: Routine, max_len: int, platform: str = "default") -> CopyRig:
    """The cached rig of this process (built on first use; a larger max_len gets a new one)."""
    return _rig(routine, _align_up(max(max_len, 1), 1024), platform)


_ACCESSES = {"lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", "sb", "sh", "sw", "sd"}
_INVERT = bytes(b ^ 0xFF for b in range(256))


# --- one group: (n, src alignment, dst alignment, side) with its fault offsets ----------------------------------
@dataclass
class Group:
    n: int
    sa: int
    da: int
    side: str
    clean: Outcome | None
    faults: list[tuple[int, Outcome]]  # (offset, outcome), by offset
    runs: int  # simulated runs (golden, resumed, or brute force)


class _Case:
    """Per-group constants for classifying runs."""

    def __init__(self, rig: CopyRig, n: int, sa: int, da: int) -> None:
        lay = rig.layout
        if not 0 <= sa < MAX_ALIGN or not 0 <= da < MAX_ALIGN:
            raise ConfigError(f"verify: alignments must be 0..{MAX_ALIGN - 1}, got src {sa} dst {da}")
        if not 0 <= n <= lay.max_len:
            raise ConfigError(f"verify: length {n} is outside 0..{lay.max_len}")
        self.n, self.src, self.dst = n, lay.src_base + sa, lay.dst_base + da
        slo, _ = lay.src_area
        dlo, _ = lay.dst_area
        self.src_bytes = rig.src_image[self.src - slo : self.src - slo + n]
        fill = bytearray(rig.dst_image)
        self.dst_rel = self.dst - dlo
        fill[self.dst_rel : self.dst_rel + n] = self.src_bytes.translate(_INVERT)  # differs from src everywhere
        self.fill = bytes(fill)
        self.s_int = int.from_bytes(self.src_bytes, "little")
        self.f_int = int.from_bytes(self.fill[self.dst_rel : self.dst_rel + n], "little")

    def reset(self, rig: CopyRig) -> None:
        win, lay = rig.window, rig.layout
        win.write_bytes(lay.src_area[0], rig.src_image)
        win.write_bytes(lay.dst_area[0], self.fill)

    def classify(self, run: RunResult, area: bytes, fault: bool, ext: tuple[int, ...], pc: int | None) -> Outcome:
        n = self.n
        d_int = int.from_bytes(area[self.dst_rel : self.dst_rel + n], "little")
        x = d_int ^ self.s_int
        written = n if x == 0 else ((x & -x).bit_length() - 1) >> 3
        flags = 0
        ret = run.ret
        if run.panic is not None:
            flags |= Verdict.PANIC
        elif run.hang or ret is None:
            flags |= Verdict.HANG
        elif not fault:
            if ret != 0:
                flags |= Verdict.WRONG_SUCCESS
            if written < n:
                flags |= Verdict.CORRUPTED_PREFIX
            if not flags:
                flags |= Verdict.EXACT
        elif ret > n:
            flags |= Verdict.BAD_RETURN
        else:
            claimed = n - ret
            touched = (d_int ^ self.f_int) >> (8 * written)  # bytes from `written` on that are not the fill
            if written < claimed:
                span = claimed - written
                flags |= Verdict.CORRUPTED_PREFIX if touched & ((1 << (8 * span)) - 1) else Verdict.UNDER
                touched >>= 8 * span
            else:
                flags |= Verdict.EXACT if claimed == written else Verdict.OVER
            if touched:
                flags |= Verdict.TOUCHED_SUFFIX
        rlo, rhi, wlo, whi = ext
        if rlo < rhi and (rlo < self.src or rhi > self.src + n):
            flags |= Verdict.READ_OUTSIDE
        if wlo < whi and (wlo < self.dst or whi > self.dst + n):
            flags |= Verdict.WRITE_OUTSIDE
        return Outcome(int(flags), ret, written, pc, run.retired)


def run_group(
    rig: CopyRig, n: int, sa: int, da: int, side: str, offsets: Sequence[int], clean: bool = True,
    brute: bool = False,
) -> Group:  # fmt: skip
    """Every case of one group: the fault-free run (if clean) and a fault at each offset (0 <= offset < n)."""
    if side not in SIDES:
        raise ConfigError(f"verify: side must be one of {', '.join(SIDES)}, got {side!r}")
    case = _Case(rig, n, sa, da)
    lay, runner, win = rig.layout, rig.runner, rig.window
    offsets = sorted(set(offsets))
    if offsets and (offsets[0] < 0 or offsets[-1] >= n):
        raise ConfigError(f"verify: fault offsets must be in 0..{n - 1} for length {n}")
    args = (rig.base + case.dst, rig.base + case.src, n)
    max_steps = 64 * n + 10_000
    if side == "src":
        kind, buf, hi, exc = LOAD, case.src, lay.src_area[1], HardwareError
    else:
        kind, buf, hi, exc = STORE, case.dst, lay.dst_area[1], AccessFault
    dlo, dhi = lay.dst_area
    group = Group(n, sa, da, side, None, [], 0)

    def read_area() -> bytes:
        return win.read_bytes(dlo, dhi - dlo)

    if brute:
        if clean:
            case.reset(rig)
            win.disarm()
            run = runner.call(rig.fn, args, max_steps)
            group.clean = case.classify(run, read_area(), False, extents(run.log), run.trap_pc)
            group.runs += 1
        for f in offsets:
            case.reset(rig)
            win.arm(kind, buf + f, hi, exc)
            run = runner.call(rig.fn, args, max_steps)
            win.disarm()
            pc = run.trap_pc if run.faulted is not None else None
            group.faults.append((f, case.classify(run, read_area(), True, extents(run.log), pc)))
            group.runs += 1
        return group

    case.reset(rig)
    win.disarm()
    golden = runner.golden(rig.fn, args, max_steps)
    group.runs += 1
    golden_ext = extents(golden.result.log)
    if clean:
        group.clean = case.classify(golden.result, golden.area, False, golden_ext, golden.result.trap_pc)
    if not offsets:
        return group
    if not golden.prunable:  # it wrote outside the area a resume restores, or trapped: no shortcut
        brute_group = run_group(rig, n, sa, da, side, offsets, clean=False, brute=True)
        group.faults, group.runs = brute_group.faults, group.runs + brute_group.runs
        return group
    positions = [buf + f for f in offsets]
    results: dict[int, Outcome] = {}
    src_dirty = True
    for index, members in fault_classes(golden.result.log, kind, positions, hi):
        if index is None:  # no access reaches these offsets: the faulty run is the golden run
            outcome = case.classify(golden.result, golden.area, True, golden_ext, None)
            results.update((p, outcome) for p in members)
            continue
        snap = golden.snapshots[index]
        work = [members]
        while work:
            todo = work.pop()
            if src_dirty:  # the last run wrote outside the destination area (resume restores only that)
                case.reset(rig)
            win.arm(kind, todo[0], hi, exc)
            run = runner.resume(snap, max_steps)
            win.disarm()
            group.runs += 1
            cut = split_points(run, kind, todo, hi)
            while cut is not None:  # a later access tells some members apart: they get runs of their own
                work.append(todo[cut:])
                todo = todo[:cut]
                cut = split_points(run, kind, todo, hi)
            ext = extents(run.log, snap.extents)
            src_dirty = ext[2] < ext[3] and (ext[2] < dlo or ext[3] > dhi)
            outcome = case.classify(run, read_area(), True, ext, snap.pc)
            results.update((p, outcome) for p in todo)
    group.faults = [(p - buf, results[p]) for p in positions]
    return group


# --- sweeps ---------------------------------------------------------------------------------------------------
def parse_ints(text: str | int | Sequence[int], what: str = "value") -> list[int]:
    """'1..1200', '0,4,8', '1..64,128', an int or a list of ints -> sorted unique ints."""
    if isinstance(text, int):
        return [text]
    if not isinstance(text, str):
        try:
            return sorted({int(v) for v in text})
        except (TypeError, ValueError):
            raise ConfigError(f"{what}: expected integers, got {text!r}") from None
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if ".." in part:
                lo, hi = part.split("..", 1)
                a, b = int(lo, 0), int(hi, 0)
                if b < a:
                    raise ValueError
                out.update(range(a, b + 1))
            else:
                out.add(int(part, 0))
        except ValueError:
            raise ConfigError(f"{what}: {part!r} is not an integer or a range a..b") from None
    if not out:
        raise ConfigError(f"{what}: empty")
    return sorted(out)


@dataclass(frozen=True)
class Sweep:
    routine: Routine = Routine()
    lengths: tuple[int, ...] = tuple(range(1, 1201))
    src_aligns: tuple[int, ...] = (0,)
    dst_aligns: tuple[int, ...] = tuple(range(8))
    sides: tuple[str, ...] = ("src",)
    fault_step: int = 1
    brute: bool = False
    platform: str = "default"
    maps: bool = False  # keep per-offset over-estimate and pc arrays (for the HTML report's plots)

    def offsets(self, n: int) -> range:
        return range(0, n, self.fault_step)

    def groups(self) -> list[tuple[int, int, int, str]]:
        return [(n, sa, da, side) for n in self.lengths for sa in self.src_aligns for da in self.dst_aligns
                for side in self.sides]  # fmt: skip

    @property
    def cases(self) -> int:
        return sum(1 + len(self.offsets(n)) for n, _, _, _ in self.groups())


def _sweep_task(sweep: Sweep, groups: list[tuple[int, int, int, str]]) -> list[dict]:
    rig = rig_for(sweep.routine, max(sweep.lengths), sweep.platform)
    out = []
    for n, sa, da, side in groups:
        group = run_group(rig, n, sa, da, side, sweep.offsets(n), clean=True, brute=sweep.brute)
        out.append(summarize_group(group, rig.fn, sweep.maps))
    return out


def summarize_group(group: Group, fn: int, maps: bool) -> dict:
    """The compact per-group result a worker sends back."""
    counts: Counter = Counter()  # fault cases
    clean_counts: Counter = Counter()  # the fault-free run
    per_pc: dict[int, list[int]] = {}  # pc -> [cases, exact, over, over_sum, over_max, lag_max, unsafe]
    examples: list[tuple] = []
    over_sum = over_cases = over_max = lag_max = 0
    over_max_at: tuple | None = None
    over_map = array("H") if maps else None
    pc_map = array("I") if maps else None
    n = group.n
    entries: list[tuple[int | None, Outcome]] = [(None, group.clean)] if group.clean else []
    entries += group.faults
    for f, o in entries:
        flags = o.flags
        for short in _names(flags):
            (counts if f is not None else clean_counts)[short] += 1
        unsafe = is_unsafe(flags)
        over = o.ret - (n - o.written) if flags & Verdict.OVER else 0
        lag = f - o.written if f is not None and not unsafe and f >= o.written else 0
        if f is not None:
            stats = per_pc.setdefault(o.pc if o.pc is not None else NO_PC, [0, 0, 0, 0, 0, 0, 0])
            stats[0] += 1
            stats[1] += bool(flags & Verdict.EXACT)
            stats[2] += bool(flags & Verdict.OVER)
            stats[3] += over
            stats[4] = max(stats[4], over)
            stats[5] = max(stats[5], lag)
            stats[6] += unsafe
            if over_map is not None and pc_map is not None:
                over_map.append(0xFFFF if unsafe else min(over, 0xFFFE))
                pc_map.append(0 if o.pc is None else o.pc - fn + 1)
        if unsafe and len(examples) < 3:
            examples.append((n, group.sa, group.da, group.side, f, outcome_name(flags), o.ret, o.written, o.pc))
        if over:
            over_sum += over
            over_cases += 1
            if over > over_max:
                over_max, over_max_at = over, (n, group.sa, group.da, group.side, f, o.ret, o.written, o.pc)
        lag_max = max(lag_max, lag)
    return {
        "key": (n, group.sa, group.da, group.side), "cases": len(entries), "clean": int(group.clean is not None),
        "runs": group.runs,
        "counts": dict(counts), "clean_counts": dict(clean_counts),
        "unsafe": sum(is_unsafe(o.flags) for _, o in entries), "per_pc": per_pc,
        "over_sum": over_sum, "over_cases": over_cases, "over_max": over_max, "over_max_at": over_max_at,
        "lag_max": lag_max, "examples": examples,
        "over_map": over_map.tobytes() if over_map is not None else None,
        "pc_map": pc_map.tobytes() if pc_map is not None else None,
    }  # fmt: skip


@dataclass
class Summary:
    sweep: Sweep
    fn: int = 0
    cases: int = 0
    runs: int = 0
    groups: int = 0
    unsafe: int = 0
    clean: int = 0  # fault-free cases (one per group)
    counts: Counter = field(default_factory=Counter)  # verdicts of the fault cases
    clean_counts: Counter = field(default_factory=Counter)  # verdicts of the fault-free cases
    by_align: dict[tuple[int, int, str], Counter] = field(default_factory=dict)
    per_pc: dict[int, list[int]] = field(default_factory=dict)
    over_sum: int = 0
    over_cases: int = 0
    over_max: int = 0
    over_max_at: tuple | None = None
    lag_max: int = 0
    examples: list[tuple] = field(default_factory=list)
    maps: dict[tuple[int, int, int, str], tuple[bytes, bytes]] = field(default_factory=dict)
    seconds: float = 0.0
    where: str = ""

    def add(self, g: dict) -> None:
        n, sa, da, side = g["key"]
        self.groups += 1
        self.cases += g["cases"]
        self.runs += g["runs"]
        self.unsafe += g["unsafe"]
        self.counts.update(g["counts"])
        self.clean_counts.update(g["clean_counts"])
        self.clean += g["clean"]
        self.by_align.setdefault((sa, da, side), Counter()).update(g["counts"])
        for pc, st in g["per_pc"].items():
            mine = self.per_pc.setdefault(pc, [0] * 7)
            for i in (0, 1, 2, 3, 6):
                mine[i] += st[i]
            mine[4], mine[5] = max(mine[4], st[4]), max(mine[5], st[5])
        self.over_sum += g["over_sum"]
        self.over_cases += g["over_cases"]
        if g["over_max"] > self.over_max:  # groups come in key order: the first worst case is kept
            self.over_max, self.over_max_at = g["over_max"], g["over_max_at"]
        self.lag_max = max(self.lag_max, g["lag_max"])
        self.examples.extend(g["examples"])
        if g["over_map"] is not None:
            self.maps[g["key"]] = (g["over_map"], g["pc_map"])

    def finish(self) -> None:
        self.examples.sort(key=lambda e: (e[0], e[1], e[2], e[3], -1 if e[4] is None else e[4]))
        del self.examples[20:]

    @property
    def safe(self) -> bool:
        return self.unsafe == 0


def verify(sweep: Sweep, handle: Any = None, progress: bool = True) -> Summary:
    """Run the sweep on the executor (a `campaign.ExecutorHandle`; a local pool if None) and summarize it."""
    from .campaign import Progress, make_executor, run_tasks

    t0 = time.perf_counter()
    for n in sweep.lengths:
        if n < 0:
            raise ConfigError(f"verify: length {n} is negative")
    if sweep.fault_step < 1:
        raise ConfigError(f"verify: fault step must be >= 1, got {sweep.fault_step}")
    rig = rig_for(sweep.routine, max(sweep.lengths), sweep.platform)  # fail early on a bad routine or platform
    for sa, da in ((sa, da) for sa in sweep.src_aligns for da in sweep.dst_aligns):
        _Case(rig, 0, sa, da)
    groups = sorted(sweep.groups(), key=lambda g: -g[0])  # longest first: the pool's tail stays short
    tasks, current, weight = [], [], 0
    budget = max(2_000, min(20_000, sweep.cases // 64 or 1))  # cases per task: ~0.1-0.5 s of work
    for g in groups:
        current.append(g)
        weight += 1 + len(sweep.offsets(g[0]))
        if weight >= budget:
            tasks.append((sweep, current))
            current, weight = [], 0
    if current:
        tasks.append((sweep, current))
    summary = Summary(sweep, fn=rig.fn)
    own = handle is None
    if own:
        handle = make_executor(workers=1 if len(tasks) == 1 else None)
    try:
        results: list[dict] = []
        with Progress(sweep.cases, "verify-copy", progress) as bar:

            def collect(_: int, out: list[dict]) -> None:
                results.extend(out)
                bar.advance(sum(g["cases"] for g in out))

            run_tasks(handle.executor, _sweep_task, tasks, 2 * handle.workers, collect)
        for g in sorted(results, key=lambda g: g["key"]):  # deterministic whatever the completion order
            summary.add(g)
    finally:
        if own:
            handle.__exit__(None, None, None)
    summary.finish()
    summary.seconds = time.perf_counter() - t0
    summary.where = handle.where
    return summary


# --- the routine's phases -------------------------------------------------------------------------------------
@dataclass
class RoutineInfo:
    """The routine's code: the text of each instruction and its loops (backward branches), so a faulting pc can
    be named by the loop it belongs to — the lead loop, the unrolled loop, a tail."""

    name: str
    start: int
    size: int
    text: dict[int, str]
    loops: list[tuple[int, int]]  # [lo, hi) address ranges

    @classmethod
    def of(cls, rig: CopyRig) -> RoutineInfo:
        from .hart.decode import decode, disassemble

        images = rig.plat.kernel.images
        start = rig.fn
        size = 0
        for image in images:
            for name, addr in image.symbols.items():
                if addr == start and image.sizes.get(name):
                    size = image.sizes[name]
        if not size:  # no .size: up to the next symbol
            later = [a for image in images for a in image.symbols.values() if a > start]
            size = min(min(later, default=start + 1024) - start, 4096)
        code = rig.plat.bus.peek(start, size)
        text: dict[int, str] = {}
        loops: list[tuple[int, int]] = []
        pc = 0
        while pc + 2 <= size:
            lo = int.from_bytes(code[pc : pc + 2], "little")
            length = 2 if lo & 3 != 3 else 4
            bits = lo if length == 2 else int.from_bytes(code[pc : pc + 4].ljust(4, b"\0"), "little")
            insn = decode(bits)
            text[start + pc] = disassemble(insn, start + pc, bits)
            backward = insn is not None and insn.imm < 0
            if backward and (insn.name.startswith("b") or (insn.name == "jal" and not insn.rd)):
                loops.append((start + pc + insn.imm, start + pc + length))
            pc += length
        return cls(rig.routine.symbol, start, size, text, loops)

    def phase(self, pc: int) -> str:
        """'loop +0x3c..+0xc0 (16 ld, 16 sd)': the innermost loop holding pc, with the accesses it makes."""
        if pc == NO_PC:
            return "(no fault taken)"
        inside = [(hi - lo, lo, hi) for lo, hi in self.loops if lo <= pc < hi]
        if not inside:
            return "straight-line code"
        _, lo, hi = min(inside)
        ops = Counter(op for a, t in self.text.items() if lo <= a < hi and (op := t.split()[0]) in _ACCESSES)
        accesses = ", ".join(f"{c} {op}" if c > 1 else op for op, c in ops.items())
        return f"loop +{lo - self.start:#x}..+{hi - self.start:#x} ({accesses})"

    def where(self, pc: int) -> str:
        if pc == NO_PC:
            return "-"
        return f"+{pc - self.start:#x} {self.text.get(pc, '?')}"


def phase_rows(summary: Summary, info: RoutineInfo) -> list[dict]:
    """Per-phase statistics, in code order."""
    phases: dict[str, dict] = {}
    for pc in sorted(summary.per_pc):
        st = summary.per_pc[pc]
        name = info.phase(pc)
        row = phases.setdefault(name, {"phase": name, "pcs": [], "cases": 0, "exact": 0, "over": 0,
                                       "over_sum": 0, "over_max": 0, "lag_max": 0, "unsafe": 0})  # fmt: skip
        row["pcs"].append(pc)
        row["cases"] += st[0]
        row["exact"] += st[1]
        row["over"] += st[2]
        row["over_sum"] += st[3]
        row["over_max"] = max(row["over_max"], st[4])
        row["lag_max"] = max(row["lag_max"], st[5])
        row["unsafe"] += st[6]
    for row in phases.values():
        ops = Counter(info.text.get(pc, "?").split()[0] for pc in row["pcs"] if pc != NO_PC)
        row["accesses"] = ", ".join(f"{c}x {op}" if c > 1 else op for op, c in ops.items()) or "-"
    return list(phases.values())


# --- reports --------------------------------------------------------------------------------------------------
def _fmt_list(values: Sequence[int]) -> str:
    if not values:
        return "-"
    runs, start, prev = [], values[0], values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        runs.append(str(start) if start == prev else f"{start}..{prev}")
        if v is not None:
            start = prev = v
    return ",".join(runs)


def describe(sweep: Sweep) -> str:
    step = "every byte" if sweep.fault_step == 1 else f"every {sweep.fault_step} bytes"
    sides = " and ".join({"src": "source", "dst": "destination"}[s] for s in sweep.sides)
    return (f"{sweep.routine.label}: lengths {_fmt_list(sweep.lengths)}, src align {_fmt_list(sweep.src_aligns)}, "
            f"dst align {_fmt_list(sweep.dst_aligns)}, {sides} faults at {step}"
            f"{' (brute force)' if sweep.brute else ''}")  # fmt: skip


def report_lines(summary: Summary, info: RoutineInfo | None = None) -> list[str]:
    s = summary
    faults = s.cases - s.clean
    out = [f"verify-copy {describe(s.sweep)}",
           f"{s.cases:,} cases ({s.clean:,} fault-free, {faults:,} with a fault) in {s.groups:,} groups: "
           f"{s.runs:,} simulated runs, {s.seconds:.1f} s on {s.where}",
           "", f"{'verdict (cases with a fault)':<32} {'cases':>12} {'share':>8}"]  # fmt: skip
    for flag, short, label in VERDICTS:
        count = s.counts.get(short, 0)
        if count or flag in SAFE:
            tag = "" if flag in SAFE else "  UNSAFE"
            out.append(f"{label:<32} {count:>12,} {100 * count / max(faults, 1):>7.2f}%{tag}")
    bad = ", ".join(f"{c:,} {label}" for flag, short, label in VERDICTS if flag not in SAFE
                    and (c := s.clean_counts.get(short, 0)))  # fmt: skip
    out.append(f"fault-free runs: {s.clean_counts.get('exact', 0):,} of {s.clean:,} returned 0 with the whole copy"
               + (f"; UNSAFE: {bad}" if bad else ""))  # fmt: skip
    if s.over_cases:
        where = s.over_max_at
        at = f" (n={where[0]} src%={where[1]} dst%={where[2]} {where[3]} fault at {where[4]}: ret {where[5]}, " \
             f"{where[6]} written)" if where else ""  # fmt: skip
        out.append(f"over-estimate: mean {s.over_sum / s.over_cases:.1f} bytes, max {s.over_max}{at}")
    out.append(f"bytes before the fault left uncopied (safe cases): max {s.lag_max}")
    if info is not None:
        out += ["", f"{'phase (where the fault is taken)':<36} {'cases':>10} {'exact':>10} {'over':>10} "
                    f"{'mean over':>9} {'max over':>9} {'unsafe':>8}"]  # fmt: skip
        for row in phase_rows(s, info):
            mean = row["over_sum"] / max(row["cases"], 1)
            out.append(f"{row['phase']:<36} {row['cases']:>10,} {row['exact']:>10,} {row['over']:>10,} "
                       f"{mean:>9.1f} {row['over_max']:>9} {row['unsafe']:>8,}")  # fmt: skip
    if s.examples:
        out += ["", "unsafe cases (first of each group, up to 20):"]
        for n, sa, da, side, f, name, ret, written, pc in s.examples:
            fault = "no fault" if f is None else f"{side} fault at {f}"
            pcs = "" if pc is None or info is None else f" at {info.where(pc)}"
            out.append(f"  n={n} src%={sa} dst%={da} {fault}: {name}, ret={ret}, written={written}{pcs}")
    out += ["", "result: " + ("SAFE - no unsafe class" if s.safe else f"UNSAFE - {s.unsafe:,} unsafe cases")]
    return out


def write_html(summary: Summary, out_dir: str | os.PathLike, info: RoutineInfo) -> tuple[Path, bool]:
    """Write index.html (and PNG plots when matplotlib is installed). Returns (path, plots written)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images: list[tuple[str, str]] = []
    plots = True
    try:
        images = _plots(summary, info, out)
    except ImportError:
        plots = False
    s = summary
    esc = html.escape
    faults = s.cases - s.clean
    rows = "".join(
        f"<tr class='{'' if flag in SAFE else 'unsafe'}'><td>{esc(label)}</td><td>{s.counts.get(short, 0):,}</td>"
        f"<td>{100 * s.counts.get(short, 0) / max(faults, 1):.2f}%</td><td>{s.clean_counts.get(short, 0):,}</td></tr>"
        for flag, short, label in VERDICTS
    )
    phase = "".join(
        f"<tr><td>{esc(r['phase'])}</td><td>{esc(r['accesses'])}</td><td>{r['cases']:,}</td><td>{r['exact']:,}</td>"
        f"<td>{r['over']:,}</td><td>{r['over_sum'] / max(r['cases'], 1):.1f}</td><td>{r['over_max']}</td>"
        f"<td>{r['lag_max']}</td><td>{r['unsafe']:,}</td></tr>"
        for r in phase_rows(s, info)
    )
    pcs = "".join(
        f"<tr><td>{esc(info.where(pc))}</td><td>{esc(info.phase(pc))}</td><td>{st[0]:,}</td><td>{st[1]:,}</td>"
        f"<td>{st[2]:,}</td><td>{st[4]}</td><td>{st[6]:,}</td></tr>"
        for pc, st in sorted(s.per_pc.items())
    )
    align = "".join(
        f"<tr><td>{sa}</td><td>{da}</td><td>{side}</td>"
        + "".join(f"<td>{c.get(short, 0):,}</td>" for _, short, _ in VERDICTS)
        + "</tr>"
        for (sa, da, side), c in sorted(s.by_align.items())
    )
    heads = "".join(f"<th>{esc(short)}</th>" for _, short, _ in VERDICTS)
    examples = "".join(
        f"<tr><td>{n}</td><td>{sa}</td><td>{da}</td><td>{side}</td><td>{'-' if f is None else f}</td>"
        f"<td>{esc(name)}</td><td>{ret}</td><td>{written}</td><td>{esc(info.where(pc) if pc else '-')}</td></tr>"
        for n, sa, da, side, f, name, ret, written, pc in s.examples
    )
    figures = "".join(f"<figure><img src='{esc(f)}' alt='{esc(c)}'><figcaption>{esc(c)}</figcaption></figure>"
                      for f, c in images)  # fmt: skip
    if not plots:
        figures = "<p class='note'>matplotlib is not installed (pip install 'rasplat[report]'): tables only.</p>"
    verdict = "SAFE: no unsafe class" if s.safe else f"UNSAFE: {s.unsafe:,} unsafe cases"
    over = (f"mean {s.over_sum / s.over_cases:.1f} bytes over {s.over_cases:,} cases, max {s.over_max}"
            if s.over_cases else "none")  # fmt: skip
    doc = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>verify-copy: {esc(s.sweep.routine.symbol)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 80em; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ccc; padding: 2px 8px; }}
td {{ text-align: right; font-family: monospace; }} td:first-child {{ text-align: left; }}
tr.unsafe td {{ color: #a00; }} .verdict {{ font-size: 1.3em; font-weight: bold; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; }} .note {{ color: #666; }}
</style></head><body>
<h1>verify-copy: {esc(s.sweep.routine.label)}</h1>
<p>{esc(describe(s.sweep))}</p>
<p>{s.cases:,} cases ({s.clean:,} fault-free, {faults:,} with a fault) in {s.groups:,} groups;
{s.runs:,} simulated runs; {s.seconds:.1f} s on {esc(s.where)}.</p>
<p class="verdict">{esc(verdict)}</p>
<h2>Verdicts</h2><table><tr><th>verdict</th><th>cases with a fault</th><th>share</th><th>fault-free cases</th></tr>
{rows}</table>
<p>Over-estimate: {esc(over)}. Bytes before the fault left uncopied (safe cases): at most {s.lag_max}.</p>
<h2>Plots</h2>{figures}
<h2>Phases</h2>
<p>mean over: the mean over-estimate of the phase's cases (an exact count counts as 0).</p>
<table><tr><th>phase</th><th>faulting accesses</th><th>cases</th><th>exact</th><th>over</th><th>mean over</th>
<th>max over</th><th>max uncopied before fault</th><th>unsafe</th></tr>{phase}</table>
<h2>Faulting instructions</h2>
<table><tr><th>pc</th><th>phase</th><th>cases</th><th>exact</th><th>over</th><th>max over</th><th>unsafe</th></tr>
{pcs}</table>
<h2>By alignment</h2><table><tr><th>src%</th><th>dst%</th><th>side</th>{heads}</tr>{align}</table>
<h2>Unsafe cases</h2>
<table><tr><th>n</th><th>src%</th><th>dst%</th><th>side</th><th>fault</th><th>verdict</th><th>ret</th><th>written</th>
<th>pc</th></tr>{examples or "<tr><td colspan=9>none</td></tr>"}</table>
</body></html>
"""
    path = out / "index.html"
    path.write_text(doc)
    return path, plots


def _plots(summary: Summary, info: RoutineInfo, out: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    s = summary
    if not s.maps:
        return []
    lengths = sorted({k[0] for k in s.maps})
    side = s.sweep.sides[0]
    sa = s.sweep.src_aligns[0]
    das = [da for da in s.sweep.dst_aligns if (lengths[0], sa, da, side) in s.maps]
    step = s.sweep.fault_step
    max_n = max(lengths)
    rows = (max_n + step - 1) // step
    col = {n: i for i, n in enumerate(lengths)}
    extent = (lengths[0] - 0.5, lengths[-1] + 0.5, -0.5, rows * step - 0.5)

    def grid(da: int, which: int, dtype: str) -> Any:
        m = np.full((rows, len(lengths)), np.nan)
        for n in lengths:
            blob = s.maps.get((n, sa, da, side))
            if blob is None:
                continue
            values = np.frombuffer(blob[which], dtype=dtype).astype(float)
            m[: len(values), col[n]] = values
        return m

    images = []
    # 1. over-estimate by fault offset and length, one panel per destination alignment
    ncols = min(4, len(das))
    nrows = (len(das) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), squeeze=False, sharex=True, sharey=True)
    vmax = max(s.over_max, 1)
    cmap = matplotlib.colormaps["viridis"].with_extremes(over="red")  # unsafe cases are stored as 0xFFFF
    for ax, da in zip(axes.flat, das, strict=False):
        im = ax.imshow(grid(da, 0, "<u2"), origin="lower", aspect="auto", extent=extent, cmap=cmap, vmin=0,
                       vmax=vmax, interpolation="nearest")  # fmt: skip
        ax.set_title(f"dst % 8 = {da}" if max(das) < 8 else f"dst align {da}", fontsize=9)
    for ax in axes.flat[len(das) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("length n")
    for ax in axes[:, 0]:
        ax.set_ylabel("fault offset")
    fig.colorbar(im, ax=axes, label="over-estimate (bytes); red: unsafe", shrink=0.8, extend="max")
    fig.suptitle(f"{info.name}: returned minus bytes not written, {side} faults, src align {sa}")
    fig.savefig(out / "over_estimate.png", dpi=90)
    plt.close(fig)
    images.append(("over_estimate.png", "Over-estimate by fault offset (y) and length (x), per dst alignment"))

    # 2. where each phase of the routine is: the loop that takes the fault, for the alignments (up to three)
    # that take faults in different sets of loops
    phases = sorted({info.phase(pc) for pc in s.per_pc}, key=lambda p: (p.startswith("("), p))
    index = {p: i for i, p in enumerate(phases)}
    shown: list[tuple[int, Any]] = []
    seen: set[frozenset] = set()
    for da in das:
        pcs = grid(da, 1, "<u4")
        m = np.full(pcs.shape, np.nan)
        for off in np.unique(pcs[~np.isnan(pcs)]):
            pc = NO_PC if off == 0 else info.start + int(off) - 1
            m[pcs == off] = index[info.phase(pc)]
        key = frozenset(np.unique(m[~np.isnan(m)]).tolist())
        if key not in seen and len(shown) < 3:
            seen.add(key)
            shown.append((da, m))
    fig, axes = plt.subplots(1, len(shown), figsize=(5.5 * len(shown), 4.6), squeeze=False, sharey=True)
    cmap = matplotlib.colormaps["tab10"].resampled(max(len(phases), 1))
    for ax, (da, m) in zip(axes.flat, shown, strict=False):
        ax.imshow(m, origin="lower", aspect="auto", extent=extent, cmap=cmap, vmin=-0.5,
                  vmax=len(phases) - 0.5, interpolation="nearest")  # fmt: skip
        ax.set_title(f"dst align {da}", fontsize=9)
        ax.set_xlabel("length n")
    axes[0, 0].set_ylabel("fault offset")
    handles = [matplotlib.patches.Patch(color=cmap(i), label=p) for i, p in enumerate(phases)]
    fig.legend(handles=handles, loc="lower center", ncol=min(4, len(phases)), fontsize=8)
    fig.suptitle(f"{info.name}: the loop whose access takes the fault, {side} faults, src align {sa}")
    fig.subplots_adjust(bottom=0.25)
    fig.savefig(out / "phases.png", dpi=90)
    plt.close(fig)
    images.append(("phases.png", "Where each phase of the routine is: the loop that takes the fault"))

    # 3. worst and mean over-estimate per length
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for da in das:
        g = grid(da, 0, "<u2")
        g[g >= 0xFFFF] = np.nan
        ax.plot(lengths, np.nanmax(np.nan_to_num(g, nan=-1), axis=0).clip(0), label=f"max, dst align {da}", lw=1)
    ax.set_xlabel("length n")
    ax.set_ylabel("over-estimate (bytes)")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(f"{info.name}: worst over-estimate per length")
    fig.tight_layout()
    fig.savefig(out / "over_by_length.png", dpi=90)
    plt.close(fig)
    images.append(("over_by_length.png", "Worst over-estimate per length and dst alignment"))
    return images


# --- campaigns: the copy_mc scenario --------------------------------------------------------------------------
COPY_COLUMNS = ("n", "src_align", "dst_align", "side", "fault", "outcome", "ret", "written", "pc", "steps")


def _copy_runs(params: dict, faults: dict) -> Iterable[tuple]:
    unknown = set(faults) - {"lengths", "src_align", "dst_align", "side", "offsets", "clean"}
    if unknown:
        raise ConfigError(f"copy_mc: unknown [faults] key(s) {', '.join(sorted(unknown))}")
    unknown = set(params) - {"routine", "elf", "pruning"}
    if unknown:
        raise ConfigError(f"copy_mc: unknown [scenario] key(s) {', '.join(sorted(unknown))}")
    lengths = parse_ints(faults.get("lengths", "1..64"), "lengths")
    src_aligns = parse_ints(faults.get("src_align", 0), "src_align")
    dst_aligns = parse_ints(faults.get("dst_align", "0..7"), "dst_align")
    side = faults.get("side", "src")
    sides = [side] if isinstance(side, str) else list(side)
    for s in sides:
        if s not in SIDES:
            raise ConfigError(f"copy_mc: side must be one of {', '.join(SIDES)}, got {s!r}")
    offsets = faults.get("offsets", "all")
    clean = bool(faults.get("clean", True))
    for n in lengths:
        offs: Sequence[int] = range(n) if offsets == "all" else [f for f in parse_ints(offsets, "offsets") if f < n]
        for sa in src_aligns:
            for da in dst_aligns:
                if clean:
                    yield (n, sa, da, "none", None)
                for side_ in sides:
                    for f in offs:
                        yield (n, sa, da, side_, f)


def copy_mc_execute(platform: str, params: dict, runs: list[tuple[int, tuple]]) -> list[list]:
    """Execute copy_mc runs: grouped by (n, alignments, side), each group through run_group (pruned unless
    params["pruning"] is false). Rows in the order of `runs`."""
    routine = Routine(params.get("routine", "__memcpy_mc"), params.get("elf"))
    brute = not params.get("pruning", True)
    rig = rig_for(routine, max(r[0] for _, r in runs), platform)
    groups: dict[tuple, dict[int | None, int]] = {}
    for rid, (n, sa, da, side, f) in runs:
        groups.setdefault((n, sa, da), {}).setdefault((side, f), rid)
    rows: dict[int, list] = {}
    for (n, sa, da), members in groups.items():
        clean_rid = members.get(("none", None))
        for side in SIDES:
            offs = [f for (s, f) in members if s == side]
            if not offs and not (clean_rid is not None and side == "src"):
                continue
            clean = clean_rid is not None and side == "src"
            g = run_group(rig, n, sa, da, side, offs, clean=clean, brute=brute)
            if clean and g.clean is not None and clean_rid is not None:
                rows[clean_rid] = _copy_row(clean_rid, n, sa, da, "none", None, g.clean)
                clean_rid = None
            for f, o in g.faults:
                rid = members[(side, f)]
                rows[rid] = _copy_row(rid, n, sa, da, side, f, o)
    return [rows[rid] for rid, _ in runs]


def _copy_row(rid: int, n: int, sa: int, da: int, side: str, f: int | None, o: Outcome) -> list:
    return [rid, n, sa, da, side, f, outcome_name(o.flags), o.ret, o.written, o.pc, o.retired]


def register_campaign_scenarios() -> None:
    from .campaign import SCENARIOS, Scenario, register_scenario

    if "copy_mc" not in SCENARIOS:
        register_scenario(Scenario(
            name="copy_mc", columns=COPY_COLUMNS, runs=_copy_runs, execute=copy_mc_execute,
            describe="a copy routine against a fault window on its source or destination",
        ))  # fmt: skip
