"""CXL RAS Capability registers: masks, severity, first-error pointer, header log, W1C and multiple-header queueing,
the AER-like interrupt and the RERI error sink."""

from __future__ import annotations

import pytest

from rasplat.bus import AccessFault, Bus
from rasplat.clock import Clock
from rasplat.errors import ConfigError
from rasplat.events import EventLog
from rasplat.memory.cxl import RasCapability, Type3Device
from rasplat.memory.cxl.ras import CAP_CTRL, CE_MASK, CE_STATUS, HEADER_LOG, UE_MASK, UE_SEVERITY, UE_STATUS

BASE = 0x3000_0000


def ras(**kw: object) -> tuple[RasCapability, Bus, list, list]:
    irqs: list = []
    sunk: list = []
    cap = RasCapability("mem0", on_ras_interrupt=lambda *a: irqs.append(a), error_sink=sunk.append, **kw)  # type: ignore[arg-type]
    bus = Bus()
    bus.map("ras", BASE, cap.size, cap, kind="mmio")
    return cap, bus, irqs, sunk


def rd(bus: Bus, off: int) -> int:
    return int.from_bytes(bus.read(BASE + off, 4), "little")


def wr(bus: Bus, off: int, value: int, size: int = 4) -> None:
    bus.write(BASE + off, value.to_bytes(size, "little"))


def test_reset_values_follow_qemu() -> None:
    cap, bus, _, _ = ras()
    assert cap.size == 0x58
    assert (rd(bus, UE_STATUS), rd(bus, UE_MASK), rd(bus, UE_SEVERITY)) == (0, 0x1CFFF, 0x1CFFF)
    assert (rd(bus, CE_STATUS), rd(bus, CE_MASK), rd(bus, CAP_CTRL)) == (0, 0x7F, 0x200 | 63)
    assert cap.inject_uncorrectable(["mem_data_ecc"]) == 0  # masked at reset: dropped
    assert not cap.inject_correctable("mem_data_ecc")


def test_uncorrectable_queue_fep_header_log_and_w1c() -> None:
    cap, bus, irqs, sunk = ras()
    wr(bus, UE_MASK, 0)
    wr(bus, UE_SEVERITY, 1 << 10)  # Poison Received fatal, everything else non-fatal
    recorded = cap.inject_uncorrectable([("mem_data_ecc", [0xAAAA, 0xBBBB]), ("poison_received", [0xCCCC]), 14])
    assert recorded == 3
    assert rd(bus, UE_STATUS) == 1 << 7 | 1 << 10 | 1 << 14
    assert rd(bus, CAP_CTRL) & 0x3F == 7 and rd(bus, HEADER_LOG) == 0xAAAA and rd(bus, HEADER_LOG + 4) == 0xBBBB
    assert irqs == [("uncorrectable", "fatal")]
    assert [(s["severity"], s["ec"], s["error"]) for s in sunk] == [
        ("ued", 27, "mem_data_ecc"), ("uec", 27, "poison_received"), ("ued", 27, "internal")]  # fmt: skip
    assert sunk[0]["header_log"][:2] == [0xAAAA, 0xBBBB] and sunk[0]["device"] == "mem0"
    wr(bus, UE_STATUS, 1 << 10)  # not the FEP bit: nothing retired yet... it retires every poison_received error
    assert rd(bus, UE_STATUS) == 1 << 7 | 1 << 14 and rd(bus, CAP_CTRL) & 0x3F == 7
    wr(bus, UE_STATUS, 1 << 7)  # the FEP: the oldest goes, the next loads
    assert rd(bus, UE_STATUS) == 1 << 14 and rd(bus, CAP_CTRL) & 0x3F == 14 and rd(bus, HEADER_LOG) == 0
    bus.write(BASE + UE_STATUS + 1, bytes([1 << 6]))  # a byte write of bit 14
    assert rd(bus, UE_STATUS) == 0 and rd(bus, CAP_CTRL) & 0x3F == 63
    wr(bus, CAP_CTRL, 5)  # read-only
    wr(bus, HEADER_LOG, 5)
    assert rd(bus, CAP_CTRL) == 0x200 | 63 and rd(bus, HEADER_LOG) == 0


def test_correctable_w1c_and_masks() -> None:
    cap, bus, irqs, sunk = ras(masked_at_reset=False)
    assert cap.inject_correctable("mem_data_ecc") and cap.inject_correctable(6)
    assert rd(bus, CE_STATUS) == 0b100_0010 and irqs == [("correctable", "corrected")] * 2
    assert [s["severity"] for s in sunk] == ["ce", "ce"]
    wr(bus, CE_STATUS, 0b10)
    assert rd(bus, CE_STATUS) == 0b100_0000
    wr(bus, CE_MASK, 0xFF)
    assert rd(bus, CE_MASK) == 0x7F and not cap.inject_correctable("crc_threshold")
    wr(bus, UE_MASK, 1 << 4)
    assert cap.inject_uncorrectable(["mem_data_parity", "mem_address_parity"]) == 1
    assert rd(bus, UE_STATUS) == 1 << 5


def test_bad_errors_and_accesses() -> None:
    cap, _, _, _ = ras()
    with pytest.raises(ConfigError, match="unknown uncorrectable error 'cosmic_ray'"):
        cap.inject_uncorrectable(["cosmic_ray"])
    with pytest.raises(ConfigError, match="unknown uncorrectable error 12"):
        cap.inject_uncorrectable([12])
    with pytest.raises(ConfigError, match="at most 16"):
        cap.inject_uncorrectable([("internal", [0] * 17)])
    with pytest.raises(AccessFault):
        cap.load(0x58, 4)


def test_device_callbacks_reach_the_ras_block() -> None:
    sunk: list = []
    events = EventLog()
    dev = Type3Device("mem3", clock=Clock(), events=events)
    dev.error_sink = sunk.append
    dev.ras.ue_mask = 0
    dev.ras.inject_uncorrectable(["internal"])
    assert sunk[0]["device"] == "mem3" and sunk[0]["severity"] == "uec"
    assert events.of_kind("cxl.ras")[0]["error"] == "internal"
