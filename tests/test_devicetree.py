"""Device tree in, platform out: DTS and DTB build the same platform; QEMU's own tree loads; bad trees get
messages that name the file, the node and the property, and `rasplat dt check` exits non-zero."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import rasplat
from rasplat.cli import describe_platform, main
from rasplat.devicetree.fdt import from_dtlib, write_dtb

ROOT = Path(__file__).parent.parent
DEVICETREES = sorted((ROOT / "devicetrees").glob("*.dts"))
QEMU_DTB = Path(__file__).parent / "data" / "qemu-virt-aia.dtb"

GOOD = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    cpus { #address-cells = <1>; #size-cells = <0>;
        cpu@0 { device_type = "cpu"; reg = <0>; riscv,isa = "rv64imac";
            intc: interrupt-controller { compatible = "riscv,cpu-intc"; #interrupt-cells = <1>; interrupt-controller; };
        };
    };
    %s
};
"""
MEMORY = 'memory@80000000 { device_type = "memory"; reg = <0 0x80000000 0 0x10000000>; };'


def dts(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "board.dts"
    path.write_text(GOOD % body)
    return path


def test_embedded_default_is_devicetrees_default() -> None:
    packaged = Path(rasplat.platform.default_devicetree_path()).read_text()
    assert packaged == (ROOT / "devicetrees" / "default.dts").read_text(), "the two copies must stay identical"
    plat = rasplat.Platform.default()
    assert [h.hartid for h in plat.harts] == [0]
    assert plat.memory_at(0x8000_0000).size == 1 << 30
    assert plat.description["cpus"][0]["isa"] == "rv64imac_zicsr_zifencei"


@pytest.mark.parametrize("path", DEVICETREES, ids=[p.name for p in DEVICETREES])
def test_dts_and_dtb_build_the_same_platform(path: Path) -> None:
    from devicetree import dtlib

    blob = write_dtb(from_dtlib(dtlib.DT(str(path))))
    from_dts = rasplat.Platform.from_devicetree(path)
    from_dtb = rasplat.Platform.from_devicetree(blob)
    assert describe_platform(from_dts)[1:] == describe_platform(from_dtb)[1:]
    assert [(r.name, r.base, r.size, r.kind) for r in from_dts.bus.regions] == [
        (r.name, r.base, r.size, r.kind) for r in from_dtb.bus.regions
    ]


@pytest.mark.parametrize("path", DEVICETREES, ids=[p.name for p in DEVICETREES])
def test_our_dtb_writer_matches_dtc(path: Path) -> None:
    if shutil.which("dtc") is None:
        pytest.skip("dtc (Debian device-tree-compiler) is not installed")
    from devicetree import dtlib

    expected = subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", str(path)], capture_output=True, check=True)
    assert write_dtb(from_dtlib(dtlib.DT(str(path)))) == expected.stdout


def _check_qemu_tree(source: Path | bytes, harts: int) -> None:
    plat = rasplat.Platform.from_devicetree(source)
    assert [h.hartid for h in plat.harts] == list(range(harts))
    assert plat.memory_at(0x8000_0000).base == 0x8000_0000
    d = plat.description
    assert sorted((i["reg"][0][0], sorted({h["level"] for h in i["harts"]})) for i in d["imsics"]) == [
        (0x2400_0000, ["M"]), (0x2800_0000, ["S"])
    ]  # fmt: skip
    aplics = {a["reg"][0][0]: a for a in d["aplics"]}
    assert sorted(aplics) == [0x0C00_0000, 0x0D00_0000]
    assert aplics[0x0C00_0000]["delegation"][0]["first"] == 1 and aplics[0x0D00_0000]["num_sources"] == 96
    assert "ns16550a" in d["unknown"], "unknown compatibles are reported and skipped, not fatal"
    assert len(plat.events.of_kind("dt.unknown")) == len(d["unknown"]), "each unknown compatible reported once"
    text = "\n".join(describe_platform(plat))
    assert text.count("IMSIC ") == 2 and text.count("APLIC ") == 2


def test_committed_qemu_dtb_loads() -> None:
    _check_qemu_tree(QEMU_DTB, harts=2)


def test_fresh_qemu_dtb_loads(tmp_path: Path) -> None:
    qemu = shutil.which("qemu-system-riscv64")
    if qemu is None:
        pytest.skip("qemu-system-riscv64 (Debian qemu-system-misc) is not installed")
    out = tmp_path / "virt.dtb"
    subprocess.run([qemu, "-machine", f"virt,aia=aplic-imsic,dumpdtb={out}", "-smp", "4", "-m", "2G", "-nographic"],
                   capture_output=True, check=True, timeout=60)  # fmt: skip
    _check_qemu_tree(out, harts=4)
    assert rasplat.Platform.from_devicetree(out).memory_at(0x8000_0000).size == 2 << 30


BAD_TREES = {
    "missing-reg": ('memory@80000000 { device_type = "memory"; };', "/memory@80000000: reg: missing required"),
    "cells-mismatch": ('memory@80000000 { device_type = "memory"; reg = <0x80000000 0x1000 0>; };',
                       "reg: 3 cells is not a multiple of #address-cells (2) + #size-cells (2) given by /"),
    "dangling-phandle": (MEMORY + " soc { #address-cells = <2>; #size-cells = <2>; ranges; "
                         "x@1000 { reg = <0 0x1000 0 0x100>; interrupt-parent = <0x77>; }; };",
                         "/soc/x@1000: interrupt-parent: phandle 0x77 does not refer to any node"),
    "dangling-label": (MEMORY + " soc { x { interrupt-parent = <&nowhere>; }; };", "nowhere"),
    "overlapping-reg": (MEMORY + ' memory@88000000 { device_type = "memory"; reg = <0 0x88000000 0 0x1000>; };',
                        "/memory@88000000: reg: region '/memory@88000000' [0x88000000, 0x88001000) overlaps"),
    "unknown-backend": ('memory@80000000 { device_type = "memory"; reg = <0 0x80000000 0 0x1000>; '
                        'rasplat,backend = "nvram"; };', "rasplat,backend: unknown backend 'nvram' (known:"),
    "no-memory": ("", "no memory node"),
    "bad-imsic-ids": (MEMORY + ' imsic@24000000 { compatible = "riscv,imsics"; reg = <0 0x24000000 0 0x1000>;'
                      ' interrupts-extended = <&intc 11>; riscv,num-ids = <64>; };',
                      "riscv,num-ids: 64 is not one of 63, 127"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_TREES))
def test_bad_trees_name_node_and_property(case: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    body, message = BAD_TREES[case]
    path = dts(tmp_path, body)
    with pytest.raises(rasplat.DeviceTreeError) as info:
        rasplat.Platform.from_devicetree(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert main(["dt", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda b: b[:100], "truncated"),
        (lambda b: b"\xde\xad\xbe\xef" + b[4:], "magic"),
        (lambda b: b[:8] + (0xFFFF_0000).to_bytes(4, "big") + b[12:], "outside"),  # off_dt_struct
    ],
    ids=["truncated", "bad-magic", "struct-offset-outside"],
)
def test_corrupt_dtb_is_reported(mangle, message: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.dtb"
    path.write_bytes(mangle(QEMU_DTB.read_bytes()))
    assert main(["dt", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err.lower() and str(path) in err


def test_unterminated_string_in_dtb(tmp_path: Path) -> None:
    blob = bytearray(QEMU_DTB.read_bytes())
    off_strings = int.from_bytes(blob[12:16], "big")
    size_strings = int.from_bytes(blob[32:36], "big")
    blob[off_strings + size_strings - 1] = ord("x")  # the last property name loses its NUL
    with pytest.raises(rasplat.DeviceTreeError, match="unterminated"):
        rasplat.Platform.from_devicetree(bytes(blob))


def test_dt_show_lists_the_platform(capsys: pytest.CaptureFixture) -> None:
    assert main(["dt", "show", str(QEMU_DTB)]) == 0
    out = capsys.readouterr().out
    assert "0x0000000080000000 0x00000000c0000000      1 GiB  memory  RAM          /memory@80000000" in out
    assert "ImsicFile    /soc/imsics@28000000/hart1" in out
    assert "delegates 1-96 to /soc/aplic@d000000" in out
