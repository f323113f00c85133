"""Exporters: a trace as files that other tools open.

- `perfetto`: Chrome/Perfetto trace-event JSON (ui.perfetto.dev, chrome://tracing): a process per platform,
  a track per hart, memory region or device, interrupt controller and RERI bank, and one for the kernel.
- `vcd`: a value change dump (GTKWave) of interrupt lines, IMSIC/APLIC pending bits and RERI record status.
- `rasdaemon`: a sqlite file with rasdaemon's tables (`mc_event`, `memory_failure_event`, `cxl_*_event`,
  `signal_event`, `reri_event`), so queries written for `ras-mc-ctl` and vendors' scripts run on it.

Time. Events carry `t`, hart 0's retired instructions. Many happen at the same `t` (a trap, its fixup and the
RAS interrupt that follows retire no instruction in between), so the timeline exporters draw one instruction
as one millisecond and space events that share a `t` 10 µs apart in stream order (`display_us`): order and
nesting stay visible, every timestamp is a whole number of microseconds, and `t` is exact to the millisecond.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import RasplatError
from ..trace import Trace

FORMATS = ("perfetto", "vcd", "rasdaemon")
US_PER_INSTRUCTION = 1000  # one instruction is one millisecond on the exported timeline
SPACING_US = 10  # between events that share a t (up to 99 of them before the timeline drifts past the next t)


def display_us(events: list[dict]) -> list[int]:
    """Microseconds on the exported timeline for each event of one platform: strictly increasing integers."""
    out: list[int] = []
    last = -SPACING_US
    for e in events:
        last = max(e.get("t", 0) * US_PER_INSTRUCTION, last + SPACING_US)
        out.append(last)
    return out


def platforms_of(trace: Trace, platform: int | None) -> list[int]:
    """The platform indexes to export: all that have events, or the one asked for."""
    if platform is not None:
        if not 0 <= platform < len(trace.platforms):
            raise RasplatError(f"{trace.path}: no platform {platform} (the trace has {len(trace.platforms)})")
        return [platform]
    present = {p for p, _ in trace.records}
    return [p for p in range(len(trace.platforms)) if p in present]


def export(trace: Trace, fmt: str, out: str | os.PathLike, platform: int | None = None) -> Path:
    """Write `trace` to `out` in format `fmt` (one of FORMATS); `platform` limits it to one platform."""
    path = Path(out)
    if fmt == "perfetto":
        from .perfetto import write_perfetto

        return write_perfetto(trace, path, platform)
    if fmt == "vcd":
        from .vcd import write_vcd

        return write_vcd(trace, path, platform)
    if fmt == "rasdaemon":
        from .rasdaemon import write_rasdaemon

        return write_rasdaemon(trace, path, platform)
    raise RasplatError(f"unknown export format {fmt!r} (have: {', '.join(FORMATS)})")
