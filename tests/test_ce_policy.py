"""rasdaemon-style CE page isolation: threshold, fixed refresh window, decay, the five actions."""

from __future__ import annotations

import pytest

from rasplat import ConfigError
from rasplat.clock import Clock
from rasplat.events import EventLog
from rasplat.memory.dram_ecc import DramEcc
from rasplat.ras.ce_policy import CePolicy, parse_cycle, parse_threshold

ADDR = 0x8804_2123
PFN = ADDR >> 12
HOUR = 3600


class Kernel:
    """Stand-in for the kernel's soft_offline_page / hard_offline_page."""

    def __init__(self, soft_ok: bool = True, hard_ok: bool | None = None) -> None:
        self.soft_ok, self.hard_ok = soft_ok, hard_ok
        self.calls: list[tuple[str, int]] = []

    def soft(self, pfn: int) -> bool:
        self.calls.append(("soft", pfn))
        return self.soft_ok

    def hard(self, pfn: int) -> bool | None:
        self.calls.append(("hard", pfn))
        return self.hard_ok


def policy(action: str = "soft", kernel: Kernel | None = None, **kw: object) -> tuple[CePolicy, Kernel, Clock]:
    kernel = kernel or Kernel()
    clock = Clock()
    return CePolicy(clock, kernel.soft, kernel.hard, action=action, **kw), kernel, clock  # type: ignore[arg-type]


def test_49_ces_do_nothing_the_50th_soft_offlines_the_page() -> None:
    events = EventLog()
    p, kernel, clock = policy(events=events)
    for i in range(49):
        p.record(ADDR + 8 * i)  # any address in the page counts for the page
        clock.advance(60)
    assert p.pages[PFN].count == 49 and p.pages[PFN].state == "online" and not kernel.calls
    page = p.record(ADDR)
    assert kernel.calls == [("soft", PFN)]
    assert (page.count, page.excess, page.state) == (0, 50, "offlined")
    (event,) = events.of_kind("ce.policy")
    assert {k: event[k] for k in ("policy", "pfn", "addr", "action", "tried", "state")} == {
        "policy": "page-ce", "pfn": PFN, "addr": PFN << 12, "action": "soft", "tried": ["soft"], "state": "offlined"
    }  # fmt: skip
    for _ in range(50):
        p.record(ADDR)
    assert kernel.calls == [("soft", PFN)], "an offlined page is not offlined again"
    p.record(ADDR + 4096)
    assert p.pages[PFN + 1].count == 1, "pages are counted separately"


def test_decay_after_quiet_cycles_follows_the_formula() -> None:
    """count -= min(count, floor(period / cycle * threshold)) when period >= cycle, then start = now."""
    p, kernel, clock = policy(threshold=50, cycle_s=24 * HOUR)
    for _ in range(40):
        p.record(ADDR)
    clock.advance(23 * HOUR)
    p.record(ADDR)
    assert p.pages[PFN].count == 41, "inside the window: no decay"
    clock.advance(13 * HOUR)  # period = 36 h: 40 - floor(1.5 * 50) < 0 -> 0, then + 1
    page = p.record(ADDR)
    assert (page.count, page.start) == (1, 36 * HOUR)

    # count < threshold always holds, so any decay empties it; a lowered threshold shows the arithmetic
    for _ in range(39):
        p.record(ADDR)
    p.threshold = 20  # 40 >= 20 would offline at once, but the decay comes first
    clock.advance(30 * HOUR)  # period 30 h: floor(30/24 * 20) = 25; 40 - 25 = 15; + 1 = 16 < 20
    assert p.record(ADDR).count == 16 and not kernel.calls


def test_the_window_is_anchored_at_its_start_not_sliding() -> None:
    p, kernel, clock = policy()
    p.record(ADDR)  # t = 0 starts the window
    clock.advance(24 * HOUR - 1)
    for _ in range(48):
        p.record(ADDR)
    clock.advance(1)  # t = 24 h: period >= cycle, 49 - 50 -> 0
    assert p.record(ADDR).count == 1 and not kernel.calls, "50 CEs in 24 h + 1 s across a window edge"


