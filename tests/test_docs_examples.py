"""The examples the docs walk through are run here, exactly as a vendor would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

import rasplat

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


def test_board_and_its_vendor_tests(installed: Path, pytester: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.setenv("RASPLAT_DISABLE_PLUGINS", "broken")
    for name in ("board.dts", "test_board.py"):
        (pytester.path / name).write_text((EXAMPLES / name).read_text())
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_board_shows_its_devices(installed: Path, monkeypatch) -> None:
    monkeypatch.setenv("RASPLAT_DISABLE_PLUGINS", "broken")
    plat = rasplat.Platform.from_devicetree(EXAMPLES / "board.dts")
    assert [h.hartid for h in plat.harts] == [0, 1] and plat.timebase_hz == 10_000_000
    assert "/einj@30000000" in plat.devices and plat.clock.pending == 1


def test_board_needs_the_vendor_package(tmp_path: Path) -> None:
    with pytest.raises(rasplat.DeviceTreeError, match="row-burst: rasplat,source: unknown error source 'acme-burst'"):
        rasplat.Platform.from_devicetree(EXAMPLES / "board.dts")
