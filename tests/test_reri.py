"""RERI v1.0 error-bank conformance: each test names the rule it checks, citing the project's reference
(/work/shared/reference/riscv-aia-reri.md §5, "RERI") and the reri_err_reporting.adoc lines it cites."""

from __future__ import annotations

import pytest

from rasplat.aia import AplicDomain, Imsic, ImsicFile
from rasplat.bus import AccessFault, Bus
from rasplat.clock import Clock
from rasplat.errors import ConfigError
from rasplat.events import EventLog
from rasplat.reri import (
    AIT_SPA,
    CE,
    CEC,
    CECO,
    EC_CORRUPTED_DATA_ACCESS,
    EC_MEM_DATA,
    MO,
    RDIP,
    TT_EXPLICIT_READ,
    UEC,
    UED,
    ReriBank,
    V,
    decode_status,
)

CLASS_BITS = {"INFO": 0, "CE": CE.mask, "UED": UED.mask, "UEC": UEC.mask}


def control(i: int) -> int:
    return 64 + 64 * i


def status(i: int) -> int:
    return 72 + 64 * i


class Rig:
    def __init__(self, n: int = 4, with_clock: bool = True, **kw) -> None:
        self.clock = Clock() if with_clock else None
        self.events = EventLog()
        self.signals: list[tuple[str, int]] = []
        self.levels: list[tuple[str, bool]] = []
        self.bank = ReriBank("dram0", n, vendor_id=0x489, imp_id=0x1234, inst_id=7, clock=self.clock,
                             events=self.events, on_signal=lambda k, i: self.signals.append((k, i)),
                             on_level=lambda k, lv: self.levels.append((k, lv)), **kw)  # fmt: skip

    def st(self, i: int = 0) -> dict[str, int]:
        return decode_status(self.bank.load(status(i), 8))


# --- layout --------------------------------------------------------------------------------------------
def test_header_registers() -> None:
    """§5.1: vendor_n_imp_id (vendor 31:0, imp 63:32); bank_info inst_id 15:0, n_err_recs 21:16, layout 23:22 = 0,
    version 63:56 = 0x01; the header is read-only (reri_err_reporting.adoc:10-90)."""
    b = Rig(5).bank
    assert b.load(0, 8) == 0x1234 << 32 | 0x489
    assert b.load(8, 8) == 0x01 << 56 | 5 << 16 | 7
    assert b.load(12, 4) == 0x01 << 24, "the high half alone"
    b.store(0, 8, 0)
    b.store(8, 8, 0)
    assert b.load(8, 8) >> 56 == 0x01


def test_valid_summary() -> None:
    """§5.1 valid_summary: sv bit 0, valid_bitmap 63:1 with bit i+1 mirroring record i's v."""
    rig = Rig()
    assert rig.bank.load(16, 8) == 1
    rig.bank.log(0, "CE")
    rig.bank.log(2, "UEC")
    assert rig.bank.load(16, 8) == 1 | 1 << 1 | 1 << 3


def test_records_at_64_plus_64i_and_unimplemented_read_zero() -> None:
    """§5.1: record i at 64 + 64*i; unimplemented registers read 0 and ignore writes (:60)."""
    rig = Rig(2)
    b = rig.bank
    b.log(1, "UED", ec=EC_MEM_DATA, addr=0x8000_1000)
    assert b.load(64 + 64 + 8, 8) & V.mask and b.load(64 + 64 + 16, 8) == 0x8000_1000
    for off in (24, 32, 48, 56, 64 + 48, 64 + 56, 192, 192 + 8, 0xFF8):
        b.store(off, 8, (1 << 64) - 1)
        assert b.load(off, 8) == 0, hex(off)
    assert b.SIZE == 0x1000


@pytest.mark.parametrize(("off", "size"), [(72, 1), (72, 2), (74, 4), (76, 8), (73, 8)])
def test_access_sizes(off: int, size: int) -> None:
    """§5.1: only aligned 4- and 8-byte accesses are defined; others are UNSPECIFIED — this model faults."""
    b = Rig().bank
    with pytest.raises(AccessFault):
        b.load(off, size)
    with pytest.raises(AccessFault):
        b.store(off, size, 0)


