"""Corrected-error page isolation, as rasdaemon does it (`ras-page-isolation.c`, PAGE_CE_* settings).

rasdaemon keeps, per page (physical address with the low 12 bits cleared), a CE `count`, the `start` of its
accounting window, an `excess` and a state (online / offlined / offline-failed). For a report of `n` CEs at
time `now` (whole seconds, rasdaemon's time_t):

    period = now - start
    if period >= cycle:                                   # decay, applied lazily when the next CE arrives
        count = max(0, count - floor(period / cycle * threshold))
        start = now
        excess = 0
    count += n
    if count >= threshold:
        excess += count
        count = 0
        offline the page                                  # unless the action is off/account or it is offlined

`start` is set by the page's first CE. The window is anchored at `start`, not sliding: 49 CEs at the end of one
window and 1 at the start of the next do not add up. Because `count` is reset when it reaches the threshold,
it is always below the threshold between reports, so any decay (period >= cycle subtracts at least
`threshold`) brings it to 0; the formula is kept as written so that a threshold change behaves the same way.
Defaults: action "soft", threshold 50, cycle 24 h.

Actions: "off" (no accounting at all), "account" (count, never offline), "soft" (`soft_offline(pfn) -> bool`),
"hard" (`hard_offline(pfn)`, which returns None or True on success and False on failure), "soft-then-hard"
(soft first, hard if soft failed). An already offlined page is not offlined again (its CEs are still counted);
an offline-failed page is tried again at its next threshold crossing. As rasdaemon does when the kernel's
soft_offline_page / hard_offline_page file cannot be written, an action whose callback is missing ("soft" and
"soft-then-hard" need `soft_offline`, "hard" needs `hard_offline`) drops to "account"; "soft-then-hard" without
`hard_offline` counts a failed soft offline as offline-failed.

Deviation from the C: rasdaemon takes `start == 0` as "not set yet", harmless with epoch seconds; a simulated
clock starts at 0, so here a page's start is None until its first CE. Row isolation (ROW_CE_*) is not modeled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..clock import NS_PER_S, Clock
from ..errors import ConfigError
from ..events import EventLog

ACTIONS = ("off", "account", "soft", "hard", "soft-then-hard")
DEFAULT_ACTION = "soft"
DEFAULT_THRESHOLD = 50
DEFAULT_CYCLE_S = 24 * 3600
PAGE_SHIFT = 12


@dataclass
class PageRecord:
    pfn: int
    count: int = 0
    start: int | None = None  # seconds; set by the page's first CE
    excess: int = 0
    state: str = "online"  # "online" | "offlined" | "offline-failed"


class CePolicy:
    """Per-page CE accounting and offlining (module docstring). Feed it with `record(addr, n)`, or subscribe
    `on_event` to an EventLog so that every `ecc.ce` event is accounted."""

    def __init__(
        self,
        clock: Clock,
        soft_offline: Callable[[int], bool] | None = None,
        hard_offline: Callable[[int], bool | None] | None = None,
        *,
        action: str = DEFAULT_ACTION,
        threshold: int = DEFAULT_THRESHOLD,
        cycle_s: int = DEFAULT_CYCLE_S,
        events: EventLog | None = None,
    ) -> None:
        if action not in ACTIONS:
            raise ConfigError(f"ce policy: action must be one of {', '.join(ACTIONS)}, got {action!r}")
        for name, value in (("threshold", threshold), ("cycle_s", cycle_s)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"ce policy: {name} must be a positive integer, got {value!r}")
        self.clock = clock
        self.soft_offline = soft_offline
        self.hard_offline = hard_offline
        self.configured_action = action
        needs = {"soft": soft_offline, "soft-then-hard": soft_offline, "hard": hard_offline}
        self.action = "account" if action in needs and needs[action] is None else action
        self.threshold = threshold
        self.cycle_s = cycle_s
        self.events = events
        self.pages: dict[int, PageRecord] = {}

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        clock: Clock,
        soft_offline: Callable[[int], bool] | None = None,
        hard_offline: Callable[[int], bool | None] | None = None,
        events: EventLog | None = None,
    ) -> CePolicy:
        """Build from rasdaemon's settings (PAGE_CE_ACTION, PAGE_CE_THRESHOLD, PAGE_CE_REFRESH_CYCLE) with its
        forgiving parsing: an unknown action means "soft", a malformed number means the default."""
        action = env.get("PAGE_CE_ACTION", DEFAULT_ACTION).strip().lower()
        threshold = parse_threshold(env.get("PAGE_CE_THRESHOLD", ""))
        cycle = parse_cycle(env.get("PAGE_CE_REFRESH_CYCLE", ""))
        return cls(
            clock, soft_offline, hard_offline,
            action=action if action in ACTIONS else DEFAULT_ACTION,
            threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
            cycle_s=DEFAULT_CYCLE_S if cycle is None else cycle,
            events=events,
        )  # fmt: skip

    def on_event(self, event: dict) -> None:
        """EventLog listener: account every `ecc.ce`."""
        if event.get("kind") == "ecc.ce":
            self.record(event["address"], event.get("count", 1))

    def record(self, addr: int, count: int = 1) -> PageRecord | None:
        """Account `count` CEs at physical address `addr` now. Returns the page's record (None when off)."""
        if self.action == "off":
            return None
        now = self.clock.now() // NS_PER_S
        pfn = addr >> PAGE_SHIFT
        page = self.pages.get(pfn)
        if page is None:
            page = self.pages[pfn] = PageRecord(pfn)
        if page.start is None:
            page.start = now
        period = now - page.start
        if period >= self.cycle_s:
            tolerate = int(period / self.cycle_s * self.threshold)
            page.count -= min(tolerate, page.count)
            page.start = now
            page.excess = 0
        page.count += count
        if page.count >= self.threshold:
            page.excess += page.count
            page.count = 0
            self._offline(page)
        return page

    def _offline(self, page: PageRecord) -> None:
        tried: list[str] = []
        if self.action != "account" and page.state != "offlined":
            ok = False
            if self.action in ("soft", "soft-then-hard"):
                tried.append("soft")
                ok = bool(self.soft_offline(page.pfn))  # type: ignore[misc]  # present, or action is "account"
            if not ok and self.action in ("hard", "soft-then-hard") and self.hard_offline is not None:
                tried.append("hard")
                ok = self.hard_offline(page.pfn) is not False
            page.state = "offlined" if ok else "offline-failed"
        if self.events is not None:
            self.events.emit(
                "ce.policy", policy="page-ce", pfn=page.pfn, addr=page.pfn << PAGE_SHIFT, action=self.action,
                excess=page.excess, tried=tried, state=page.state,
            )  # fmt: skip


def _parse(text: str, units: Mapping[str, int], default_unit: str) -> int | None:
    """rasdaemon's number syntax: digits, optionally one unit letter; 0 or anything else is invalid (None)."""
    text = text.strip()
    if not text:
        return None
    digits, unit = (text, default_unit) if text[-1].isdigit() else (text[:-1], text[-1].lower())
    if not digits.isdigit() or unit not in units or int(digits) == 0:
        return None
    return int(digits) * units[unit]


def parse_threshold(text: str) -> int | None:
    """PAGE_CE_THRESHOLD: "50", "2k" (x1000), "1m" (x1000000). None when malformed."""
    return _parse(text, {"": 1, "k": 1000, "m": 1000_000}, "")


def parse_cycle(text: str) -> int | None:
    """PAGE_CE_REFRESH_CYCLE in seconds: "24h", "1d", "30m", "90s"; a bare number is hours. None when malformed."""
    return _parse(text, {"d": 86400, "h": 3600, "m": 60, "s": 1}, "h")