def test_soft_then_hard_falls_back_to_hard_when_soft_fails() -> None:
    p, kernel, _ = policy("soft-then-hard", Kernel(soft_ok=False))
    assert p.record(ADDR, count=50).state == "offlined"
    assert kernel.calls == [("soft", PFN), ("hard", PFN)]


def test_failed_offlines_are_retried_at_the_next_crossing() -> None:
    p, kernel, _ = policy("soft", Kernel(soft_ok=False))
    assert p.record(ADDR, count=50).state == "offline-failed"
    kernel.soft_ok = True
    assert p.record(ADDR, count=49).state == "offline-failed" and len(kernel.calls) == 1
    assert p.record(ADDR).state == "offlined" and len(kernel.calls) == 2


def test_hard_action_and_a_hard_offline_that_fails() -> None:
    p, kernel, _ = policy("hard")
    assert p.record(ADDR, count=50).state == "offlined" and kernel.calls == [("hard", PFN)]
    p, kernel, _ = policy("hard", Kernel(hard_ok=False))
    assert p.record(ADDR, count=50).state == "offline-failed"


def test_off_and_account() -> None:
    p, kernel, _ = policy("off")
    assert p.record(ADDR, count=100) is None and not p.pages
    p, kernel, _ = policy("account")
    page = p.record(ADDR, count=120)
    assert (page.count, page.excess, page.state) == (0, 120, "online") and not kernel.calls


def test_a_missing_kernel_interface_drops_the_action_to_account() -> None:
    clock = Clock()
    p = CePolicy(clock, None, lambda pfn: None, action="soft")
    assert (p.configured_action, p.action) == ("soft", "account")
    assert p.record(ADDR, count=50).state == "online"
    assert CePolicy(clock, lambda pfn: True, None, action="hard").action == "account"


def test_rasdaemon_settings_parse_as_rasdaemon_does() -> None:
    assert parse_threshold("50") == 50 and parse_threshold("2k") == 2000 and parse_threshold("1M") == 1_000_000
    assert parse_cycle("24h") == 86400 and parse_cycle("1d") == 86400 and parse_cycle("30m") == 1800
    assert parse_cycle("90s") == 90 and parse_cycle("12") == 12 * HOUR, "a bare number is hours"
    for bad in ("", "0", "5x", "1.5h", "h", "-3"):
        assert parse_threshold(bad) is None and parse_cycle(bad) is None, bad
    env = {"PAGE_CE_ACTION": "Soft-Then-Hard", "PAGE_CE_THRESHOLD": "2k", "PAGE_CE_REFRESH_CYCLE": "7d"}
    p = CePolicy.from_env(env, Clock(), lambda pfn: True, lambda pfn: None)
    assert (p.action, p.threshold, p.cycle_s) == ("soft-then-hard", 2000, 7 * 86400)
    p = CePolicy.from_env({"PAGE_CE_ACTION": "panic", "PAGE_CE_THRESHOLD": "lots"}, Clock(), lambda pfn: True)
    assert (p.action, p.threshold, p.cycle_s) == ("soft", 50, 86400), "rasdaemon falls back to its defaults"


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"action": "panic"}, "action must be one of off, account, soft, hard, soft-then-hard, got 'panic'"),
        ({"threshold": 0}, "threshold must be a positive integer, got 0"),
        ({"cycle_s": 1.5}, "cycle_s must be a positive integer, got 1.5"),
    ],
)
def test_bad_parameters_name_what_was_wrong(kw: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        CePolicy(Clock(), lambda pfn: True, **kw)


def test_fed_by_the_dram_backend_events() -> None:
    """Wired as the lead will: the policy listens to ecc.ce events of a DRAM-ECC backend."""
    events, clock, kernel = EventLog(), Clock(), Kernel()
    mem = DramEcc(1 << 20, "ecc", base=0x8000_0000, events=events, clock=clock)
    p = CePolicy(clock, kernel.soft, kernel.hard, events=events)
    events.subscribe(p.on_event)
    mem.inject("bitflip", 0x3008, bits=[17], mode="stuck")
    for _ in range(49):
        mem.load(0x3008, 8)
    assert not kernel.calls
    mem.load(0x300C, 4)
    assert kernel.calls == [("soft", (0x8000_0000 + 0x3000) >> 12)]
    assert events.of_kind("ce.policy")[0]["state"] == "offlined"