def test_little_endian_halves_on_a_bus() -> None:
    """§5.1: registers are little-endian; an 8-byte access may act as two 4-byte halves."""
    rig = Rig()
    bus = Bus()
    bus.map("reri", 0x1000_0000, ReriBank.SIZE, rig.bank, kind="mmio")
    rig.bank.log(0, "UEC", ec=EC_CORRUPTED_DATA_ACCESS, c=True, addr=0x8800_0040, tt=TT_EXPLICIT_READ)
    whole = bus.load(0x1000_0000 + 72, 8)
    assert bus.load(0x1000_0000 + 72, 4) | bus.load(0x1000_0000 + 76, 4) << 32 == whole
    assert bus.read(0x1000_0000 + 80, 8) == (0x8800_0040).to_bytes(8, "little")


# --- logging --------------------------------------------------------------------------------------------
def test_log_into_an_invalid_record() -> None:
    """§5.2 overwrite pseudocode, invalid branch: the record is written, v = 1, rdip = 1, mo = 0, one class bit;
    fields and timestamp are the error's (reri_err_reporting.adoc:780-860)."""
    rig = Rig()
    rig.clock.advance(ns=12_345)
    out = rig.bank.log(0, "UEC", ec=EC_CORRUPTED_DATA_ACCESS, c=True, addr=0x8800_0040, tt=TT_EXPLICIT_READ,
                       pri=2, info=0xABC)  # fmt: skip
    st = rig.st()
    assert out["outcome"] == "logged"
    assert (st["v"], st["uec"], st["ued"], st["ce"], st["mo"], st["rdip"]) == (1, 1, 0, 0, 0, 1)
    assert (st["ec"], st["c"], st["tt"], st["ait"], st["pri"], st["iv"], st["siv"], st["tsv"]) == (
        2, 1, 4, AIT_SPA, 2, 1, 0, 1)  # fmt: skip
    rec = rig.bank.read_record(0)
    assert (rec["addr_info"], rec["info"], rec["timestamp"]) == (0x8800_0040, 0xABC, 12_345)


OVERWRITE_TABLE = [
    # old,   new,    outcome,       mo, class bits after
    ("INFO", "INFO", "lost",        1, ()),
    ("INFO", "CE",   "overwritten", 0, ("CE",)),
    ("INFO", "UED",  "overwritten", 0, ("UED",)),
    ("INFO", "UEC",  "overwritten", 0, ("UEC",)),
    ("CE",   "INFO", "lost",        0, ("CE",)),
    ("CE",   "CE",   "lost",        1, ("CE",)),
    ("CE",   "UED",  "overwritten", 0, ("CE", "UED")),
    ("CE",   "UEC",  "overwritten", 0, ("CE", "UEC")),
    ("UED",  "INFO", "lost",        0, ("UED",)),
    ("UED",  "CE",   "lost",        0, ("UED", "CE")),
    ("UED",  "UED",  "lost",        1, ("UED",)),
    ("UED",  "UEC",  "overwritten", 0, ("UED", "UEC")),
    ("UEC",  "INFO", "lost",        0, ("UEC",)),
    ("UEC",  "CE",   "lost",        0, ("UEC", "CE")),
    ("UEC",  "UED",  "lost",        0, ("UEC", "UED")),
    ("UEC",  "UEC",  "lost",        1, ("UEC",)),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "outcome", "mo", "classes"), OVERWRITE_TABLE)
def test_overwrite_rules_for_each_severity_pair(
    old: str, new: str, outcome: str, mo: int, classes: tuple[str, ...]
) -> None:
    """§5.2 overwrite rules: UEC > UED > CE > informational; a higher severity overwrites and clears mo; the same
    severity sets mo and overwrites only with a higher pri; class bits are sticky (ORed); every update of a
    valid record clears rdip (reri_err_reporting.adoc:780-860, pseudocode :819)."""
    rig = Rig()
    rig.bank.log(0, old, ec=EC_MEM_DATA, addr=0x1000)
    got = rig.bank.log(0, new, ec=EC_CORRUPTED_DATA_ACCESS, addr=0x2000)
    st = rig.bank.status(0)
    assert got["outcome"] == outcome
    assert MO.get(st) == mo and RDIP.get(st) == 0 and V.get(st) == 1
    assert st & (CE.mask | UED.mask | UEC.mask) == sum(CLASS_BITS[c] for c in classes)
    overwritten = outcome == "overwritten"
    assert decode_status(st)["ec"] == (EC_CORRUPTED_DATA_ACCESS if overwritten else EC_MEM_DATA)
    assert rig.bank.read_record(0)["addr_info"] == (0x2000 if overwritten else 0x1000)


