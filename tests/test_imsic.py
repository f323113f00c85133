"""IMSIC conformance: each test names the rule it checks, citing the project's reference
(/work/shared/reference/riscv-aia-reri.md §2, "AIA IMSIC") and the AIA spec lines it cites."""

from __future__ import annotations

import pytest

from rasplat.aia import IllegalIndirect, Imsic, ImsicFile
from rasplat.aia.imsic import EIDELIVERY, EITHRESHOLD
from rasplat.bus import AccessFault, Bus
from rasplat.errors import ConfigError
from rasplat.events import EventLog


def make(num_ids: int = 255, **kw) -> tuple[ImsicFile, list[bool], EventLog]:
    events = EventLog()
    lines: list[bool] = []
    f = ImsicFile(num_ids, hart=3, level="S", events=events, **kw)
    f.connect(lines.append)
    lines.clear()
    return f, lines, events


def enable_all(f: ImsicFile) -> None:
    f.write_indirect(EIDELIVERY, 1)
    for k in range(0, 64, 2):
        f.write_indirect(0xC0 + k, (1 << 64) - 1)


# --- identities -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [63, 127, 255, 2047])
def test_num_ids_valid(n: int) -> None:
    """§2 "Identities": N is one less than a multiple of 64, 63..2047 (IMSIC.adoc:46)."""
    assert ImsicFile(n).num_ids == n


@pytest.mark.parametrize("n", [0, 62, 64, 100, 2048, 2111])
def test_num_ids_invalid_is_a_config_error_naming_the_value(n: int) -> None:
    """§2 "Identities": any other N is not a legal interrupt-file size (IMSIC.adoc:46)."""
    with pytest.raises(ConfigError, match=str(n)):
        ImsicFile(n)


def test_identity_zero_is_never_valid() -> None:
    """§2 "Identities": identity 0 is never valid (IMSIC.adoc:58); bit 0 of eip0/eie0 is read-only 0 (:492)."""
    f, lines, events = make()
    f.store(0x000, 4, 0)
    assert f.eip == 0 and not events.of_kind("imsic.pending")
    f.write_indirect(0x80, (1 << 64) - 1)
    f.write_indirect(0xC0, (1 << 64) - 1)
    assert f.read_indirect(0x80) & 1 == 0
    assert f.read_indirect(0xC0) & 1 == 0
    assert f.read_indirect(0x80) == ((1 << 64) - 1) & ~1


def test_identities_above_n_are_ignored() -> None:
    """§2 "Memory region": a write of a value that is not an implemented identity is ignored (IMSIC.adoc:209);
    eip/eie bits of unimplemented identities read zero (:492)."""
    f, _, events = make(63)
    for bad in (64, 65, 2047, 0xFFFF_FFFF):
        f.store(0x000, 4, bad)
    assert f.eip == 0
    f.store(0x000, 4, 63)
    assert f.is_pending(63)
    f.write_indirect(0x82, (1 << 64) - 1)  # eip2 covers 64..127: none implemented when N = 63
    f.write_indirect(0xC2, (1 << 64) - 1)
    assert f.read_indirect(0x82) == 0 and f.read_indirect(0xC2) == 0
    assert [e["identity"] for e in events.of_kind("imsic.pending")] == [63]


# --- the MMIO page ----------------------------------------------------------------------------------------
def test_page_reads_zero_and_ignores_other_writes() -> None:
    """§2 "Memory region": all bytes other than seteipnum_le/be read zero; reads of seteipnum_* return 0;
    writes to read-only bytes are ignored (IMSIC.adoc:185-220)."""
    f, _, _ = make()
    for off in (0x000, 0x004, 0x008, 0x100, 0xFFC):
        assert f.load(off, 4) == 0
    f.store(0x008, 4, 5)
    f.store(0xFFC, 4, 5)
    assert f.eip == 0
    f.store(0x000, 4, 5)
    assert f.load(0x000, 4) == 0 and f.is_pending(5)


@pytest.mark.parametrize(("off", "size"), [(0x000, 1), (0x000, 2), (0x000, 8), (0x002, 4), (0x001, 4), (0x006, 2)])
def test_wrong_size_or_alignment_faults(off: int, size: int) -> None:
    """§2 "Memory region": only naturally aligned 32-bit accesses; other accesses should fault (IMSIC.adoc:185-200)."""
    f, _, _ = make()
    with pytest.raises(AccessFault):
        f.load(off, size)
    with pytest.raises(AccessFault):
        f.store(off, size, 5)
    assert f.eip == 0


def test_seteipnum_be_takes_big_endian_identity() -> None:
    """§2 "Memory region": seteipnum_be at 0x004 takes the identity in big-endian byte order; a big-endian-less
    system may ignore it (IMSIC.adoc:209)."""
    f, _, _ = make()
    f.store(0x004, 4, int.from_bytes((37).to_bytes(4, "big"), "little"))
    assert f.is_pending(37) and f.eip == 1 << 37
    f.store(0x004, 4, 37)  # 37 written in LE order reads as 0x25000000 big-endian: not an identity
    assert f.eip == 1 << 37
    g, _, _ = make(big_endian_port=False)
    g.store(0x004, 4, int.from_bytes((37).to_bytes(4, "big"), "little"))
    assert g.eip == 0


