"""The DRAM-ECC backend: CE/UE on real codewords, stores and faults, host path, reports, geometry, patrol scrub."""

from __future__ import annotations

import pytest

import rasplat
from rasplat import ConfigError, PoisonedRead
from rasplat.bus import Bus, HardwareError
from rasplat.clock import NS_PER_S, Clock
from rasplat.ecc import HSIAO_72_64_COLUMNS
from rasplat.events import EventLog
from rasplat.memory.dram_ecc import DramEcc, DramGeometry

SIZE = 1 << 20
BASE = 0x1_0000_0000
VALUE = 0x1122_3344_5566_7788


class Rig:
    """A backend with an event log, a clock and a sink that records the clock time of every report."""

    def __init__(self, **kw: object) -> None:
        self.events = EventLog()
        self.clock = Clock()
        self.reports: list[dict] = []
        kw = {"base": BASE, "events": self.events, "clock": self.clock, "error_sink": self._sink, **kw}
        self.mem = DramEcc(SIZE, "ecc", **kw)  # type: ignore[arg-type]

    def _sink(self, report: dict) -> None:
        self.reports.append({**report, "now": self.clock.now()})

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_fault_free_memory_behaves_as_ram(rig: Rig) -> None:
    m = rig.mem
    m.store(0x100, 8, VALUE)
    m.store(0x203, 4, 0xCAFEBABE)  # unaligned
    assert m.load(0x100, 8) == VALUE and m.load(0x203, 4) == 0xCAFEBABE and m.load(0x8000, 8) == 0
    assert not m.faults and not m._fault_lines and len(rig.events) == 0
    assert m.resident_bytes == 4096


def test_a_ce_on_load_returns_corrected_data_and_is_reported(rig: Rig) -> None:
    m = rig.mem
    m.store(0x100, 8, VALUE)
    fields = m.inject("bitflip", 0x100, bits=[3])
    assert fields == {"line": 0x100, "syndrome": HSIAO_72_64_COLUMNS[3], "decodes_as": "corrected"}
    assert m.raw_word(0x100) == (VALUE ^ 8, rasplat.ecc.encode(VALUE)), "the cells hold the flipped bit"
    assert m.load(0x100, 8) == VALUE and m.load(0x100, 1) == 0x88 and m.load(0x106, 2) == 0x1122
    ces = rig.events.of_kind("ecc.ce")
    assert len(ces) == 3, "demand reads do not write back: every read reports"
    ce = ces[0]
    assert {k: ce[k] for k in ("address", "pfn", "offset", "grain", "syndrome", "bit", "count")} == {
        "address": BASE + 0x100, "pfn": (BASE + 0x100) >> 12, "offset": 0x100, "grain": 8,
        "syndrome": HSIAO_72_64_COLUMNS[3], "bit": 3, "count": 1,
    }  # fmt: skip
    assert (ce["access"], ce["scrub"], ce["severity"], ce["ec"], ce["type"]) == ("read", False, "CE", 20, "corrected")
    assert ce["location"] == {
        "mc": 0, "channel": 0, "dimm": 0, "dimm_label": "DIMM_A1", "rank": 0, "csrow": 0, "bank": 0, "row": 0,
        "col": 0x100 // 8,
    }  # fmt: skip
    report = rig.reports[0]
    assert {k: report[k] for k in ("severity", "ec", "addr", "syndrome", "scrub", "bit", "tt", "ait")} == {
        "severity": "CE", "ec": 20, "addr": BASE + 0x100, "syndrome": HSIAO_72_64_COLUMNS[3], "scrub": False,
        "bit": 3, "tt": 4, "ait": 1,
    }  # fmt: skip
    assert not m.poison


def test_a_check_bit_ce_returns_the_data(rig: Rig) -> None:
    rig.mem.store(0x40, 8, VALUE)
    rig.mem.inject("bitflip", 0x44, check_bits=[7])  # any offset inside the word names the word
    assert rig.mem.load(0x40, 8) == VALUE
    assert rig.events.of_kind("ecc.ce")[0]["bit"] == 71 and rig.events.of_kind("ecc.ce")[0]["syndrome"] == 0x80


