"""VCD (GTKWave) of the low-rate signals a trace implies, through pyvcd (`pip install 'rasplat[vcd]'`).

Signals, under one scope per platform (`p0`, `p1`, ...):
- `hartH.mip.9`, `.11`, `.35`, `.43`: SEIP and MEIP (any identity pending in the hart's S- or M-level IMSIC
  file) and the local RAS interrupt lines (low 35, high 43), driven by the RERI banks the trace header routes
  to them (without wiring in the header: ras-high to 43, ras-low to 35, as the default platform wires them);
- `imsic.hartH.S.pending.ID` (and `.M.`): set by `imsic.pending`, cleared when the kernel claims the identity;
- `aplic.DOMAIN.pending.SOURCE`: set by `aplic.pending`, cleared when the APLIC forwards it as an MSI;
- `reri.BANK.recordI.v` and `.status` (64 bits): set by `reri.log`; the kernel's read (`reri_event`) invalidates
  the record. Firmware-first, the firmware reads and invalidates records before the SSE, which no event shows,
  so there `v` drops at the kernel's `reri_event`, later than the hardware did.
A bank's RAS signal is asserted while a record it raised it for is valid.

Times are the exporters' display timeline (one instruction = 1 ms, same-instruction events 10 µs apart), so
an interrupt line that rises and falls within one instruction still shows as a pulse.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from ..errors import RasplatError
from ..trace import Trace
from . import display_us, platforms_of

MIP_BITS = (9, 11, 35, 43)
DEFAULT_LOCAL = {"high": 43, "low": 35}


def _name(path: str) -> str:
    """A device-tree path as a VCD scope name: '/soc/ras@1a000000' -> 'ras_1a000000'."""
    return re.sub(r"[^A-Za-z0-9_]", "_", path.rstrip("/").rsplit("/", 1)[-1]) or "root"


class _Signals:
    """The derived waveforms of one platform: (scope, name) -> size and a list of (time, value) changes."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.sizes: dict[tuple[str, str], int] = {}
        self.changes: list[tuple[int, tuple[str, str], int]] = []
        self.values: dict[tuple[str, str], int] = {}

    def declare(self, scope: str, name: str, size: int = 1) -> tuple[str, str]:
        key = (f"{self.prefix}.{scope}", name)
        self.sizes.setdefault(key, size)
        return key

    def set(self, at: int, scope: str, name: str, value: int, size: int = 1) -> None:
        key = self.declare(scope, name, size)
        if self.values.get(key, 0) != value:
            self.values[key] = value
            self.changes.append((at, key, value))


