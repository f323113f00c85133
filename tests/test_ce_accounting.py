"""rasdaemon-style CE page isolation on a platform: CEs found by real loads of ECC DRAM are counted per page;
the 50th in the window offlines the page through the kernel model - where the kernel can (RISC-V today has
no soft_offline_page/hard_offline_page, so rasdaemon can only account)."""

from __future__ import annotations

import pytest

import rasplat

SRC, DST = 0x8800_0000, 0x8801_0000


def platform(memory_failure: str, **ce: object) -> rasplat.Platform:
    plat = rasplat.Platform.default()
    plat.memory_failure = memory_failure
    plat.ce_policy.update(ce)
    plat.bus.write(SRC, bytes(range(256)) * 16)
    plat.inject("bitflip", addr=SRC + 0x100, bits=[3], mode="stuck")
    return plat


def copies(plat: rasplat.Platform, n: int) -> None:
    for _ in range(n):
        assert plat.kernel.copy_mc_to_kernel(DST, SRC, 512) == 0  # each read corrects the word and reports a CE


@pytest.mark.parametrize("mf, action, state", [("supported", "soft", "offlined"), ("riscv-today", "account", "online")])
def test_fiftieth_ce_offlines_the_page(mf: str, action: str, state: str) -> None:
    plat = platform(mf)
    copies(plat, 49)
    assert plat.events.of_kind("ce.policy") == [], "49 CEs in the window do nothing"
    copies(plat, 1)
    (decision,) = plat.events.of_kind("ce.policy")
    assert (decision["pfn"], decision["action"], decision["state"]) == (SRC >> 12, action, state)
    assert plat.bus.read(DST, 512) == plat.bus.read(SRC, 512), "the data stayed correct throughout"


def test_threshold_and_cycle_come_from_the_platform() -> None:
    plat = platform("supported", threshold=5, cycle_s=3600, action="hard")
    copies(plat, 5)
    (decision,) = plat.events.of_kind("ce.policy")
    assert decision["action"] == "hard" and decision["tried"] == ["hard"]
    # the buffer is outside the kernel's page pool, so memory_failure treats it as a reserved kernel page
    assert plat.events.of_kind("mf.result")[0]["action_result"] == "Ignored" and decision["state"] == "offline-failed"