def test_an_unaligned_load_decodes_both_words_it_touches(rig: Rig) -> None:
    m = rig.mem
    m.store(0x100, 8, VALUE)
    m.store(0x108, 8, ~VALUE & (1 << 64) - 1)
    m.inject("bitflip", 0x100, bits=[63])
    m.inject("bitflip", 0x108, bits=[0])
    assert m.load(0x104, 8) == int.from_bytes(m.read_bytes(0x104, 8), "little")
    assert [e["address"] - BASE for e in rig.events.of_kind("ecc.ce")] == [0x100, 0x108]


def test_a_ue_poisons_the_line_and_the_load_takes_the_hardware_error_path(rig: Rig) -> None:
    m = rig.mem
    m.store(0x100, 8, VALUE)
    assert m.inject("bitflip", 0x100, bits=[0, 1])["decodes_as"] == "uncorrectable"
    assert not m.poison, "nothing is poisoned until the word is read"
    with pytest.raises(HardwareError):
        m.load(0x100, 8)
    assert m.poison == {0x100 >> 6}
    ue = rig.events.of_kind("ecc.ue")[0]
    assert (ue["bit"], ue["line"], ue["severity"], ue["ec"]) == (None, BASE + 0x100, "UEC", 20)
    assert ue["type"] == "uncorrected"
    assert ue["syndrome"] == HSIAO_72_64_COLUMNS[0] ^ HSIAO_72_64_COLUMNS[1]
    with pytest.raises(HardwareError):
        m.load(0x138, 8)  # poison is per line: another word of it traps too, without a second report
    assert m.counters.ue_count == 1 and len(rig.reports) == 1
    assert m.consumed(0x138, 8, "load") == {"line": 0x100}


def test_a_controller_that_defers_demand_ues() -> None:
    rig = Rig(demand_ue_severity="UED")
    rig.mem.inject("bitflip", 0, bits=[0, 9])
    with pytest.raises(HardwareError):
        rig.mem.load(0, 8)
    assert (rig.reports[0]["severity"], rig.events.of_kind("ecc.ue")[0]["type"]) == ("UED", "deferred")


def test_a_triple_flip_is_reported_as_the_decoder_sees_it(rig: Rig) -> None:
    """d0 ^ d1 ^ d4 = 0x07 ^ 0x0b ^ 0x13 = 0x1f, the column of d56: the decoder 'corrects' d56."""
    m = rig.mem
    m.store(0, 8, VALUE)
    assert m.inject("bitflip", 0, bits=[0, 1, 4])["decodes_as"] == "corrected"
    assert m.load(0, 8) == VALUE ^ 0b10011 ^ 1 << 56, "silent data corruption, four bits wrong"
    ce = rig.events.of_kind("ecc.ce")[0]
    assert (ce["bit"], ce["syndrome"]) == (56, 0x1F) and not m.poison


def test_stores_reencode_transient_faults_vanish_stuck_ones_come_back(rig: Rig) -> None:
    m = rig.mem
    m.store(0, 8, VALUE)
    m.inject("bitflip", 0, bits=[5])
    m.store(0, 8, VALUE)
    assert not m.faults and not m._fault_lines and m.load(0, 8) == VALUE and not rig.events.of_kind("ecc.ce")

    m.inject("bitflip", 0, bits=[5], mode="stuck")  # stuck at the complement of what the cell held
    m.store(0, 8, VALUE)
    assert m.load(0, 8) == VALUE and rig.events.of_kind("ecc.ce")[-1]["bit"] == 5
    m.store(0, 8, VALUE ^ 1 << 5)  # writing the stuck value makes the fault invisible
    assert m.load(0, 8) == VALUE ^ 1 << 5 and len(rig.events.of_kind("ecc.ce")) == 1
    assert m.clear_faults(0) == 1 and not m._fault_lines


def test_stuck_at_an_explicit_value(rig: Rig) -> None:
    m = rig.mem
    m.store(8, 8, 1 << 9)
    m.inject("bitflip", 8, bits=[9], mode="stuck", value=1)
    assert m.load(8, 8) == 1 << 9 and not rig.events.of_kind("ecc.ce"), "stuck-at-1 under a 1 is invisible"
    m.store(8, 8, 0)
    assert m.load(8, 8) == 0 and rig.events.of_kind("ecc.ce")[0]["bit"] == 9