@pytest.mark.parametrize(("old_pri", "new_pri", "outcome"), [(1, 2, "overwritten"), (1, 1, "lost"), (2, 0, "lost")])
def test_same_severity_priority_tie_break(old_pri: int, new_pri: int, outcome: str) -> None:
    """§5.2: at the same severity mo is set and the new error overwrites only if its pri is higher (:819)."""
    rig = Rig()
    rig.bank.log(0, "UED", pri=old_pri, ec=20)
    got = rig.bank.log(0, "UED", pri=new_pri, ec=21)
    st = rig.st()
    assert got["outcome"] == outcome and st["mo"] == 1
    assert (st["pri"], st["ec"]) == ((new_pri, 21) if outcome == "overwritten" else (old_pri, 20))


def test_higher_severity_clears_mo_and_keeps_sticky_bits() -> None:
    """§5.2: a higher-severity overwrite clears mo; older class bits stay set (sticky)."""
    rig = Rig()
    rig.bank.log(0, "CE")
    rig.bank.log(0, "CE")
    assert rig.st()["mo"] == 1
    rig.bank.log(0, "UEC", ec=2)
    st = rig.st()
    assert (st["mo"], st["ce"], st["uec"], st["ec"]) == (0, 1, 1, 2)
    rig.bank.log(0, "UEC")
    assert rig.st()["mo"] == 1, "mo with v = 1 and uec = 1: an UEC was lost"


def test_invalidated_record_starts_afresh() -> None:
    """§5.2 pseudocode, invalid branch: logging into an invalid record clears the sticky history and mo."""
    rig = Rig()
    rig.bank.log(0, "CE")
    rig.bank.log(0, "UEC")
    rig.bank.log(0, "UEC")
    rig.bank.store(control(0), 8, 1 << 49 | 1 << 48 | 1)  # srdp + sinv (keep else)
    rig.bank.log(0, "UED")
    st = rig.st()
    assert (st["v"], st["ce"], st["ued"], st["uec"], st["mo"], st["rdip"]) == (1, 0, 1, 0, 0, 1)


# --- rdip / sinv / srdp / status write protection --------------------------------------------------------
def test_sinv_needs_rdip() -> None:
    """§5.2 "Clearing a record": sinv clears v only if rdip = 1; srdp sets rdip; both together set rdip then
    clear v; sinv and srdp read 0 (reri_err_reporting.adoc:330-360)."""
    rig = Rig()
    b = rig.bank
    b.log(0, "CE")
    b.log(0, "CE")  # updates a valid record: rdip -> 0 (an overwrite happened while "reading")
    assert rig.st()["rdip"] == 0
    b.store(control(0), 8, 1 << 48 | 1)
    assert rig.st()["v"] == 1, "sinv without rdip does not invalidate"
    b.store(control(0) + 4, 4, 1 << (49 - 32))  # srdp through the high half
    assert rig.st()["rdip"] == 1 and rig.st()["v"] == 1
    b.store(control(0) + 4, 4, 1 << (48 - 32))
    assert rig.st()["v"] == 0
    assert b.load(control(0), 8) & (3 << 48) == 0
    b.log(0, "UED")
    b.log(0, "UED")
    b.store(control(0), 8, 3 << 48 | 1)
    assert (rig.st()["v"], rig.st()["rdip"]) == (0, 1)


def test_low_half_write_does_not_trigger_sinv() -> None:
    """§5.1: an 8-byte register may be written as two 4-byte halves; a low-half write cannot reach sinv (bit 48)."""
    rig = Rig()
    rig.bank.log(0, "CE")
    rig.bank.store(control(0), 4, 0xFFFFFFFF)
    assert rig.st()["v"] == 1
    assert rig.bank.load(control(0), 8) == 0xFF, "else, cece, ces, ueds, uecs; WPRI bits read zero"


