"""CXL HDM decode: HPA <-> DPA for every interleave (ways x granularity x position), regions, the window."""

from __future__ import annotations

import random

import pytest

import rasplat
from rasplat.bus import HardwareError
from rasplat.errors import ConfigError, PoisonedRead
from rasplat.memory.cxl import CXLHost, CXLRegion, HDMDecoder, HDMRegion, Opcode, Type3Device, window_target
from rasplat.memory.cxl.hdm import GRANULARITIES, WAYS_TO_EIW, dpa_offset_to_hpa_offset, hpa_offset_to_dpa_offset

MiB = 1 << 20
UNIT = 256 * MiB
BASE = 0x10_0000_0000
WAYS = (1, 2, 4, 8, 16, 3, 6, 12)


def samples(limit: int, granularity: int, rng: random.Random, n: int = 12) -> list[int]:
    """Edges of the first granules, the last byte, and random offsets below `limit`."""
    edges = [0, 1, granularity - 1, granularity, granularity + 63, 2 * granularity - 1, limit - 1, limit - granularity]
    return sorted({e for e in edges if 0 <= e < limit} | {rng.randrange(limit) for _ in range(n)})


@pytest.mark.parametrize("granularity", GRANULARITIES)
@pytest.mark.parametrize("ways", WAYS)
def test_round_trips_for_every_position(ways: int, granularity: int) -> None:
    rng = random.Random(ways * 100_000 + granularity)
    size = ways * UNIT
    decoders = [HDMDecoder(BASE, size, ways, granularity, pos, dpa_base=UNIT, dpa_skip=UNIT) for pos in range(ways)]
    region = HDMRegion(decoders)
    for pos, dec in enumerate(decoders):
        assert dec.dpa_start == 2 * UNIT and dec.dpa_size == UNIT
        for dpa_off in samples(dec.dpa_size, granularity, rng):
            dpa = dec.dpa_start + dpa_off
            hpa = dec.dpa_to_hpa(dpa)
            assert BASE <= hpa < BASE + size
            assert dec.hpa_to_dpa(hpa) == dpa, (pos, hex(dpa_off))
            assert region.locate(hpa) == (pos, dpa)
            # independent model: HPA granule k*ways + pos holds the device's granule k
            k, low = divmod(dpa_off, granularity)
            assert hpa - BASE == (k * ways + pos) * granularity + low
    for hpa_off in samples(size, granularity, rng, n=40):
        pos, dpa = region.locate(BASE + hpa_off)
        assert pos == (hpa_off // granularity) % ways
        assert region.hpa(pos, dpa) == BASE + hpa_off


def test_formulas_reference_examples() -> None:
    # 3-way, 256 B: HPA granule 3 is position 0's second granule; granule 5 is position 2's second.
    assert hpa_offset_to_dpa_offset(0x300, eiw=8, eig=0) == 0x100
    assert hpa_offset_to_dpa_offset(0x5FF, eiw=8, eig=0) == 0x1FF
    assert dpa_offset_to_hpa_offset(0x100, pos=2, eiw=8, eig=0) == 0x500
    # 12-way, 1 KiB (eig 2, eiw 0xA): granule 12*7 + 11 at position 11.
    assert dpa_offset_to_hpa_offset(7 * 1024 + 5, pos=11, eiw=10, eig=2) == (12 * 7 + 11) * 1024 + 5
    # 4-way, 4 KiB: the IW bits above the granule offset are dropped from the DPA.
    assert hpa_offset_to_dpa_offset(0x3_7123, eiw=2, eig=4) == 0xD123


def test_interleave_is_a_bijection_on_a_window_prefix() -> None:
    for ways in WAYS:
        decoders = [HDMDecoder(BASE, ways * UNIT, ways, 512, pos) for pos in range(ways)]
        region = HDMRegion(decoders)
        seen = {region.locate(BASE + g * 512) for g in range(ways * 9)}
        assert seen == {(pos, k * 512) for pos in range(ways) for k in range(9)}


def test_control_register_encodings() -> None:
    assert WAYS_TO_EIW == {1: 0, 2: 1, 4: 2, 8: 3, 16: 4, 3: 8, 6: 9, 12: 10}
    dec = HDMDecoder(BASE, 12 * UNIT, 12, 16384, 5)
    assert dec.ctrl == 6 | 0xA << 4 | 1 << 9 | 1 << 10


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(ways=5), "interleave ways 5"),
        (dict(granularity=128), "granularity 128"),
        (dict(granularity=32768), "granularity 32768"),
        (dict(granularity=768), "granularity 768"),
        (dict(ways=2, position=2), "position 2"),
        (dict(hpa_base=BASE + 4096), "HPA base"),
        (dict(size=UNIT + 4096), "size"),
        (dict(ways=3, size=2 * UNIT), "3 ways x 256 MiB"),
        (dict(dpa_skip=4096), "DPA skip"),
        (dict(dpa_base=-UNIT), "DPA base"),
        (dict(hpa_base=(1 << 52) - UNIT, size=2 * UNIT), "beyond 52 bits"),
    ],
)
def test_invalid_decoder_parameters_are_named(kwargs: dict, words: str) -> None:
    args = dict(hpa_base=BASE, size=kwargs.get("ways", 1) * UNIT, ways=1, granularity=256, position=0)
    args.update(kwargs)
    with pytest.raises(ConfigError, match=words):
        HDMDecoder(**args)


