"""Third-party plugin packages, installed with pip and used only through their entry points."""

from __future__ import annotations

from pathlib import Path

import pytest
from rvasm import code, jalr, li, sd, sw

import rasplat
from rasplat.cli import main
from rasplat.kernel.copy_mc import copy_mc_highpage
from rasplat.plugins import Plugins

ROOT = Path(__file__).parent.parent
BOARD = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    cpus { #address-cells = <1>; #size-cells = <0>;
        cpu@0 { device_type = "cpu"; reg = <0>; riscv,isa = "rv64imac"; };
    };
    memory@80000000 { device_type = "memory"; reg = <0 0x80000000 0 0x40000000>; };
    einj@30000000 { compatible = "acme,einj"; reg = <0 0x30000000 0 0x1000>; };
    mirror { compatible = "acme,mirror"; reg = <0 0x88000000 0 0x100000>; acme,mirror-base = /bits/ 64 <0x89000000>; };
    rasplat { rasplat,policy = "%s"; };
};
"""
SRC, MIRROR, DST = 0x8800_0000, 0x8900_0000, 0x8A00_0000


def board(tmp_path: Path, policy: str = "linux") -> rasplat.Platform:
    path = tmp_path / "board.dts"
    path.write_text(BOARD % policy)
    return rasplat.Platform.from_devicetree(path)


def test_without_the_package_its_compatibles_are_unknown(tmp_path: Path) -> None:
    plat = board(tmp_path)
    assert "acme,einj" in plat.description["unknown"]
    with pytest.raises(rasplat.ConfigError, match="cannot inject 'acme-burst'"):
        plat.inject("acme-burst", addr=SRC)


def test_broken_plugin_is_reported_by_name_and_skipped(installed: Path, tmp_path: Path, capsys) -> None:
    plugins = Plugins()
    broken = {p.name: p for p in plugins.info}["broken"]
    assert broken.dist == "rasplat-broken-example 0.0.1"
    assert "rasplat_register_device" in broken.error
    plat = board(tmp_path)  # still builds, with the working plugin
    assert plat.plugins.failed[0].name == "broken" and "acme,einj" in plat.plugins.devices
    assert plat.events.of_kind("plugin.error")[0]["plugin"] == "broken"
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "broken" in out and "FAILED" in out and "acme-burst" in out


def test_allow_and_deny_lists(installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASPLAT_DISABLE_PLUGINS", "broken")
    assert not Plugins().failed
    monkeypatch.delenv("RASPLAT_DISABLE_PLUGINS")
    monkeypatch.setenv("RASPLAT_PLUGINS", "broken")
    plugins = Plugins()
    assert "acme-burst" not in plugins.error_sources and [p.name for p in plugins.failed] == ["broken"]


def test_error_source_and_vendor_device_from_rv64_code(installed: Path, tmp_path: Path) -> None:
    plat = board(tmp_path)
    events = plat.inject("acme-burst", addr=SRC + 0x10, lines=3)
    assert [e["line"] for e in events] == [SRC, SRC + 64, SRC + 128]
    for line in (SRC, SRC + 64, SRC + 128):
        plat.clear_poison(line)
    # S-mode code programs the vendor's injector: ADDR, COUNT, CMD=1 (poison)
    snippet = 0x8F00_0000
    plat.bus.write(snippet, code(li("t0", 0x3000_0000), li("t1", SRC + 0x400), sd("t1", "t0", 0), li("t1", 2),
                                 sw("t1", "t0", 8), li("t1", 1), sw("t1", "t0", 12), jalr("zero", "ra")))  # fmt: skip
    plat.kernel.call(snippet)
    assert plat.devices["/einj@30000000"].done == 2
    assert plat.kernel.copy_mc_to_kernel(DST, SRC, 4096) == 4096
    assert plat.events.of_kind("fixup")


@pytest.mark.parametrize("policy, expect", [("linux", 4096), ("acme-mirror", 0)])
def test_mirror_policy_retries_from_the_replica(installed: Path, tmp_path: Path, policy: str, expect: int) -> None:
    plat = board(tmp_path, policy)
    data = bytes(range(256)) * 16
    plat.bus.write(SRC, data)
    plat.bus.write(MIRROR, data)
    plat.inject("poison", addr=SRC + 0x200)
    assert copy_mc_highpage(plat.kernel, DST, SRC) == expect
    decision = plat.events.of_kind("policy")[0]
    assert decision["selected"] == policy
    if expect == 0:
        assert decision["action"] == "retry" and decision["src"] == MIRROR
        assert plat.bus.read(DST, 4096) == data
    else:
        assert decision["action"] == "propagate"
