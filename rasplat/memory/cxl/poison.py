"""The device's poison list: the Media Error Records Get Poison List reports (reference memory-ras.md §1.3,
§2.2, Implications B2).

The list is what the device *reports*; whether a line *is* poisoned is the media's business (the RAM's poison
set). They differ on purpose: past `max_records` a newly known poisoned line cannot be listed, so it is kept
aside (QEMU's "backup" list) and the list is marked overflowed with a timestamp. Only a Scan Media that
brings every set-aside line back into the list clears the overflow.

Records are kept sorted by DPA and never overlap. No cited source fixes an order (QEMU returns newest first);
DPA order lets Get Poison List resume from a DPA cursor without duplicates or gaps.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import IntEnum

from ...errors import ConfigError

LINE = 64


class Source(IntEnum):
    """`CXL_POISON_SOURCE_*`: bits[2:0] of a Media Error Record's address."""

    UNKNOWN = 0
    EXTERNAL = 1
    INTERNAL = 2
    INJECTED = 3
    VENDOR = 7


SOURCE_NAMES = {0: "Unknown", 1: "External", 2: "Internal", 3: "Injected", 7: "Vendor"}  # Linux trace.h


def source_name(code: int) -> str:
    return SOURCE_NAMES.get(code, "Reserved")


@dataclass
class PoisonRecord:
    dpa: int
    lines: int
    source: Source

    @property
    def end(self) -> int:
        return self.dpa + self.lines * LINE


class PoisonList:
    def __init__(self, max_records: int = 256) -> None:
        if not 1 <= max_records <= 0xFFFFFF:  # poison_list_max_mer is a 3-byte Identify field
            raise ConfigError(f"CXL poison list: max records {max_records} must be 1..16777215")
        self.max_records = max_records
        self.records: list[PoisonRecord] = []
        self._starts: list[int] = []
        self.unlisted: dict[int, Source] = {}  # known poisoned lines the full list could not take
        self.overflowed = False
        self.overflow_ts = 0

    def __len__(self) -> int:
        return len(self.records)

    # --- lookup -------------------------------------------------------------------------------------------------
    def covering(self, dpa: int) -> PoisonRecord | None:
        i = bisect.bisect_right(self._starts, dpa) - 1
        if i >= 0 and dpa < self.records[i].end:
            return self.records[i]
        return None

    def overlapping(self, start: int, end: int) -> list[PoisonRecord]:
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        out = []
        for rec in self.records[i:]:
            if rec.dpa >= end:
                break
            if rec.end > start:
                out.append(rec)
        return out

    def injected_count(self) -> int:
        return sum(1 for r in self.records if r.source == Source.INJECTED)

    def is_known(self, dpa: int) -> bool:
        return self.covering(dpa) is not None or dpa in self.unlisted

    # --- changes ------------------------------------------------------------------------------------------------
    def _insert(self, rec: PoisonRecord) -> None:
        i = bisect.bisect_left(self._starts, rec.dpa)
        self.records.insert(i, rec)
        self._starts.insert(i, rec.dpa)

    def _remove(self, rec: PoisonRecord) -> None:
        i = self.records.index(rec)
        del self.records[i]
        del self._starts[i]

    def set_overflow(self, now_ts: int) -> None:
        if not self.overflowed:  # the time the list first overflowed, kept until a scan clears it
            self.overflowed = True
            self.overflow_ts = now_ts

    def add(self, dpa: int, lines: int, source: Source, now_ts: int) -> tuple[list[int], list[int]]:
        """Record [dpa, dpa + 64*lines) as poisoned. Lines already listed are left alone (not an error, §1.3).
        Returns (newly listed line DPAs, line DPAs set aside because the list was full)."""
        runs: list[list[int]] = []  # maximal stretches of lines no record covers yet
        for line in range(dpa, dpa + lines * LINE, LINE):
            if self.covering(line) is not None:
                continue
            if runs and runs[-1][1] == line:
                runs[-1][1] = line + LINE
            else:
                runs.append([line, line + LINE])
        listed: list[int] = []
        aside: list[int] = []
        for start, end in runs:
            self._add_run(start, end, source, now_ts, listed, aside)
        return listed, aside

    def _add_run(self, start: int, end: int, source: Source, now_ts: int, listed: list[int], aside: list[int]) -> None:
        lines = range(start, end, LINE)
        if len(self.records) < self.max_records:
            self._insert(PoisonRecord(start, len(lines), source))
            for line in lines:
                self.unlisted.pop(line, None)
            listed.extend(lines)
        else:
            for line in lines:
                self.unlisted.setdefault(line, source)
            aside.extend(lines)
            self.set_overflow(now_ts)

    def remove_line(self, dpa: int, now_ts: int) -> bool:
        """Forget one line (Clear Poison). Clearing the middle of a record splits it in two; if that needs one
        record more than the list holds, the upper fragment is set aside and the list overflows (§2.2)."""
        was = self.unlisted.pop(dpa, None) is not None
        rec = self.covering(dpa)
        if rec is None:
            return was
        self._remove(rec)
        if dpa > rec.dpa:
            self._insert(PoisonRecord(rec.dpa, (dpa - rec.dpa) // LINE, rec.source))
        if dpa + LINE < rec.end:
            upper = PoisonRecord(dpa + LINE, (rec.end - dpa - LINE) // LINE, rec.source)
            if len(self.records) < self.max_records:
                self._insert(upper)
            else:
                for line in range(upper.dpa, upper.end, LINE):
                    self.unlisted.setdefault(line, rec.source)
                self.set_overflow(now_ts)
        return True

    def clear(self) -> None:
        self.records.clear()
        self._starts.clear()
        self.unlisted.clear()
        self.overflowed = False
        self.overflow_ts = 0

    # --- checkpoints -----------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return {"records": [[r.dpa, r.lines, int(r.source)] for r in self.records],
                "unlisted": [[dpa, int(source)] for dpa, source in self.unlisted.items()],
                "overflowed": self.overflowed, "overflow_ts": self.overflow_ts}  # fmt: skip

    def restore(self, state: dict) -> None:
        self.records = [PoisonRecord(dpa, lines, Source(source)) for dpa, lines, source in state["records"]]
        self._starts = [r.dpa for r in self.records]
        self.unlisted = {dpa: Source(source) for dpa, source in state["unlisted"]}
        self.overflowed, self.overflow_ts = state["overflowed"], state["overflow_ts"]

    # --- reporting ----------------------------------------------------------------------------------------------
    def window(self, start: int, end: int, cursor: int) -> list[tuple[int, int, Source]]:
        """Records overlapping [max(start, cursor), end), clipped to it: (dpa, lines, source), in DPA order."""
        lo = max(start, cursor)
        out = []
        for rec in self.overlapping(lo, end):
            a, b = max(rec.dpa, lo), min(rec.end, end)
            out.append((a, (b - a) // LINE, rec.source))
        return out