def test_out_of_window_and_foreign_position_are_refused() -> None:
    dec = HDMDecoder(BASE, 2 * UNIT, 2, 256, 1)
    with pytest.raises(ConfigError, match="outside the window"):
        dec.hpa_to_dpa(BASE + 2 * UNIT)
    with pytest.raises(ConfigError, match="position 0, not this device's 1"):
        dec.hpa_to_dpa(BASE)
    with pytest.raises(ConfigError, match="outside the decoded range"):
        dec.dpa_to_hpa(UNIT)
    with pytest.raises(ConfigError, match="positions 0..1"):
        HDMRegion([dec])
    with pytest.raises(ConfigError, match="disagree"):
        HDMRegion([HDMDecoder(BASE, 2 * UNIT, 2, 256, 0), HDMDecoder(BASE, 2 * UNIT, 2, 512, 1)])


def test_device_decoders_allocate_dpa_with_skip_into_partitions() -> None:
    dev = Type3Device("mem0", volatile_size=2 * UNIT, persistent_size=2 * UNIT)
    ram = CXLRegion([dev], BASE, UNIT, name="region0")
    pmem = CXLRegion([dev], BASE + 4 * UNIT, UNIT, name="region1", partition="persistent")
    d0, d1 = dev.decoders
    assert (d0.dpa_base, d0.dpa_skip, d0.dpa_start) == (0, 0, 0)
    # the second decoder starts where the first ended and skips the rest of the volatile partition
    assert (d1.dpa_base, d1.dpa_skip, d1.dpa_start) == (UNIT, UNIT, 2 * UNIT)
    assert dev.dpa_to_hpa(2 * UNIT + 0x40) == (pmem, BASE + 4 * UNIT + 0x40)
    assert dev.dpa_to_hpa(0x80) == (ram, BASE + 0x80)
    assert dev.dpa_to_hpa(UNIT + 0x40) == (None, None)  # skipped DPA maps nowhere
    assert pmem.uuid != "00000000-0000-0000-0000-000000000000" and ram.uuid.startswith("00000000")
    with pytest.raises(ConfigError, match="does not fit the persistent partition"):
        dev.commit_decoder(BASE + 8 * UNIT, 2 * UNIT, partition="persistent")
    with pytest.raises(ConfigError, match="no partition 'flash'"):
        dev.commit_decoder(BASE + 8 * UNIT, UNIT, partition="flash")


