"""Simulated time. Runs never wait on the wall clock: a scrub cycle or a 24-hour window is a parameter.

Time is in integer nanoseconds: hart 0's retired instructions (at `ns_per_instruction`, 1 by default, a
1 GHz IPC-1 hart) plus whatever `advance()` added. Timers scheduled with `at()`/`after()` fire, in time
order (ties in scheduling order), from `advance()` and from `poll()`, which the platform calls between
run chunks — never per instruction.

Timer callbacks are closures, which no checkpoint can hold. So a component that schedules timers names each
one with a `tag` and keeps its deadline in its own state; a restore re-arms them from there, and `reorder()`
gives the re-armed timers their original scheduling order, so ties still fire as in the uninterrupted run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from .errors import CheckpointError

NS_PER_S = 1_000_000_000


class Clock:
    def __init__(self, instret: Callable[[], int] = lambda: 0, ns_per_instruction: int = 1) -> None:
        self._instret = instret
        self.ns_per_instruction = ns_per_instruction
        self._advanced = 0
        self._timers: list[tuple[int, int, Callable[[int], None], str | None]] = []  # (when, seq, callback, tag)
        self._seq = 0

    def now(self) -> int:
        """Nanoseconds since the platform was built."""
        return self._advanced + self._instret() * self.ns_per_instruction

    def seconds(self) -> float:
        return self.now() / NS_PER_S

    def at(self, when_ns: int, callback: Callable[[int], None], tag: str | None = None) -> None:
        """Call `callback(now_ns)` once the clock reaches `when_ns`. `tag` names the timer for checkpoints
        (its owner re-arms it on restore); untagged timers make a platform impossible to checkpoint."""
        heapq.heappush(self._timers, (when_ns, self._seq, callback, tag))
        self._seq += 1

    def after(self, delay_ns: int, callback: Callable[[int], None], tag: str | None = None) -> None:
        self.at(self.now() + delay_ns, callback, tag)

    def advance(self, seconds: float = 0.0, ns: int = 0) -> int:
        """Move time forward (idle time, no instructions run), firing due timers at their own times."""
        target = self.now() + int(seconds * NS_PER_S) + ns
        while self._timers and self._timers[0][0] <= target:
            when, _, callback, _ = heapq.heappop(self._timers)
            self._advanced += max(0, when - self.now())
            callback(self.now())
        self._advanced += max(0, target - self.now())
        return self.now()

    def poll(self) -> None:
        """Fire the timers that instruction execution has made due."""
        now = self.now()
        while self._timers and self._timers[0][0] <= now:
            _, _, callback, _ = heapq.heappop(self._timers)
            callback(now)

    @property
    def pending(self) -> int:
        return len(self._timers)

    # --- checkpoints -----------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        untagged = [when for when, _, _, tag in self._timers if tag is None]
        if untagged:
            raise CheckpointError(
                f"checkpoint: {len(untagged)} pending timer(s) (first due at {min(untagged)} ns) were scheduled "
                "without a tag, so nothing could re-arm them on restore"
            )
        timers = sorted((seq, when, tag) for when, seq, _, tag in self._timers)
        return {"advanced": self._advanced, "seq": self._seq, "timers": [list(t) for t in timers]}

    def restore(self, state: dict) -> None:
        """Time as saved, and no timers: their owners re-arm them, then `reorder(state)` orders them."""
        self._advanced = state["advanced"]
        self._timers = []

    def reorder(self, state: dict) -> None:
        """Give each re-armed timer the scheduling number it had when saved (ties fire in the same order)."""
        saved = {(tag, when): seq for seq, when, tag in state["timers"]}
        timers = []
        for when, _, callback, tag in self._timers:
            seq = saved.get((tag, when))
            if seq is None:
                raise CheckpointError(f"checkpoint: restore armed a timer {tag!r} at {when} ns that was not pending")
            timers.append((when, seq, callback, tag))
        heapq.heapify(timers)
        self._timers = timers
        self._seq = state["seq"]