def test_status_is_write_protected_while_valid() -> None:
    """§5.2 "Status writes": status_i ignores software writes while v = 1 (reri_err_reporting.adoc:480)."""
    rig = Rig()
    b = rig.bank
    b.log(0, "UED", ec=20)
    before = b.load(status(0), 8)
    b.store(status(0), 8, 0)
    b.store(status(0) + 4, 4, 0xFFFF0000)
    assert b.load(status(0), 8) == before
    b.store(control(0), 8, 1 << 48 | 1)  # sinv (rdip is 1)
    b.store(status(0), 8, 0xFFFE << 48)  # software initialises cec with v = 0
    assert CEC.get(b.load(status(0), 8)) == 0xFFFE
    b.store(status(0), 8, (1 << 64) - 1)
    assert b.load(status(0), 8) == 0xFFFF_0000_FFB3_FFFF, "WPRI bits 19:18, 22 and 47:32 stay zero"


def test_other_record_registers_stay_writable() -> None:
    """§5.1: addr_info/info/suppl_info/timestamp are WARL and writable (only status_i is protected while v = 1)."""
    rig = Rig()
    rig.bank.log(0, "CE", addr=0x10)
    rig.bank.store(80, 8, 0x20)
    assert rig.bank.load(80, 8) == 0x20


# --- corrected-error counting ----------------------------------------------------------------------------
def test_cece_counts_without_signalling_until_overflow() -> None:
    """§5.2 cece: with cece = 1 CEs increment the 16-bit cec and do not signal; only the overflow (ceco 0 -> 1)
    signals via ces; UED/UEC leave cec/ceco alone (reri_err_reporting.adoc:370-380, :780-860)."""
    rig = Rig()
    b = rig.bank
    b.set_control(0, cece=True, ces="high", ueds="low")
    b.store(status(0), 8, 0xFFFD << 48)
    out = b.log(0, "CE")
    assert (out["outcome"], out["signals"], rig.st()["cec"]) == ("logged", [], 0xFFFE)
    out = b.log(0, "CE")
    assert (out["outcome"], out["signals"], rig.st()["cec"]) == ("counted-only", [], 0xFFFF)
    out = b.log(0, "CE")
    assert out["signals"] == ["high"] and (rig.st()["cec"], rig.st()["ceco"]) == (0, 1)
    out = b.log(0, "CE")
    assert out["signals"] == [] and rig.st()["cec"] == 1, "ceco already 1: no second overflow signal"
    b.log(0, "UED")
    assert (rig.st()["cec"], rig.st()["ceco"]) == (1, 1)
    assert rig.signals == [("high", 0), ("low", 0)]


def test_cec_holds_when_cece_is_zero() -> None:
    """§5.2: with cece = 0 the cec does not count and retains its value; CEs signal via ces."""
    rig = Rig()
    rig.bank.set_control(0, ces="low")
    out = rig.bank.log(0, "CE")
    assert rig.st()["cec"] == 0 and out["signals"] == ["low"]


# --- signals ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("setting", "kind"), [("off", None), ("low", "low"), ("high", "high"),
                                               ("platform", "platform"), (2, "high")])  # fmt: skip
def test_signal_selection(setting: str | int, kind: str | None) -> None:
    """§5.2 signal enables: ces/ueds/uecs 0 disabled, 1 low, 2 high, 3 platform-specific (:315-325)."""
    for sev, field in (("CE", "ces"), ("UED", "ueds"), ("UEC", "uecs"), ("INFO", "ces")):
        rig = Rig()
        rig.bank.set_control(0, **{field: setting})
        rig.bank.log(0, sev)
        assert rig.signals == ([] if kind is None else [(kind, 0)]), sev


def test_control_fields_encoding() -> None:
    """§5.1 control_i: else 0, cece 1, ces 3:2, ueds 5:4, uecs 7:6."""
    rig = Rig()
    rig.bank.store(control(0), 8, 1 | 1 << 1 | 1 << 2 | 2 << 4 | 3 << 6)
    rig.bank.log(0, "UED")
    rig.bank.log(0, "UEC")
    rig.bank.log(0, "CE")
    assert rig.signals == [("high", 0), ("platform", 0)]


def test_every_logged_error_signals_its_class() -> None:
    """§5.2: every logged error asserts the signal configured for its class, even when it does not overwrite."""
    rig = Rig()
    rig.bank.set_control(0, ces="low", uecs="high")
    rig.bank.log(0, "UEC")
    rig.bank.log(0, "CE")
    assert rig.signals == [("high", 0), ("low", 0)]