def derive(trace: Trace, index: int) -> _Signals:
    desc = trace.platforms[index]
    events = trace.events(index)
    sig = _Signals(f"p{index}")
    harts = desc.get("harts") or sorted({e["hart"] for e in events if isinstance(e.get("hart"), int)}) or [0]
    for hart in harts:
        for bit in MIP_BITS:
            sig.declare(f"hart{hart}.mip", str(bit))
    routes = {(b["name"], s): r[1] for b in desc.get("reri", []) for s, r in b.get("routes", {}).items()
              if r[0] == "local"}  # fmt: skip
    described = {b["name"] for b in desc.get("reri", [])}
    banks = {b["name"]: _name(b["name"]) for b in desc.get("reri", [])}
    for bank in desc.get("reri", []):
        for r in range(bank.get("records", 0)):
            sig.declare(f"reri.{banks[bank['name']]}.record{r}", "v")
            sig.declare(f"reri.{banks[bank['name']]}.record{r}", "status", 64)
    asserted: dict[tuple[str, int], set[str]] = defaultdict(set)  # (bank, record) -> signals it holds asserted
    status: dict[tuple[str, int], int] = {}
    pending: dict[tuple[int, str], set[int]] = defaultdict(set)  # (hart, level) -> IMSIC identities

    def local_lines(at: int) -> None:
        for hart_bit in (35, 43):
            level = any(
                (routes.get((bank, s)) if bank in described else DEFAULT_LOCAL.get(s)) == hart_bit
                for (bank, _), kinds in asserted.items() for s in kinds
            )  # fmt: skip
            sig.set(at, f"hart{harts[0]}.mip", str(hart_bit), int(level))

    def record(at: int, bank: str, r: int, value: int) -> None:
        scope = f"reri.{banks.setdefault(bank, _name(bank))}.record{r}"
        status[(bank, r)] = value
        sig.set(at, scope, "status", value & (1 << 64) - 1, 64)
        sig.set(at, scope, "v", value & 1)

    for e, at in zip(events, display_us(events), strict=True):
        kind = e["kind"]
        if kind == "reri.log" and isinstance(e.get("record"), int):
            bank, r = e["bank"], e["record"]
            record(at, bank, r, e.get("status") or 0)
            if e.get("status", 0) & 1:
                asserted[(bank, r)] |= set(e.get("signals") or [])
            local_lines(at)
        elif kind == "reri_event" and isinstance(e.get("record"), int):
            bank, r = str(e["err_src_id"]), e["record"]
            record(at, bank, r, status.get((bank, r), e.get("status") or 0) & ~1)  # the driver's sinv clears v
            asserted.pop((bank, r), None)
            local_lines(at)
        elif kind == "imsic.pending":
            hart, level = e.get("hart", 0), e.get("level", "S")
            pending[(hart, level)].add(e["identity"])
            sig.set(at, f"imsic.hart{hart}.{level}.pending", str(e["identity"]), 1)
            sig.set(at, f"hart{hart}.mip", "9" if level == "S" else "11", 1)
        elif kind == "irq" and "identity" in e:  # the kernel (S) or firmware (M) claims an identity
            hart, level = e.get("hart", 0), e.get("level", "S")
            pending[(hart, level)].discard(e["identity"])
            sig.set(at, f"imsic.hart{hart}.{level}.pending", str(e["identity"]), 0)
            sig.set(at, f"hart{hart}.mip", "9" if level == "S" else "11", int(bool(pending[(hart, level)])))
        elif kind == "aplic.pending":
            sig.set(at, f"aplic.{_name(e['domain'])}.pending", str(e["source"]), 1)
        elif kind in ("aplic.msi", "aplic.msi_fault"):
            sig.set(at, f"aplic.{_name(e['domain'])}.pending", str(e["source"]), 0)
    return sig


def write_vcd(trace: Trace, path: Path, platform: int | None = None) -> Path:
    try:
        from vcd import VCDWriter
    except ImportError:
        raise RasplatError("VCD export needs pyvcd: pip install 'rasplat[vcd]'") from None
    signals = [derive(trace, index) for index in platforms_of(trace, platform)]
    changes = sorted((c for s in signals for c in s.changes), key=lambda c: c[0])  # stable: stream order kept
    try:
        with open(path, "w") as f, VCDWriter(
            f, timescale="1 us", date="", version=f"rasplat {trace.header.get('rasplat', '?')}",
            comment="1 ms = 1 instruction retired by hart 0 (t); events at the same t are 10 us apart",
        ) as writer:  # fmt: skip
            handles = {}
            for s in signals:
                for key in sorted(s.sizes, key=_natural):
                    kind = "wire" if s.sizes[key] == 1 else "reg"
                    handles[key] = writer.register_var(key[0], key[1], kind, size=s.sizes[key], init=0)
            for at, key, value in changes:
                writer.change(handles[key], at, value)
    except OSError as e:
        raise RasplatError(f"{path}: cannot write ({e.strerror})") from None
    return path


def _natural(key: tuple[str, str]) -> tuple:
    """Scope then name, numbers compared as numbers (mip.9 before mip.35, record2 before record10)."""
    return tuple(tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", part)) for part in key)