def test_region_setup_is_all_or_nothing() -> None:
    a, b = Type3Device("mem0"), Type3Device("mem1", volatile_size=UNIT)
    b.commit_decoder(BASE, UNIT)  # b has no volatile DPA left
    with pytest.raises(ConfigError, match="mem1"):
        CXLRegion([a, b], BASE + 4 * UNIT, 2 * UNIT)
    assert a.decoders == []
    with pytest.raises(ConfigError, match="appears twice"):
        CXLRegion([a, a], BASE, 2 * UNIT)


@pytest.mark.parametrize("ways, granularity", [(2, 256), (3, 1024), (4, 4096), (6, 512), (12, 16384)])
def test_poison_record_hpa_is_base_plus_position_times_granularity(ways: int, granularity: int) -> None:
    devices = [Type3Device(f"mem{i}", serial=i) for i in range(ways)]
    region = CXLRegion(devices, BASE, ways * UNIT, granularity=granularity)
    for pos, dev in enumerate(devices):
        dpa = region.hdm.decoders[pos].dpa_start
        assert dev.mailbox.execute(Opcode.INJECT_POISON, dpa.to_bytes(8, "little"))[0] == 0
        (trace,) = CXLHost(dev).get_poison()
        assert trace["dpa"] == dpa and trace["region"] == "region0" and trace["source"] == "Injected"
        assert trace["hpa"] == BASE + pos * granularity


def window(ways: int, granularity: int) -> tuple[rasplat.Platform, list[Type3Device], CXLRegion]:
    plat = rasplat.Platform.default()
    devices = [Type3Device(f"mem{i}", clock=plat.clock, events=plat.events) for i in range(ways)]
    region = CXLRegion(devices, 0x1_0000_0000, ways * UNIT, granularity=granularity)
    plat.bus.map("cxl0", region.hpa_base, region.size, window_target(region))
    return plat, devices, region


def test_interleaved_window_routes_bytes_and_splits_straddling_accesses() -> None:
    plat, devices, region = window(3, 256)
    data = bytes((i * 7 + 3) & 0xFF for i in range(3 * 256 * 4))
    plat.bus.write(region.hpa_base + 0x40, data)
    for i in range(0, len(data), 97):
        dev, dpa = region.locate(region.hpa_base + 0x40 + i)
        assert dev.media.read_bytes(dpa, 1)[0] == data[i]
    assert plat.bus.read(region.hpa_base + 0x40, len(data)) == data
    # an 8-byte load/store across the 256 B boundary between mem0 and mem1
    addr = region.hpa_base + 0xFC
    expect = int.from_bytes(plat.bus.read(addr, 8), "little")
    assert plat.bus.load(addr, 8) == expect
    plat.bus.store(addr, 8, 0x1122334455667788)
    assert devices[0].media.read_bytes(0xFC, 4) == bytes.fromhex("88776655")
    assert devices[1].media.read_bytes(0x00, 4) == bytes.fromhex("44332211")


def test_interleaved_window_poison_bites_on_the_right_device() -> None:
    plat, devices, region = window(4, 512)
    hpa = region.hpa_base + 2 * 512 + 0x80  # position 2, DPA 0x80
    plat.inject("poison", addr=hpa)
    assert 0x80 // 64 in devices[2].media.poison
    with pytest.raises(HardwareError):
        plat.bus.load(hpa + 8, 8)
    with pytest.raises(HardwareError):  # straddling access whose second half is poisoned
        plat.bus.load(hpa - 4, 8)
    with pytest.raises(PoisonedRead):
        plat.bus.read(region.hpa_base, 4096)
    target = plat.bus.region("cxl0").target
    assert target.poisoned_lines(0, region.size) == [hpa - region.hpa_base]  # the long-range path
    off = hpa - region.hpa_base
    assert target.poisoned_lines(off - 100, 300) == [off]  # the granule-walking path
    assert plat.bus.load(hpa + 64, 8) == 0
    assert plat.clear_poison(hpa) and not target.poisoned_lines(0, region.size)
