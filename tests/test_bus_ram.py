"""The bus address map and the sparse RAM backend with per-line poison."""

from __future__ import annotations

import pytest

import rasplat
from rasplat.bus import AccessFault, Bus, HardwareError
from rasplat.memory import RAM


def test_sparse_ram_costs_nothing_until_written() -> None:
    ram = RAM(64 << 30)
    bus = Bus()
    bus.map("big", 0x10_0000_0000, 64 << 30, ram)
    assert ram.resident_bytes == 0
    assert bus.read(0x10_0000_0000 + (63 << 30), 16) == bytes(16), "untouched memory reads as zeros"
    assert ram.resident_bytes == 0, "reading does not allocate"
    bus.write(0x10_0000_0000 + (40 << 30) + 4094, b"\x01\x02\x03\x04")  # straddles two pages
    assert ram.resident_bytes == 2 * 4096
    assert bus.load(0x10_0000_0000 + (40 << 30) + 4094, 4) == 0x04030201


@pytest.mark.parametrize("size", [1, 2, 4, 8])
def test_little_endian_accesses_aligned_and_not(size: int) -> None:
    bus = Bus()
    bus.map("ram", 0x1000, 0x2000, RAM(0x2000))
    value = int.from_bytes(bytes(range(1, size + 1)), "little")
    for addr in (0x1000, 0x1000 + size * 3, 0x1001, 0x1FFF - size + 1):
        bus.store(addr, size, value)
        assert bus.load(addr, size) == value
        assert bus.read(addr, size) == bytes(range(1, size + 1))


def test_unmapped_and_straddling_accesses_fault() -> None:
    bus = Bus()
    bus.map("a", 0x1000, 0x1000, RAM(0x1000))
    bus.map("b", 0x2000, 0x1000, RAM(0x1000))
    with pytest.raises(AccessFault):
        bus.load(0x5000, 8)
    with pytest.raises(AccessFault):
        bus.load(0x1FFC, 8)  # crosses from region a into region b
    with pytest.raises(rasplat.BusError, match="0x5000"):
        bus.read(0x5000, 4)


def test_overlapping_regions_are_refused_with_both_names() -> None:
    bus = Bus()
    bus.map("dram", 0x8000_0000, 0x1000_0000, RAM(0x1000_0000))
    with pytest.raises(rasplat.ConfigError, match="'cxl'.*overlaps 'dram'"):
        bus.map("cxl", 0x8FFF_F000, 0x2000, RAM(0x2000))


def test_poison_is_per_line_and_stays_until_cleared() -> None:
    plat = rasplat.Platform.default()
    base = 0x8800_0000
    plat.bus.write(base, bytes(range(256)))
    event = plat.inject("poison", addr=base + 0x45)
    assert event["line"] == base + 0x40 and event["kind"] == "inject" and event["region"] == "/memory@80000000"
    dram = plat.memory_at(base).target
    with pytest.raises(HardwareError):
        dram.load(base + 0x7F - 0x8000_0000, 1)
    assert dram.load(base + 0x3F - 0x8000_0000, 1) == 0x3F, "the line before is clean"
    with pytest.raises(rasplat.PoisonedRead, match="0x88000040"):
        plat.bus.read(base, 0x80)
    assert plat.bus.peek(base + 0x40, 4) == bytes([0x40, 0x41, 0x42, 0x43]), "the data is still there"
    plat.bus.write(base + 0x40, b"\0" * 64)
    assert dram.poisoned_lines(0x0800_0000, 0x100) == [0x0800_0040], "a host write does not clear poison"
    assert plat.clear_poison(base + 0x41) is True
    assert plat.clear_poison(base + 0x41) is False
    assert plat.bus.read(base + 0x40, 4) == bytes(4)


def test_bad_injections_name_what_was_wrong() -> None:
    plat = rasplat.Platform.default()
    with pytest.raises(rasplat.ConfigError, match="0x10000000 is not in a memory backend"):
        plat.inject("poison", addr=0x1000_0000)
    with pytest.raises(rasplat.ConfigError, match="cannot inject 'ecc-storm'"):
        plat.inject("ecc-storm", addr=0x8800_0000)
    with pytest.raises(rasplat.ConfigError, match="'bitflip' needs at least one of bits"):
        plat.inject("bitflip", addr=0x8800_0000)
    with pytest.raises(rasplat.ConfigError, match="takes no parameters"):
        plat.inject("poison", addr=0x8800_0000, bits=[1])
