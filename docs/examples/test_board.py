"""docs/testing.md walks through this file: RAS tests written with rasplat's pytest fixtures only."""

import pytest

pytestmark = pytest.mark.rasplat_devicetree("board.dts")

SRC, DST = 0x9000_0000, 0x9800_0000


def test_the_scheduled_burst_fires_at_one_millisecond(rasplat_platform, rasplat_events):
    rasplat_events.expect({"inject": 1})  # the "single" source fired while the platform was built
    rasplat_platform.advance(0.002)  # 2 ms of simulated time, no instructions: the burst is due at 1 ms
    rasplat_events.expect({"inject": 9})


def test_copy_mc_survives_the_burst(rasplat_platform, rasplat_events):
    rasplat_platform.advance(0.002)
    rasplat_platform.bus.peek(SRC, 64)  # the data is still there; reading it through the bus would raise
    ret = rasplat_platform.kernel.copy_mc_to_kernel(DST, SRC, 4096)
    assert ret == 4096  # an aligned page copy reports "nothing copied" wherever it faults
    rasplat_events.expect(fixup=1, panic=0)
    rasplat_events.expect_order("inject", "poison.consume", "trap", "fixup", "copy_mc")


def test_poison_in_the_destination_is_fatal(rasplat_platform, rasplat_inject):
    import rasplat

    rasplat_inject("poison", DST + 128)
    with pytest.raises(rasplat.KernelPanic, match="Oops - hardware error"):
        rasplat_platform.kernel.copy_mc_to_kernel(DST, SRC + 0x200000, 4096)
