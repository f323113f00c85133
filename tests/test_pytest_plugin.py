"""The vendor-facing pytest fixtures, tested the way a vendor uses them: a test module run by pytester."""

from __future__ import annotations

from pathlib import Path

import pytest

from rasplat.trace import read_trace

VENDOR_TESTS = '''
import pytest

pytestmark = pytest.mark.rasplat_devicetree("board.dts")
SRC, DST = 0x88000000, 0x88010000


def test_copy_mc_survives_one_poisoned_line(rasplat_platform, rasplat_inject, rasplat_events):
    rasplat_platform.bus.write(SRC, bytes(range(256)) * 16)
    rasplat_inject("poison", SRC + 0x100)
    assert rasplat_platform.kernel.copy_mc_to_kernel(DST, SRC, 4096) == 4096
    rasplat_events.expect(fixup=1, panic=0)
    rasplat_events.expect({"poison.consume": 1})
    rasplat_events.expect_order("inject", "poison.consume", "trap", "fixup", "copy_mc")


def test_board_has_two_harts(rasplat_platform):
    assert [h.hartid for h in rasplat_platform.harts] == [0, 1]


def test_expecting_no_fixup_fails(rasplat_platform, rasplat_inject, rasplat_events):
    rasplat_inject("poison", SRC)
    rasplat_platform.kernel.copy_mc_to_kernel(DST, SRC, 64)
    rasplat_events.expect(fixup=0)
'''


@pytest.fixture
def vendor_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    board = (Path(__file__).parent.parent / "devicetrees" / "default.dts").read_text()
    board = board.replace("cpus {", 'cpus {\n\t\tcpu@1 { device_type = "cpu"; reg = <1>; riscv,isa = "rv64imac"; };', 1)
    pytester.makefile(".dts", board=board)
    pytester.makepyfile(test_vendor=VENDOR_TESTS)
    return pytester


def test_vendor_module_passes_and_a_failure_leaves_a_trace(vendor_dir: pytest.Pytester) -> None:
    result = vendor_dir.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*rasplat events: fixup: expected 0, got 1*", "*event trace saved to*"])
    artifacts = list((vendor_dir.path / "rasplat-artifacts").glob("*.trace.msgpack"))
    assert [a.name for a in artifacts] == ["test_vendor.py_test_expecting_no_fixup_fails.trace.msgpack"]
    header, events = read_trace(artifacts[0])
    assert header["meta"]["test"].endswith("test_expecting_no_fixup_fails")
    assert [e["kind"] for e in events].count("fixup") == 1


def test_option_ini_and_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_default="def test_one_hart(rasplat_platform):\n"
                                     "    assert len(rasplat_platform.harts) == 1\n")  # fmt: skip
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    bad = pytester.makefile(".dts", broken="/dts-v1/; / { };")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--rasplat-dt={bad}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*DeviceTreeError*/cpus: missing*"])
    pytester.makeini(f"[pytest]\nrasplat_devicetree = {bad.name}\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(errors=1)