def test_msi_through_a_real_bus() -> None:
    """§2 "Layout across harts": M and S files are separate 4 KiB pages; an MSI is a 32-bit LE write."""
    bus = Bus()
    imsic = Imsic(hart=1, num_ids=63)
    bus.map("imsic-m1", 0x2400_1000, ImsicFile.SIZE, imsic.m, kind="mmio")
    bus.map("imsic-s1", 0x2800_1000, ImsicFile.SIZE, imsic.s, kind="mmio")
    bus.store(0x2800_1000, 4, 9)
    bus.write(0x2400_1000, (11).to_bytes(4, "little"))
    assert imsic.s.eip == 1 << 9 and imsic.m.eip == 1 << 11
    with pytest.raises(AccessFault):
        bus.load(0x2800_1000, 8)


# --- indirect registers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sel", [0x81, 0x83, 0xBF, 0xC1, 0xFF])
def test_odd_eip_eie_are_illegal_on_rv64(sel: int) -> None:
    """§2 "Indirect registers": on RV64 the odd eipK/eieK do not exist; access raises illegal instruction
    (IMSIC.adoc:481-489)."""
    f, _, _ = make()
    with pytest.raises(IllegalIndirect):
        f.read_indirect(sel)
    with pytest.raises(IllegalIndirect):
        f.write_indirect(sel, 1)


@pytest.mark.parametrize("sel", [0x00, 0x30, 0x6F, 0x100, 0x1FF])
def test_selects_outside_the_imsic_range_are_illegal(sel: int) -> None:
    """§2 "Indirect registers": 0x70-0xFF are the IMSIC's registers (IMSIC.adoc:400-420); other values are
    no register of an interrupt file, and the hart treats them as illegal."""
    f, _, _ = make()
    with pytest.raises(IllegalIndirect):
        f.read_indirect(sel)


@pytest.mark.parametrize("sel", [0x71, 0x73, 0x7A, 0x7F])
def test_reserved_selects_read_zero_and_ignore_writes(sel: int) -> None:
    """§2 "Indirect registers": 0x71 and 0x73-0x7F are reserved: reads return 0 and writes are ignored."""
    f, _, _ = make()
    f.write_indirect(sel, (1 << 64) - 1)
    assert f.read_indirect(sel) == 0
    assert f.eidelivery == 0 and f.eithreshold == 0 and f.eip == 0


def test_eip_eie_array_mapping() -> None:
    """§2 "Indirect registers": even k covers identities k*32..k*32+63 at bit i mod 64 (IMSIC.adoc:492)."""
    f, _, _ = make(255)
    f.store(0, 4, 64)
    f.store(0, 4, 200)
    assert f.read_indirect(0x82) == 1 << 0  # identity 64 is bit 0 of eip2
    assert f.read_indirect(0x86) == 1 << (200 - 192)  # identity 200 in eip6
    f.write_indirect(0xC4, 1 << 5)  # eie4 bit 5 = identity 133
    assert f.is_enabled(133)
    f.write_indirect(0x82, 0)
    assert not f.is_pending(64) and f.is_pending(200)


def test_eip_write_sets_pending_and_emits_events() -> None:
    """§2 "Indirect registers": software may set pending bits through eipK; every newly set bit is an event."""
    f, _, events = make()
    f.write_indirect(0x80, 1 << 3 | 1 << 7)
    f.write_indirect(0x80, 1 << 3 | 1 << 7)  # no new bits
    got = [(e["hart"], e["level"], e["identity"]) for e in events.of_kind("imsic.pending")]
    assert got == [(3, "S", 3), (3, "S", 7)]


def test_eidelivery_warl() -> None:
    """§2 "eidelivery": WARL 0/1, plus 0x40000000 only when direct delivery is supported, which is then the
    reset value (IMSIC.adoc:430-452)."""
    f, _, _ = make()
    assert f.read_indirect(EIDELIVERY) == 0
    f.write_indirect(EIDELIVERY, 1)
    assert f.read_indirect(EIDELIVERY) == 1
    f.write_indirect(EIDELIVERY, 0x40000000)
    assert f.read_indirect(EIDELIVERY) == 0
    g = ImsicFile(63, direct_delivery=True)
    assert g.read_indirect(EIDELIVERY) == 0x40000000


# --- topei, threshold, claim ------------------------------------------------------------------------------
def test_topei_format_and_priority() -> None:
    """§2 "topei": the lowest pending-and-enabled identity, as identity << 16 | identity (IMSIC.adoc:520-565)."""
    f, _, _ = make()
    assert f.topei() == 0
    for i in (40, 9, 200):
        f.store(0, 4, i)
    assert f.topei() == 0, "pending but not enabled"
    f.enable(40)
    f.enable(200)
    assert f.topei() == 40 << 16 | 40
    f.enable(9)
    assert f.topei() == 9 << 16 | 9