def test_a_partial_store_is_a_read_modify_write(rig: Rig) -> None:
    m = rig.mem
    m.store(0, 8, VALUE)
    m.inject("bitflip", 0, bits=[40])
    m.store(0, 1, 0xEE)  # merges into the corrected word, reported as found by a write
    assert [e["access"] for e in rig.events.of_kind("ecc.ce")] == ["write"] and rig.reports[0]["tt"] == 5
    assert m.load(0, 8) == VALUE & ~0xFF | 0xEE and not m.faults, "re-encoded: the transient fault is gone"

    m.store(0x40, 8, VALUE)
    m.inject("bitflip", 0x40, bits=[1, 2])
    with pytest.raises(HardwareError):
        m.store(0x44, 4, 0)
    assert m.poison == {1} and m.raw_word(0x40)[0] == VALUE ^ 0b110, "a failed RMW writes nothing"

    m.inject("bitflip", 0x80, bits=[1, 2])
    m.store(0x80, 8, VALUE)  # a whole-word store needs no read: no error, the fault is gone
    assert m.load(0x80, 8) == VALUE and 2 not in m.poison and len(rig.events.of_kind("ecc.ue")) == 1


def test_host_reads_go_through_the_controller_without_reporting(rig: Rig) -> None:
    m = rig.mem
    bus = Bus()
    bus.map("ecc", BASE, SIZE, m)
    m.write_bytes(0, VALUE.to_bytes(8, "little") * 16)
    m.inject("bitflip", 0, bits=[7])
    m.inject("bitflip", 0x40, bits=[7, 8])
    assert bus.read(BASE, 8) == VALUE.to_bytes(8, "little"), "CE corrected"
    with pytest.raises(PoisonedRead):
        bus.read(BASE + 0x40, 8)
    assert bus.peek(BASE + 0x40, 8) == (VALUE ^ 0x180).to_bytes(8, "little"), "peek shows the cells"
    assert m.poisoned_lines(0, 0x80) == [0x40] and not m.poison and len(rig.events) == 0

    m.write_bytes(0x3, b"\0")  # a partial host write merges into the corrected word and re-encodes it
    assert 0 not in m.faults and m.read_bytes(0, 8) == (VALUE & ~0xFF00_0000).to_bytes(8, "little")