def test_else_zero_stops_logging_and_signalling() -> None:
    """§5.2: else = 0 stops logging and signaling new errors; signals already raised stay (:290-300)."""
    rig = Rig()
    rig.bank.set_control(0, uecs="high")
    rig.bank.log(0, "UEC")
    rig.bank.set_control(0, enable=False)
    before = rig.bank.status(0)
    out = rig.bank.log(0, "UEC", ec=9)
    assert out["outcome"] == "disabled" and rig.bank.status(0) == before
    assert rig.signals == [("high", 0)] and rig.bank.asserted("high")


def test_signal_level_until_invalidated() -> None:
    """§5.2 (model): a record keeps its signal asserted while v = 1 (or ceco = 1); invalidating it with sinv
    drops the level that drives mip 35/43. The spec leaves the signal's form UNSPECIFIED (:315-350)."""
    rig = Rig()
    rig.bank.set_control(0, uecs="high")
    rig.bank.set_control(1, uecs="high")
    rig.bank.log(0, "UEC")
    rig.bank.log(1, "UEC")
    assert rig.levels == [("high", True)]
    rig.bank.store(control(0), 8, 1 << 48 | 1)
    assert rig.levels == [("high", True)], "record 1 still holds it"
    rig.bank.store(control(1), 8, 1 << 48 | 1)
    assert rig.levels == [("high", True), ("high", False)]


# --- eid injection ----------------------------------------------------------------------------------------
def test_eid_countdown_injects_the_prepared_record() -> None:
    """§5.2 eid: writing eid > 0 starts a countdown; at 0 status.v is set, signalling for the class set up in
    status; the countdown reads back as it runs (reri_err_reporting.adoc:415-440)."""
    rig = Rig(eid_tick_ns=100)
    b = rig.bank
    b.set_control(0, uecs="high")
    b.store(status(0), 8, UEC.mask | 2 << 24 | AIT_SPA << 12)  # v = 0: prepared by software
    b.store(80, 8, 0x8800_0000)
    b.store(control(0) + 4, 4, 5)  # eid = 5 in bits 47:32
    assert b.load(control(0), 8) >> 32 & 0xFFFF == 5
    rig.clock.advance(ns=250)
    assert b.load(control(0), 8) >> 32 & 0xFFFF == 3 and rig.st()["v"] == 0
    rig.clock.advance(ns=250)
    st = rig.st()
    assert (st["v"], st["uec"], st["rdip"]) == (1, 1, 1)
    assert b.load(control(0), 8) >> 32 == 0
    assert rig.signals == [("high", 0)]
    ev = rig.events.of_kind("reri.log")[-1]
    assert (ev["outcome"], ev["severity"], ev["addr_info"], ev["ec"]) == ("injected", "UEC", 0x8800_0000, 2)


def test_eid_zero_cancels() -> None:
    """§5.2 eid: writing 0 disables the counter."""
    rig = Rig(eid_tick_ns=100)
    rig.bank.set_control(0, ces="low")
    rig.bank.store(control(0) + 4, 4, 3)
    rig.bank.store(control(0) + 4, 4, 0)
    rig.clock.advance(ns=1000)
    assert rig.st()["v"] == 0 and rig.signals == []


def test_eid_after_hardware_overwrite_does_not_signal_again() -> None:
    """§5.2 eid: the counter keeps counting if hardware logs meanwhile; v is already 1, so no 0 -> 1 signal."""
    rig = Rig(eid_tick_ns=100)
    rig.bank.set_control(0, ueds="low", uecs="high")
    rig.bank.store(status(0), 8, UEC.mask)
    rig.bank.store(control(0) + 4, 4, 2)
    rig.bank.log(0, "UED")
    rig.clock.advance(ns=500)
    assert rig.signals == [("low", 0)]


def test_eid_without_a_clock_is_read_only_zero() -> None:
    """§5.2 eid: a record without injection support hardwires eid to 0."""
    rig = Rig(with_clock=False)
    rig.bank.store(control(0) + 4, 4, 7)
    assert rig.bank.load(control(0), 8) >> 32 == 0
    assert rig.bank.log(0, "CE")["timestamp_val"] is None and rig.st()["tsv"] == 0