def test_threshold_semantics() -> None:
    """§2 "eithreshold": 0 = no threshold; nonzero P masks identities >= P; 1 masks everything
    (IMSIC.adoc:455-470)."""
    f, lines, _ = make()
    enable_all(f)
    f.store(0, 4, 10)
    assert f.topei() >> 16 == 10 and lines == [True]
    f.write_indirect(EITHRESHOLD, 11)
    assert f.topei() >> 16 == 10, "10 < 11 passes"
    f.write_indirect(EITHRESHOLD, 10)
    assert f.topei() == 0 and lines == [True, False], "identity == threshold is masked"
    f.write_indirect(EITHRESHOLD, 1)
    assert f.topei() == 0
    f.write_indirect(EITHRESHOLD, 0)
    assert f.topei() >> 16 == 10 and lines[-1] is True
    f.write_indirect(EITHRESHOLD, 2047)  # above N: masks nothing
    assert f.read_indirect(EITHRESHOLD) == 2047 and f.topei() >> 16 == 10


def test_claim_clears_the_reported_identity() -> None:
    """§2 "topei": a write claims: the written value is ignored and the identity shown is cleared; a csrrw
    returns the value that gets cleared; a write while topei = 0 has no effect (IMSIC.adoc:520-565)."""
    f, lines, _ = make()
    enable_all(f)
    f.store(0, 4, 30)
    f.store(0, 4, 5)
    assert f.claim_topei() == 5 << 16 | 5
    assert not f.is_pending(5) and f.is_pending(30)
    assert f.claim_topei() == 30 << 16 | 30
    assert f.eip == 0 and lines == [True, False]
    assert f.claim_topei() == 0 and f.eip == 0


def test_claim_respects_threshold() -> None:
    """§2 "topei": the claimed identity is the one topei shows, which excludes those at or above eithreshold."""
    f, _, _ = make()
    enable_all(f)
    f.store(0, 4, 50)
    f.write_indirect(EITHRESHOLD, 20)
    assert f.claim_topei() == 0 and f.is_pending(50)


def test_topei_ignores_eidelivery() -> None:
    """§2 "eidelivery"/"topei": eidelivery does not affect topei (IMSIC.adoc:430-452, :520-565)."""
    f, lines, _ = make()
    enable_all(f)
    f.write_indirect(EIDELIVERY, 0)
    f.store(0, 4, 12)
    assert f.topei() == 12 << 16 | 12
    assert lines == []


# --- the external-interrupt line --------------------------------------------------------------------------
def test_eidelivery_off_masks_the_line() -> None:
    """§2 "Signal to the hart": with eidelivery = 0 the line is held low; with 1 it is asserted iff some
    identity is pending, enabled and passes the threshold (IMSIC.adoc:570-580)."""
    f, lines, _ = make()
    f.store(0, 4, 7)
    assert lines == [] and not f.line, "not enabled, delivery off"
    f.enable(7)
    assert lines == [] and not f.line, "delivery off"
    f.write_indirect(EIDELIVERY, 1)
    assert lines == [True]
    f.write_indirect(EIDELIVERY, 0)
    assert lines == [True, False]
    f.write_indirect(EIDELIVERY, 1)
    f.clear_pending(7)
    assert lines == [True, False, True, False]


def test_line_needs_enable() -> None:
    """§2 "Signal to the hart": a pending identity that is not enabled does not assert the line."""
    f, lines, _ = make()
    f.write_indirect(EIDELIVERY, 1)
    f.store(0, 4, 7)
    assert lines == []
    f.write_indirect(0xC0, 1 << 7)
    assert lines == [True]
    f.write_indirect(0xC0, 0)
    assert lines == [True, False]


def test_direct_delivery_passes_the_aplic_line() -> None:
    """§2 "eidelivery": 0x40000000 makes the file act as if eidelivery = 0 while a PLIC/APLIC supplies the
    external interrupt (IMSIC.adoc:430-452)."""
    events = EventLog()
    f = ImsicFile(63, direct_delivery=True, events=events)
    lines: list[bool] = []
    f.connect(lines.append)
    f.enable(3)
    f.store(0, 4, 3)
    assert lines == [False], "the file's own pending interrupt is not delivered"
    f.set_direct_input(True)
    assert lines == [False, True]
    f.write_indirect(EIDELIVERY, 1)
    f.set_direct_input(False)
    assert f.line, "with eidelivery = 1 the file drives the line from its own state"


def test_imsic_has_m_and_s_files() -> None:
    """§2 "Interrupt files": one file per privilege level (IMSIC.adoc:1-40)."""
    imsic = Imsic(hart=2, num_ids=63, s_num_ids=127)
    assert imsic.file("M") is imsic.m and imsic.file("S") is imsic.s
    assert (imsic.m.level, imsic.m.num_ids, imsic.s.level, imsic.s.num_ids) == ("M", 63, "S", 127)
    with pytest.raises(ConfigError):
        imsic.file("VS")