def test_edac_counters_per_controller_dimm_and_csrow_channel() -> None:
    geometry = DramGeometry(channels=2, dimms_per_channel=2, ranks=2, banks=2, rows=128, columns=64, interleave=4096)
    assert geometry.capacity == SIZE
    rig = Rig(geometry=geometry, mc=1)
    m = rig.mem
    rank = 2 * 128 * 64 * 8  # bytes of one rank: banks * rows * columns * 8
    slot1_rank1 = 3 * rank  # inside channel 0; granules of 4 KiB alternate channels
    # channel 0 slot 0 rank 0; channel 1 slot 0 rank 0; channel 0 slot 1 rank 1
    offsets = [0, 4096, slot1_rank1 // 4096 * 2 * 4096]
    for off in offsets:
        m.inject("bitflip", off, bits=[2])
        m.load(off, 8)
    m.inject("bitflip", 8, bits=[2, 3])
    with pytest.raises(HardwareError):
        m.load(8, 8)
    labels = [e["location"]["dimm_label"] for e in rig.events.of_kind("ecc.ce")]
    assert labels == ["DIMM_A1", "DIMM_B1", "DIMM_A2"]
    c = m.counters
    assert (c.ce_count, c.ue_count, c.ce_noinfo, c.ue_noinfo) == (3, 1, 0, 0)
    assert {k: (v.ce_count, v.ue_count) for k, v in c.dimms.items()} == {
        "DIMM_A1": (1, 1), "DIMM_A2": (1, 0), "DIMM_B1": (1, 0), "DIMM_B2": (0, 0)
    }  # fmt: skip
    assert c.csrows[0][0].ce_count == 1 and c.csrows[0][1].ce_count == 1 and c.csrows[3][0].ce_count == 1
    sysfs = c.sysfs()
    assert sysfs["mc1/ce_count"] == 3 and sysfs["mc1/dimm1/dimm_label"] == "DIMM_A2"
    assert sysfs["mc1/csrow0/ce_count"] == 2 and sysfs["mc1/csrow0/ch1_ce_count"] == 1
    rig.clock.advance(90)
    assert c.seconds_since_reset == 90
    c.reset()
    assert (c.ce_count, c.ue_count, c.seconds_since_reset) == (0, 0, 0)
    assert all(v.ce_count == v.ue_count == 0 for v in c.dimms.values())


def test_without_geometry_errors_count_as_noinfo() -> None:
    rig = Rig(geometry=None)
    rig.mem.inject("bitflip", 0, bits=[1])
    rig.mem.load(0, 8)
    rig.mem.inject("bitflip", 64, bits=[1, 2])
    with pytest.raises(HardwareError):
        rig.mem.load(64, 8)
    c = rig.mem.counters
    assert (c.ce_count, c.ce_noinfo, c.ue_count, c.ue_noinfo) == (1, 1, 1, 1) and not c.dimms
    assert rig.events.of_kind("ecc.ce")[0]["location"] is None


def test_geometry_maps_offsets_to_locations() -> None:
    g = DramGeometry(channels=2, dimms_per_channel=2, ranks=2, banks=4, rows=8, columns=16, interleave=64)
    assert g.capacity == 2 * 2 * 2 * 4 * 8 * 16 * 8
    assert g.labels == ("DIMM_A1", "DIMM_A2", "DIMM_B1", "DIMM_B2")
    at = g.locate
    assert (at(0).channel, at(0).col) == (0, 0)
    assert (at(64).channel, at(64).col) == (1, 0), "the next 64-byte granule is on the other channel"
    assert (at(128 + 8).channel, at(128 + 8).col) == (0, 9)
    # channel 1, slot 1, rank 1, row 5, bank 3, col 7: beat 1024 + 512 + 5*64 + 3*16 + 7 = 1911 in channel 1
    ch_off = 1911 * 8
    off = (ch_off // 64 * 2 + 1) * 64 + ch_off % 64
    assert g.locate(off, mc=3).as_dict() == {
        "mc": 3, "channel": 1, "dimm": 1, "dimm_label": "DIMM_B2", "rank": 1, "csrow": 3, "bank": 3, "row": 5,
        "col": 7,
    }  # fmt: skip
    with pytest.raises(ConfigError, match="offset 0x8000 is outside"):
        g.locate(g.capacity)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"channels": 0}, "channels must be a positive integer"),
        ({"interleave": 48}, "interleave must be a power of two"),
        ({"labels": ("A", "A")}, "labels must be 1 distinct names"),
    ],
)
def test_bad_geometry(kw: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        DramGeometry(**kw)


def test_bad_backend_parameters() -> None:
    with pytest.raises(ConfigError, match="geometry holds 0x8000 bytes, less than the size 0x100000"):
        DramEcc(SIZE, geometry=DramGeometry(banks=1, rows=1, columns=4096))
    with pytest.raises(ConfigError, match="unknown codec 'hamming'"):
        DramEcc(SIZE, codec="hamming")
    with pytest.raises(ConfigError, match="demand_ue_severity"):
        DramEcc(SIZE, demand_ue_severity="UE")
    with pytest.raises(ConfigError, match="patrol scrub needs a clock"):
        DramEcc(SIZE, scrub_cycle_s=10)
    with pytest.raises(ConfigError, match="scrub_cycle_s must be a positive number of seconds, got 0"):
        DramEcc(SIZE, clock=Clock(), scrub_cycle_s=0)


@pytest.mark.parametrize(
    "off, params, match",
    [
        (0, {"bits": [72]}, "bits index 72 is outside 0..63"),
        (0, {"bits": [64]}, "bits index 64 is outside 0..63"),
        (0, {"bits": [True]}, "bits index True"),
        (0, {"check_bits": [8]}, "check_bits index 8 is outside 0..7"),
        (0, {"bits": 3}, "bits must be a list"),
        (0, {"bits": [1, 1]}, "lists a bit twice"),
        (0, {}, "needs at least one of bits"),
        (0, {"bits": [1], "mode": "sticky"}, "mode must be 'transient' or 'stuck', got 'sticky'"),
        (0, {"bits": [1], "value": 1}, "value must be 0 or 1 with mode='stuck'"),
        (0, {"bits": [1], "mode": "stuck", "value": 2}, "value must be 0 or 1"),
        (0, {"bit": [1]}, r"unknown parameter\(s\) \['bit'\]"),
        (SIZE, {"bits": [1]}, r"range \[0x100000, \+0x1\) is outside"),
    ],
)
def test_bad_bitflip_parameters_name_what_was_wrong(off: int, params: dict, match: str) -> None:
    m = DramEcc(SIZE, "ecc")
    with pytest.raises(ConfigError, match=match):
        m.inject("bitflip", off, **params)
    with pytest.raises(ConfigError, match="cannot inject 'row-hammer'"):
        m.inject("row-hammer", 0)
    assert not m.faults


def test_poison_injection_still_works(rig: Rig) -> None:
    assert rig.mem.inject("poison", 0x1234) == {"line": 0x1200}
    with pytest.raises(HardwareError):
        rig.mem.load(0x1200, 8)
    assert rig.mem.clear_poison(0x1200) and rig.mem.load(0x1200, 8) == 0


def test_the_x4_code_corrects_a_whole_failed_device() -> None:
    rig = Rig(codec="x4-ssc-dsd-144-128")
    m = rig.mem
    data = bytes(range(16))
    m.write_bytes(0x20, data)
    m.inject("bitflip", 0x28, bits=[8, 9, 10, 11])  # every bit of device (symbol) 2 of the 16-byte word at 0x20
    assert m.read_bytes(0x20, 16) == data and m.load(0x20, 8) == int.from_bytes(data[:8], "little")
    ce = rig.events.of_kind("ecc.ce")[0]
    assert (ce["address"], ce["grain"], ce["symbol"], ce["bit"]) == (BASE + 0x20, 16, 2, None)
    m.inject("bitflip", 0x20, bits=[12], check_bits=[0])  # a second device: uncorrectable
    with pytest.raises(HardwareError):
        m.load(0x28, 8)
    with pytest.raises(ConfigError, match="bits index 128 is outside 0..127"):
        m.inject("bitflip", 0, bits=[128])


# --- patrol scrub -------------------------------------------------------------------------------------------
def test_scrub_writes_back_ces_transient_faults_vanish_stuck_ones_reappear() -> None:
    rig = Rig(scrub_cycle_s=3600)
    m = rig.mem
    m.store(0x1000, 8, VALUE)
    m.store(0x2000, 8, VALUE)
    m.inject("bitflip", 0x1000, bits=[10])
    m.inject("bitflip", 0x2000, bits=[10], mode="stuck")
    rig.clock.advance(3600)
    found = [(r["addr"] - BASE, r["severity"], r["ec"], r["scrub"], r["tt"]) for r in rig.reports]
    assert found == [(0x1000, "CE", 21, True, 0), (0x2000, "CE", 21, True, 0)]
    assert m.raw_word(0x1000) == (VALUE, rasplat.ecc.encode(VALUE)), "written back: the transient flip is gone"
    assert list(m.faults) == [0x2000 >> 3] and m.raw_word(0x2000)[0] == VALUE ^ 1 << 10, "the stuck bit is back"
    assert m.load(0x1000, 8) == VALUE and len(rig.events.of_kind("ecc.ce")) == 2

    rig.clock.advance(3600)
    assert [r["addr"] - BASE for r in rig.reports[2:]] == [0x2000], "the next pass finds the stuck bit again"
    assert m.scrub_status == {"passes": 2, "position": 0, "cycle_ns": 3600 * NS_PER_S, "corrected": 3, "deferred": 0}
    assert all(e["access"] == "scrub" for e in rig.events.of_kind("ecc.ce")[2:])


def test_scrub_finds_a_ue_in_an_idle_page_within_one_cycle_as_a_deferred_error() -> None:
    cycle = 1024
    rig = Rig(scrub_cycle_s=cycle)
    m = rig.mem
    m.inject("bitflip", 0x8_0040, bits=[3, 50])  # a page nobody wrote or reads
    rig.clock.advance(cycle)
    found = [(r["addr"] - BASE, r["severity"], r["ec"], r["scrub"]) for r in rig.reports]
    assert found == [(0x8_0040, "UED", 21, True)]
    # the walker passes offset o at start + o * cycle / size: half-way through the 1 MiB
    assert rig.reports[0]["now"] == (0x8_0040 * cycle * NS_PER_S + SIZE - 1) // SIZE
    assert m.poison == {0x8_0040 >> 6} and m.resident_bytes == 0, "poisoned, and no page was allocated"
    ue = rig.events.of_kind("ecc.ue")[0]
    assert (ue["type"], ue["access"], ue["scrub"]) == ("deferred", "scrub", True)
    assert rig.kinds() == ["ecc.ue"], "asynchronous: nothing consumed it, nothing trapped"

    # injected behind the walker: found in the next pass, still within one cycle
    rig.clock.advance(88)  # t = 1112 s, the walker is past offset 0x15_000
    t0 = rig.clock.now()
    m.inject("bitflip", 0x1_0000, bits=[1, 2])
    rig.clock.advance(cycle)
    assert rig.reports[1]["addr"] == BASE + 0x1_0000 and 0 < rig.reports[1]["now"] - t0 <= cycle * NS_PER_S
    assert rig.reports[1]["now"] == 2 * cycle * NS_PER_S + 0x1_0000 * cycle * NS_PER_S // SIZE
    with pytest.raises(HardwareError):
        m.load(0x8_0040, 8)  # a later consumer trips on the poison the scrubber left
    assert m.scrub_status["deferred"] == 2 and len(rig.reports) == 2


def test_scrub_can_be_stopped_and_costs_one_timer_per_pass_without_faults() -> None:
    rig = Rig(scrub_cycle_s=10)
    assert rig.clock.pending == 1
    rig.clock.advance(100)
    assert rig.mem.scrub_status["passes"] == 10 and rig.clock.pending == 1
    rig.mem.stop_scrub()
    rig.mem.inject("bitflip", 0, bits=[1])
    rig.clock.advance(100)
    assert rig.mem.scrub_status is None and not rig.reports
    rig.mem.start_scrub(50)  # a restart walks from offset 0 again, at once
    rig.clock.advance(1)
    assert [r["now"] for r in rig.reports] == [200 * NS_PER_S] and rig.mem.scrub_status["passes"] == 0


# --- the platform: the firmware's memcpy_mc over ECC memory --------------------------------------------------
ECC_BASE = 0xC000_0000


def ecc_platform() -> tuple[rasplat.Platform, DramEcc]:
    plat = rasplat.Platform.default()
    mem = DramEcc(1 << 24, "ecc", base=ECC_BASE, events=plat.events, clock=plat.clock)
    plat.bus.map("ecc", ECC_BASE, 1 << 24, mem)
    return plat, mem


SRC, DST = ECC_BASE + 0x10_0000, ECC_BASE + 0x20_0000
PAGE = bytes((i * 7 + 3) & 0xFF for i in range(4096))


def test_copy_mc_over_a_double_bit_fault_takes_the_fixup() -> None:
    plat, mem = ecc_platform()
    plat.bus.write(SRC, PAGE)
    plat.inject("bitflip", addr=SRC + 0x208, bits=[5, 40])
    assert plat.kernel.copy_mc_to_kernel(DST, SRC, 4096) != 0
    kinds = [e["kind"] for e in plat.events if e["kind"] in ("ecc.ue", "poison.consume", "trap", "fixup")]
    assert kinds == ["ecc.ue", "poison.consume", "trap", "fixup"]
    assert plat.events.of_kind("poison.consume")[0]["line"] == SRC + 0x200
    assert plat.events.of_kind("ecc.ue")[0]["address"] == SRC + 0x208


def test_copy_mc_over_a_single_bit_fault_copies_correctly_and_reports_a_ce() -> None:
    plat, mem = ecc_platform()
    plat.bus.write(SRC, PAGE)
    plat.inject("bitflip", addr=SRC + 0x208, bits=[5])
    assert plat.kernel.copy_mc_to_kernel(DST, SRC, 4096) == 0
    assert plat.bus.read(DST, 4096) == PAGE
    (ce,) = plat.events.of_kind("ecc.ce")
    assert (ce["address"], ce["bit"]) == (SRC + 0x208, 5) and not plat.events.of_kind("fixup", "trap")
