"""Errors are logged and signalled: RERI records, the AIA path APLIC -> MSI -> IMSIC, local RAS interrupts,
and firmware-first SBI SSE events, on platforms built from device trees."""

from __future__ import annotations

from pathlib import Path

import pytest

import rasplat

ROOT = Path(__file__).parent.parent
DEFAULT = ROOT / "devicetrees" / "default.dts"
VIRT_AIA = ROOT / "devicetrees" / "virt-aia-ecc.dts"
PROGRAM = Path(__file__).parent / "programs" / "reri_msi.elf"
SRC, DST = 0x8800_0000, 0x8801_0000
QUIET = {"elf.load", "boot", "inject", "ras.setup", "irq.route", "sbi"}


def firmware_first(tmp_path: Path) -> Path:
    path = tmp_path / "ff.dts"
    path.write_text(f'/include/ "{DEFAULT}"\n/ {{ rasplat {{ rasplat,ras-delivery = "firmware-first"; }}; }};\n')
    return path


def poisoned_copy(source: Path) -> tuple[rasplat.Platform, int, list[str]]:
    plat = rasplat.Platform.from_devicetree(source)
    plat.bus.write(SRC, bytes(range(256)) * 16)
    plat.inject("poison", addr=SRC + 0x840)
    ret = plat.kernel.copy_mc_to_kernel(DST, SRC, 4096)
    kinds = [e["kind"] + (f"/{e['cause']}" if e["kind"] in ("trap", "irq") else "") for e in plat.events
             if e["kind"] not in QUIET and not (e["kind"] == "trap" and e["cause"] == 9 and not e["interrupt"])]
    return plat, ret, kinds


EXPECTED = {
    "local-43": ["poison.consume", "reri.log", "trap/19", "fixup", "trap/43", "irq/43", "reri_event", "copy_mc"],
    "aplic-msi-imsic": ["poison.consume", "reri.log", "aplic.pending", "aplic.msi", "imsic.pending", "trap/19",
                        "fixup", "trap/9", "irq/9", "reri_event", "copy_mc"],
    "firmware-first-sse": ["poison.consume", "reri.log", "trap/19", "trap/43", "irq/43", "sse.inject", "reri_event",
                           "sse.complete", "fixup", "copy_mc"],
}  # fmt: skip


@pytest.mark.parametrize("config", sorted(EXPECTED))
def test_poisoned_load_gives_fixup_record_and_signal(config: str, tmp_path: Path) -> None:
    source = {"local-43": DEFAULT, "aplic-msi-imsic": VIRT_AIA, "firmware-first-sse": firmware_first(tmp_path)}
    plat, ret, kinds = poisoned_copy(source[config])
    assert ret == 4096, "the synchronous path: memcpy_mc fixed up, bytes not copied returned"
    assert kinds == EXPECTED[config]
    log = plat.events.of_kind("reri.log")[0]
    assert (log["severity"], log["ec"], log["c"], log["ait"], log["tt"]) == ("UEC", 2, 1, 1, 4)
    assert log["addr_info"] == SRC + 0x840 and log["signals"] == ["high"]
    event = plat.events.of_kind("reri_event")[0]
    assert event["addr_info"] == SRC + 0x840 and event["severity"] == "UEC"
    assert plat.kernel.copy_mc_to_kernel(DST, SRC + 4096, 4096) == 0, "the kernel keeps running"
    assert poisoned_copy(source[config])[2] == kinds, "the same event order on every run"


def test_firmware_first_restores_the_interrupted_context(tmp_path: Path) -> None:
    plat, _, _ = poisoned_copy(firmware_first(tmp_path))
    inject, complete = plat.events.of_kind("sse.inject")[0], plat.events.of_kind("sse.complete")[0]
    assert inject["event_id"] == 0x0 and complete["resume_pc"] == inject["interrupted_pc"]
    assert plat.events.of_kind("reri_event")[0]["reader"] == "kernel (SSE)"
    assert plat.kernel.sbi.sse[0x0].state == 2, "ENABLED again after complete"


def test_machine_code_drives_imsic_aplic_and_reri() -> None:
    """An assembled S-mode program programs the IMSIC through siselect/sireg, routes an APLIC wired source,
    makes the RERI bank inject an error, takes the interrupt through stvec, claims with csrrw stopei, sret."""
    plat = rasplat.Platform.from_devicetree(VIRT_AIA)
    image = plat.load_elf(PROGRAM)
    hart = plat.harts[0]
    hart.pc = image.entry
    for _ in range(200):  # hart 0 only; the clock runs the bank's eid countdown between quanta
        hart.run(4096)
        plat.clock.poll()
        if plat.bus.peek(image.symbols["tohost"], 8) != bytes(8):
            break
    result = int.from_bytes(plat.bus.peek(image.symbols["tohost"], 8), "little")
    assert result == 1, f"program failed its test {result >> 1}"
    kinds = [e["kind"] for e in plat.events if e["kind"] != "elf.load"]
    assert kinds == ["reri.log", "aplic.pending", "aplic.msi", "imsic.pending", "trap"]
    assert plat.events.of_kind("aplic.msi")[0]["addr"] == 0x2800_0000


def test_committed_programs_match_their_sources(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("aia_build", PROGRAM.parent / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    if not build.toolchain_available():
        pytest.skip("GNU RISC-V binutils (Debian binutils-riscv64-linux-gnu) not installed")
    for name in build.PROGRAMS:
        assert build.build(name, tmp_path / "p.elf").read_bytes() == (PROGRAM.parent / f"{name}.elf").read_bytes()


def test_corrected_errors_signal_low_priority(tmp_path: Path) -> None:
    plat = rasplat.Platform.default()
    plat.bus.write(SRC, bytes(range(256)) * 16)
    plat.inject("bitflip", addr=SRC + 0x100, bits=[5])
    assert plat.kernel.copy_mc_to_kernel(DST, SRC, 4096) == 0
    assert plat.bus.read(DST, 4096) == plat.bus.read(SRC, 4096), "the CE was corrected on the way"
    log = plat.events.of_kind("reri.log")[0]
    assert (log["severity"], log["ec"], log["signals"]) == ("CE", 20, ["low"])
    assert [e["cause"] for e in plat.events.of_kind("irq")] == [35]