# --- events and API ----------------------------------------------------------------------------------------
def test_reri_log_event_shape() -> None:
    """reri.log carries rasdaemon reri_event's fields (err_src_id, source_type, hart_id, status, addr_info,
    info, suppl_info, timestamp_val) and the decoded error."""
    rig = Rig()
    rig.bank.set_control(0, uecs="high")
    rig.bank.log(0, "UEC", ec=2, c=True, addr=0x8800_0040, tt=4, suppl_info=5)
    ev = rig.events.of_kind("reri.log")[0]
    assert {k: ev[k] for k in ("bank", "record", "outcome", "severity", "ec", "c", "tt", "ait", "addr_info",
                               "suppl_info", "err_src_id", "signals")} == {
        "bank": "dram0", "record": 0, "outcome": "logged", "severity": "UEC", "ec": 2, "c": 1, "tt": 4, "ait": 1,
        "addr_info": 0x8800_0040, "suppl_info": 5, "err_src_id": 7, "signals": ["high"]}  # fmt: skip
    assert ev["status"] == rig.bank.status(0)


@pytest.mark.parametrize("kw", [{"n": 0}, {"n": 64}])
def test_bank_size_limits(kw: dict) -> None:
    """§5.1: a bank holds 1..63 records."""
    with pytest.raises(ConfigError):
        ReriBank("x", kw["n"])


def test_bad_arguments() -> None:
    """The log API rejects unknown severities and records."""
    b = ReriBank("x", 1)
    with pytest.raises(ConfigError):
        b.log(0, "FATAL")
    with pytest.raises(ConfigError):
        b.log(1, "CE")
    with pytest.raises(ConfigError):
        b.set_control(0, ces="loud")


def test_ceco_cleared_by_status_write() -> None:
    """§5.2: software reinitialises cec/ceco by writing status_i with v = 0 (reri_err_reporting.adoc note)."""
    rig = Rig()
    rig.bank.set_control(0, cece=True, ces="high")
    rig.bank.store(status(0), 8, 0xFFFF << 48)
    rig.bank.log(0, "CE")
    assert rig.bank.asserted("high") and CECO.get(rig.bank.status(0))
    rig.bank.store(control(0), 8, 3 << 48 | 0b1011)  # srdp + sinv, keep else/cece/ces
    assert rig.bank.asserted("high"), "ceco still set"
    rig.bank.store(status(0), 8, 0)
    assert not rig.bank.asserted("high")


def test_ras_signal_through_aplic_to_imsic_in_event_order() -> None:
    """§5.2 "Signal routing" (a platform choice): a high-priority RAS signal drives a level-sensitive APLIC wire;
    the event stream reads reri.log, aplic.pending, aplic.msi, imsic.pending, in causal order."""
    events = EventLog()
    bus = Bus()
    imsic = Imsic(hart=0, num_ids=63, events=events)
    bus.map("imsic-s0", 0x2800_0000, ImsicFile.SIZE, imsic.s, kind="mmio")
    aplic = AplicDomain("aplic-s-root", bus=bus, events=events)
    aplic.set_msi_addr_config(0x28000)
    aplic.store(4 * 5, 4, 6)  # sourcecfg[5] = Level1
    aplic.store(0x3000 + 4 * 5, 4, 0 << 18 | 12)  # target: hart 0, EIID 12
    aplic.store(0x1EDC, 4, 5)  # setienum
    aplic.store(0, 4, 1 << 8)  # IE
    bank = ReriBank("dram0", 1, events=events, on_level=lambda kind, lv: kind == "high" and aplic.set_input(5, lv))
    bank.set_control(0, uecs="high")
    bank.log(0, "UEC", ec=EC_CORRUPTED_DATA_ACCESS, c=True, addr=0x8800_0000, tt=TT_EXPLICIT_READ)
    assert [e["kind"] for e in events] == ["reri.log", "aplic.pending", "aplic.msi", "imsic.pending"]
    assert imsic.s.is_pending(12) and aplic.wire(5)
    bank.store(control(0), 8, 3 << 48 | 1 | 2 << 6)  # srdp + sinv, keeping else and uecs
    assert not aplic.wire(5)
