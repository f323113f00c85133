"""Simulated time. Runs never wait on the wall clock: a scrub cycle or a 24-hour window is a parameter.

Time is in integer nanoseconds: hart 0's retired instructions (at `ns_per_instruction`, 1 by default, a
1 GHz IPC-1 hart) plus whatever `advance()` added. Timers scheduled with `at()`/`after()` fire, in time
order (ties in scheduling order), from `advance()` and from `poll()`, which the platform calls between
run chunks — never per instruction.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

NS_PER_S = 1_000_000_000


class Clock:
    def __init__(self, instret: Callable[[], int] = lambda: 0, ns_per_instruction: int = 1) -> None:
        self._instret = instret
        self.ns_per_instruction = ns_per_instruction
        self._advanced = 0
        self._timers: list[tuple[int, int, Callable[[int], None]]] = []
        self._seq = itertools.count()

    def now(self) -> int:
        """Nanoseconds since the platform was built."""
        return self._advanced + self._instret() * self.ns_per_instruction

    def seconds(self) -> float:
        return self.now() / NS_PER_S

    def at(self, when_ns: int, callback: Callable[[int], None]) -> None:
        """Call `callback(now_ns)` once the clock reaches `when_ns`."""
        heapq.heappush(self._timers, (when_ns, next(self._seq), callback))

    def after(self, delay_ns: int, callback: Callable[[int], None]) -> None:
        self.at(self.now() + delay_ns, callback)

    def advance(self, seconds: float = 0.0, ns: int = 0) -> int:
        """Move time forward (idle time, no instructions run), firing due timers at their own times."""
        target = self.now() + int(seconds * NS_PER_S) + ns
        while self._timers and self._timers[0][0] <= target:
            when, _, callback = heapq.heappop(self._timers)
            self._advanced += max(0, when - self.now())
            callback(self.now())
        self._advanced += max(0, target - self.now())
        return self.now()

    def poll(self) -> None:
        """Fire the timers that instruction execution has made due."""
        now = self.now()
        while self._timers and self._timers[0][0] <= now:
            _, _, callback = heapq.heappop(self._timers)
            callback(now)

    @property
    def pending(self) -> int:
        return len(self._timers)
