"""CXL on a platform built from a device tree: RV64 code injects poison through the MMIO mailbox, the
device logs and signals it, the kernel's CXL driver drains the event, and memcpy_mc survives the line."""

from __future__ import annotations

from pathlib import Path

import pytest

import rasplat

ROOT = Path(__file__).parent.parent
CXL = ROOT / "devicetrees" / "cxl-expander.dts"
PROGRAM = Path(__file__).parent / "programs" / "cxl_inject.elf"
WINDOW, MAILBOX0, GRANULE = 0x1_0000_0000, 0x3000_1000, 256
DST = 0x8801_0000


@pytest.fixture
def plat() -> rasplat.Platform:
    plat = rasplat.Platform.from_devicetree(CXL)
    plat.bus.write(WINDOW, bytes(range(256)) * 64)
    return plat


def test_machine_code_injects_poison_and_memcpy_mc_survives(plat: rasplat.Platform) -> None:
    image = plat.load_elf(PROGRAM)
    dpa = 0x100  # device 0's second 256 B granule of the region: HPA = base + 2 granules (2-way interleave)
    assert plat.kernel.call(image.symbol("cxl_inject"), MAILBOX0, dpa) == 0, "mailbox return code Success"
    added = plat.events.of_kind("cxl.poison.add")[0]
    assert added["dpa"] == dpa and added["source"] == "Injected"
    assert plat.events.of_kind("cxl.event")[0]["log"] == "Informational", "the poison-creation event is logged"
    assert plat.events.of_kind("aplic.msi"), "the event interrupt went APLIC -> MSI -> IMSIC"
    record = plat.events.of_kind("cxl_general_media")[0]
    assert record["hpa"] == WINDOW + 2 * GRANULE and record["region"] == "/cxl-region@100000000"

    assert plat.kernel.copy_mc_to_kernel(DST, WINDOW, 4096) == 4096
    consume = plat.events.of_kind("poison.consume")[0]
    assert (consume["addr"], consume["dpa"]) == (WINDOW + 2 * GRANULE, dpa)
    assert consume["device"] == "/soc/cxl-memdev@30000000"
    assert plat.events.of_kind("fixup")
    log = plat.events.of_kind("reri.log")[0]
    assert log["bank"] == "/soc/ras@1a001000" and log["addr_info"] == WINDOW + 2 * GRANULE
    assert plat.bus.peek(DST, 2 * GRANULE) == plat.bus.peek(WINDOW, 2 * GRANULE), "the bytes before the line"


def test_poison_on_the_second_device_lands_on_its_interleaved_granule(plat: rasplat.Platform) -> None:
    plat.kernel.boot()  # the driver probes the devices and routes their event interrupts
    dev1 = plat.devices["/soc/cxl-memdev@30002000"]
    rc, _ = dev1.mailbox.execute(0x4301, (0x40).to_bytes(8, "little"))
    assert rc == 0
    plat.kernel.idle()  # the kernel takes the event interrupt and drains the log
    record = plat.events.of_kind("cxl_general_media")[0]
    assert record["hpa"] == WINDOW + 1 * GRANULE + 0x40, "device 1 holds granule 1 (position 1 of 2)"


def test_generic_fallback_dies_on_cxl_poison(plat: rasplat.Platform) -> None:
    plat.arch_copy_mc = False
    plat.inject("cxl-poison", addr=WINDOW + 0x1000)
    with pytest.raises(rasplat.KernelPanic, match="Oops - hardware error"):
        plat.kernel.copy_mc_to_kernel(DST, WINDOW, 8192)


def test_code_decoded_before_the_mailbox_poisons_its_line_traps_on_the_next_fetch(plat: rasplat.Platform) -> None:
    """Poison that arrives by any path (here the device's own mailbox, not plat.inject) drops the instructions
    decoded from that line, so the next fetch consumes the poison instead of running stale decoded code."""
    from rvasm import addi, code, jalr

    code_hpa = WINDOW + 0x4000  # device 0's DPA 0x2000 (granules alternate between the two devices)
    plat.bus.write(code_hpa, code(addi("a0", "zero", 7), jalr("zero", "ra")))
    assert plat.kernel.call(code_hpa) == 7  # decoded and cached
    dev0 = plat.devices["/soc/cxl-memdev@30000000"]
    _, hpa = dev0.dpa_to_hpa(0x2000)
    assert hpa == code_hpa
    assert dev0.mailbox.execute(0x4301, (0x2000).to_bytes(8, "little"))[0] == 0
    with pytest.raises(rasplat.KernelPanic, match="hardware error"):
        plat.kernel.call(code_hpa)
    consume = plat.events.of_kind("poison.consume")[-1]
    assert consume["access"] == "fetch" and consume["addr"] == code_hpa


def test_device_tree_sets_mailbox_payload_and_capacities(tmp_path) -> None:
    board = tmp_path / "board.dts"
    board.write_text(f'/include/ "{CXL}"\n/ {{ soc {{ cxl-memdev@30000000 {{ rasplat,payload-size = <256>; '
                     'rasplat,poison-max = <4>; }; }; };\n')  # fmt: skip
    plat = rasplat.Platform.from_devicetree(board)
    dev = plat.devices["/soc/cxl-memdev@30000000"]
    assert dev.mailbox.load(0x00, 4) & 0x1F == 8, "Mailbox Capabilities: payload size 2^8"
    bad = tmp_path / "bad.dts"
    bad.write_text(f'/include/ "{CXL}"\n/ {{ soc {{ cxl-memdev@30000000 {{ rasplat,payload-size = <100>; }}; }}; }};\n')
    with pytest.raises(rasplat.DeviceTreeError, match="cxl-memdev@30000000"):
        rasplat.Platform.from_devicetree(bad)
