"""APLIC conformance: each test names the rule it checks, citing the project's reference
(/work/shared/reference/riscv-aia-reri.md §3, "AIA APLIC") and the AdvPLIC.adoc lines it cites."""

from __future__ import annotations

import pytest

from rasplat.aia import AplicDomain, Imsic, ImsicFile, msi_address
from rasplat.aia.aplic import (
    CLAIMI,
    CLRIE,
    CLRIENUM,
    CLRIPNUM,
    DETACHED,
    DOMAINCFG,
    EDGE0,
    EDGE1,
    GENMSI,
    IDC,
    IDELIVERY,
    IFORCE,
    IN_CLRIP,
    INACTIVE,
    ITHRESHOLD,
    LEVEL0,
    LEVEL1,
    MMSIADDRCFG,
    MMSIADDRCFGH,
    SETIE,
    SETIENUM,
    SETIP,
    SETIPNUM,
    SETIPNUM_BE,
    SETIPNUM_LE,
    SMSIADDRCFG,
    SMSIADDRCFGH,
    TOPI,
)
from rasplat.bus import AccessFault, Bus
from rasplat.clock import Clock
from rasplat.errors import ConfigError
from rasplat.events import EventLog

IE, DM = 1 << 8, 1 << 2


def sourcecfg(i: int) -> int:
    return 4 * i


def target(i: int) -> int:
    return 0x3000 + 4 * i


def w(d: AplicDomain, off: int, value: int) -> None:
    d.store(off, 4, value)


def r(d: AplicDomain, off: int) -> int:
    return d.load(off, 4)


def be(value: int) -> int:
    """The 32-bit value whose little-endian bytes spell `value` in big-endian order."""
    return int.from_bytes(value.to_bytes(4, "big"), "little")


class Sink:
    """An MMIO target that records 32-bit writes (stands in for a wall of IMSIC pages)."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.writes: list[tuple[int, int]] = []

    def load(self, off: int, size: int) -> int:
        return 0

    def store(self, off: int, size: int, value: int) -> None:
        assert size == 4
        self.writes.append((self.base + off, value))


def msi_domain(**kw) -> tuple[AplicDomain, Sink, EventLog]:
    """A root M domain in MSI mode whose MSIs land in a Sink covering 0x2000_0000..0x1_0000_0000."""
    bus = Bus()
    sink = Sink(0x2000_0000)
    bus.map("msi-sink", 0x2000_0000, 0xE000_0000, sink, kind="mmio")
    events = EventLog()
    d = AplicDomain("aplic-m", bus=bus, events=events, **kw)
    d.set_msi_addr_config(0x24000, lhxw=4)
    return d, sink, events


# --- configuration ---------------------------------------------------------------------------------------
def test_region_sizes() -> None:
    """§3.1: a domain's region is a multiple of 4 KiB, at least 16 KiB; IDCs are 32 bytes from 0x4000
    (AdvPLIC.adoc:268-370)."""
    assert AplicDomain("a").size == 0x4000
    assert AplicDomain("b", delivery="direct", harts=4).size == 0x5000
    assert AplicDomain("c", delivery="both", harts=512).size == 0x8000  # QEMU virt's APLIC_SIZE(512)
    assert AplicDomain("d", size=0x8000).size == 0x8000
    for bad in (0x3000, 0x4080, 0x4800):
        with pytest.raises(ConfigError, match="region size"):
            AplicDomain("e", delivery="direct", harts=4, size=bad)


@pytest.mark.parametrize("kw", [{"num_sources": 0}, {"num_sources": 1024}, {"level": "S"}, {"iprio_bits": 9},
                                {"delivery": "wired"}])  # fmt: skip
def test_invalid_configurations(kw: dict) -> None:
    """§3.1: sources 1..1023; the root domain is machine level (AdvPLIC.adoc:84-200); IPRIOLEN 1..8 (:885)."""
    with pytest.raises(ConfigError):
        AplicDomain("x", **kw)


def test_hierarchy_rules() -> None:
    """§3.1: the parent of an S domain is an M domain (AdvPLIC.adoc:103-200)."""
    m = AplicDomain("m")
    s = AplicDomain("s", level="S", parent=m)
    assert (s.child_index, m.children, s.root) == (0, [s], m)
    with pytest.raises(ConfigError, match="parent"):
        AplicDomain("s2", level="S", parent=s)


def test_domaincfg_fields() -> None:
    """§3.3 domaincfg: 31:24 read-only 0x80, IE bit 8, bit 7 read-only 0, DM bit 2 WARL, BE bit 0 WARL; reset
    clears the writable bits (AdvPLIC.adoc:376-447)."""
    d = AplicDomain("both", delivery="both")
    assert r(d, DOMAINCFG) == 0x80000000
    w(d, DOMAINCFG, 0xFFFFFFFF)
    assert r(d, DOMAINCFG) == 0x80000104, "IE and DM set; BE read-only 0 on a little-endian system"
    w(d, DOMAINCFG, 0)
    assert r(d, DOMAINCFG) == 0x80000000
    msi_only = AplicDomain("msi")
    assert r(msi_only, DOMAINCFG) == 0x80000004
    w(msi_only, DOMAINCFG, 0)
    assert r(msi_only, DOMAINCFG) == 0x80000004, "DM is read-only 1 when MSI is the only mode"
    direct_only = AplicDomain("direct", delivery="direct")
    w(direct_only, DOMAINCFG, DM | IE)
    assert r(direct_only, DOMAINCFG) == 0x80000100


def test_big_endian_domain() -> None:
    """§3.3 domaincfg.BE: byte order of the region's registers, domaincfg included; (x << 24) | x is safe to
    write in either order; setipnum_le/_be keep their fixed order (AdvPLIC.adoc:376-447, :823-838)."""
    d, _, _ = msi_domain(bi_endian=True)
    w(d, DOMAINCFG, 0x01000001)  # x = 0x01 (BE = 1) written without knowing the byte order
    raw = r(d, DOMAINCFG)
    assert raw == be(0x80000005), "read back in big-endian order: bit 31 set when byte-swapped"
    assert raw >> 31 == 0, "in the wrong (little-endian) order bit 31 reads 0"
    w(d, sourcecfg(3), be(EDGE1))
    assert d.sourcecfg[3] == EDGE1
    w(d, SETIPNUM_LE, 3)
    assert d.pending == 1 << 3
    w(d, SETIPNUM, be(3))
    w(d, CLRIPNUM, be(3))
    assert d.pending == 0


# --- sourcecfg ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("written", "reads"), [(0, 0), (1, 1), (2, 0), (3, 0), (4, 4), (5, 5), (6, 6), (7, 7),
                                                (0x3F8 | 4, 4)])  # fmt: skip
def test_source_modes(written: int, reads: int) -> None:
    """§3.3 sourcecfg: SM in 2:0 with 0/1/4/5/6/7 defined, 2-3 reserved (WARL); other bits read zero
    (AdvPLIC.adoc:447-553)."""
    d = AplicDomain("m")
    w(d, sourcecfg(1), written)
    assert r(d, sourcecfg(1)) == reads


def test_unimplemented_sources_read_zero() -> None:
    """§3.3 sourcecfg: an unimplemented source's sourcecfg is read-only zero (AdvPLIC.adoc:447-553)."""
    d = AplicDomain("m", num_sources=8)
    w(d, sourcecfg(9), EDGE1)
    w(d, sourcecfg(1023), EDGE1)
    assert r(d, sourcecfg(9)) == 0 and r(d, sourcecfg(1023)) == 0
    w(d, SETIPNUM, 9)
    assert d.pending == 0


def test_leaf_domain_write_with_d_sets_zero() -> None:
    """§3.3: in a leaf domain a sourcecfg write with bit 10 = 1 sets the whole register to 0 (AdvPLIC.adoc:480)."""
    d = AplicDomain("leaf")
    w(d, sourcecfg(2), EDGE1)
    w(d, SETIE, 1 << 2)
    w(d, sourcecfg(2), 0x400)
    assert r(d, sourcecfg(2)) == 0
    assert d.enabled == 0, "the source is now inactive"


def test_inactive_source_state_is_read_only_zero() -> None:
    """§3.3: an inactive source has pending and enable bits read-only 0, and target[i] reads 0; number
    writes for an inactive source are ignored (AdvPLIC.adoc:447-553, :740-822)."""
    d = AplicDomain("m", delivery="both")
    for reg, value in ((SETIP, 1 << 4), (SETIE, 1 << 4), (target(4), 0xFFFFFFFF)):
        w(d, reg, value)
    w(d, SETIPNUM, 4)
    w(d, SETIENUM, 4)
    assert r(d, SETIP) == 0 and r(d, SETIE) == 0 and r(d, target(4)) == 0
    w(d, sourcecfg(4), EDGE1)
    w(d, SETIENUM, 4)
    w(d, SETIPNUM, 4)
    assert r(d, SETIE) == 1 << 4 and r(d, SETIP) == 1 << 4
    w(d, sourcecfg(4), INACTIVE)
    assert r(d, SETIE) == 0 and r(d, SETIP) == 0, "made inactive: the bits clear"


# --- delegation --------------------------------------------------------------------------------------------
def test_delegation_to_a_child() -> None:
    """§3.3 / §3.1: sourcecfg.D delegates a source to a child; in the parent it is inactive, so its pending,
    enable and target registers are read-only zero and writes to them are ignored; the child's sourcecfg is
    zero until written; sources not delegated read 0 in the child (AdvPLIC.adoc:447-553, :103-200)."""
    m = AplicDomain("m", delivery="both")
    s = AplicDomain("s", level="S", parent=m, delivery="both")
    w(m, sourcecfg(5), 0x400 | 0)
    assert r(m, sourcecfg(5)) == 0x400
    assert r(s, sourcecfg(5)) == 0, "zero until written"
    for reg, value in ((SETIP, 1 << 5), (SETIE, 1 << 5), (target(5), 0x40001)):
        w(m, reg, value)
    w(m, SETIPNUM, 5)
    assert (r(m, SETIP), r(m, SETIE), r(m, target(5))) == (0, 0, 0), "parent writes to a delegated source ignored"
    w(s, sourcecfg(5), EDGE1)
    w(s, sourcecfg(6), EDGE1)
    assert r(s, sourcecfg(5)) == EDGE1 and r(s, sourcecfg(6)) == 0, "6 is not delegated: not implemented in s"
    m.set_input(5, True)
    assert s.pending == 1 << 5 and m.pending == 0, "the wire acts in the domain where the source is active"
    assert r(m, IN_CLRIP) == 0 and r(s, IN_CLRIP) == 1 << 5
    w(m, sourcecfg(5), EDGE1)  # parent takes the source back
    assert r(s, sourcecfg(5)) == 0 and s.pending == 0
    w(m, sourcecfg(5), 0x400 | 0)
    assert r(s, sourcecfg(5)) == 0, "re-delegated: zero again until written"


def test_child_index_without_a_child() -> None:
    """§3.3: the child index is WLRL 0..C-1; the spec leaves other values open — this model treats an index
    with no child like a leaf domain's D write: the register becomes 0."""
    m = AplicDomain("m")
    AplicDomain("s", level="S", parent=m)
    w(m, sourcecfg(1), 0x400 | 1)
    assert r(m, sourcecfg(1)) == 0


def test_delegate_helper_matches_riscv_delegation() -> None:
    """§4.1 riscv,delegation (child, first, last) is applied by firmware as sourcecfg D writes."""
    m = AplicDomain("m", num_sources=96)
    s = AplicDomain("s", level="S", parent=m, num_sources=96)
    m.delegate(1, 96, s)
    assert all(r(m, sourcecfg(i)) == 0x400 for i in range(1, 97))
    w(s, sourcecfg(96), LEVEL1)
    assert r(s, sourcecfg(96)) == LEVEL1


# --- pending-bit rules -------------------------------------------------------------------------------------
def test_edge_sources() -> None:
    """§3.3 pending rules: edge is set by a 0->1 rectified transition or setip/setipnum; cleared by
    in_clrip/clripnum; Edge0 is inverted (AdvPLIC.adoc:980-1033)."""
    d, _, events = msi_domain()  # IE = 0 holds pending bits where the test can see them
    w(d, sourcecfg(1), EDGE1)
    w(d, sourcecfg(2), EDGE0)
    d.set_input(1, True)
    assert d.pending == 1 << 1
    d.set_input(1, False)
    assert d.pending == 1 << 1, "the falling edge neither sets nor clears Edge1"
    w(d, CLRIPNUM, 1)
    assert d.pending == 0
    d.set_input(2, True)
    assert d.pending == 0
    d.set_input(2, False)
    assert d.pending == 1 << 2, "Edge0 pends on the falling edge"
    w(d, IN_CLRIP, 1 << 2)
    assert d.pending == 0
    w(d, SETIP, 1 << 1 | 1 << 2)
    assert d.pending == 1 << 1 | 1 << 2, "setip sets edge sources regardless of the wire"
    assert [(e["source"], e["cause"]) for e in events.of_kind("aplic.pending")] == [
        (1, "wire"), (2, "wire"), (1, "setip"), (2, "setip")]  # fmt: skip


def test_detached_source() -> None:
    """§3.3: a Detached source ignores its wire and has rectified input 0; only setip/setipnum set it."""
    d, _, _ = msi_domain()
    w(d, sourcecfg(3), DETACHED)
    d.set_input(3, True)
    assert d.pending == 0 and r(d, IN_CLRIP) == 0
    w(d, SETIPNUM, 3)
    assert d.pending == 1 << 3
    w(d, CLRIPNUM, 3)
    assert d.pending == 0


def test_level_source_in_direct_mode() -> None:
    """§3.3: a level source in direct mode has pending = rectified input; setip/clrip have no effect and a
    claim does not clear it (AdvPLIC.adoc:980-1033)."""
    d = AplicDomain("m", delivery="direct")
    w(d, sourcecfg(1), LEVEL1)
    w(d, target(1), 1)
    w(d, SETIENUM, 1)
    w(d, SETIPNUM, 1)
    assert d.pending == 0, "setipnum cannot set it while the input is low"
    d.set_input(1, True)
    assert d.pending == 1 << 1
    w(d, CLRIPNUM, 1)
    w(d, IN_CLRIP, 1 << 1)
    assert d.pending == 1 << 1, "clrip cannot clear it while the input is high"
    assert r(d, IDC + CLAIMI) == 1 << 16 | 1
    assert d.pending == 1 << 1, "a claim does not clear a level source"
    d.set_input(1, False)
    assert d.pending == 0


def test_level_source_in_msi_mode() -> None:
    """§3.3: a level source in MSI mode is set on 0->1, or by setip/setipnum only while the input is high;
    cleared when the input goes low or by clrip (AdvPLIC.adoc:980-1033)."""
    d, _, _ = msi_domain()
    w(d, sourcecfg(1), LEVEL0)  # inverted: asserted when the wire is low
    assert d.pending == 1 << 1, "configured while asserted (wire low): pends"
    w(d, CLRIPNUM, 1)
    assert d.pending == 0, "clripnum clears a level source in MSI mode"
    w(d, SETIPNUM, 1)
    assert d.pending == 1 << 1, "setipnum sets it while the rectified input is high"
    d.set_input(1, True)  # deasserts
    assert d.pending == 0
    w(d, SETIPNUM, 1)
    assert d.pending == 0, "not while the rectified input is low"
    d.set_input(1, False)
    assert d.pending == 1 << 1


def test_in_clrip_reads_rectified_inputs() -> None:
    """§3.3: reading in_clrip[k] returns the rectified inputs (wire XOR inverted; 0 if inactive or Detached)."""
    d, _, _ = msi_domain()
    for i, mode in ((1, LEVEL1), (2, LEVEL0), (3, EDGE1), (4, EDGE0), (5, DETACHED)):
        w(d, sourcecfg(i), mode)
    assert r(d, IN_CLRIP) == 1 << 2 | 1 << 4
    for i in range(1, 7):
        d.set_input(i, True)
    assert r(d, IN_CLRIP) == 1 << 1 | 1 << 3


def test_number_registers_and_clrie_read_zero() -> None:
    """§3.3: setipnum/clripnum/setienum/clrienum and setipnum_le/_be read 0; clrie reads 0
    (AdvPLIC.adoc:740-838)."""
    d, _, _ = msi_domain()
    w(d, sourcecfg(1), EDGE1)
    w(d, SETIENUM, 1)
    for off in (SETIPNUM, CLRIPNUM, SETIENUM, CLRIENUM, CLRIE, SETIPNUM_LE, SETIPNUM_BE):
        assert r(d, off) == 0
    assert r(d, SETIE) == 1 << 1
    w(d, CLRIE, 1 << 1)
    assert r(d, SETIE) == 0
    w(d, SETIENUM, 1)
    w(d, CLRIENUM, 1)
    assert r(d, SETIE) == 0


def test_setipnum_le_and_be() -> None:
    """§3.3: setipnum_le/_be act like setipnum with a fixed byte order; values that are not an active source
    number are ignored (AdvPLIC.adoc:740-838)."""
    d, _, _ = msi_domain(num_sources=32)
    for i in (5, 6):
        w(d, sourcecfg(i), EDGE1)
    w(d, SETIPNUM_LE, 5)
    w(d, SETIPNUM_BE, be(6))
    assert d.pending == 1 << 5 | 1 << 6
    d.pending = 0
    for bad in (0, 7, 33, 0xFFFFFFFF):
        w(d, SETIPNUM_LE, bad)
    w(d, SETIPNUM_BE, 6)  # 6 in the wrong byte order: 0x06000000
    assert d.pending == 0


# --- MSI delivery --------------------------------------------------------------------------------------------
def test_ie_zero_holds_pending() -> None:
    """§3.3 domaincfg / §3.4: IE gates delivery only; pending stays set while IE = 0 and the MSI goes out
    when IE becomes 1, clearing pending (AdvPLIC.adoc:376-447, :1197-1265)."""
    d, sink, events = msi_domain()
    w(d, sourcecfg(7), EDGE1)
    w(d, target(7), 2 << 18 | 33)
    w(d, SETIENUM, 7)
    d.set_input(7, True)
    assert d.pending == 1 << 7 and sink.writes == []
    w(d, DOMAINCFG, IE)
    assert sink.writes == [(0x2400_2000, 33)] and d.pending == 0
    msi = events.of_kind("aplic.msi")[0]
    assert (msi["source"], msi["hart"], msi["eiid"], msi["addr"]) == (7, 2, 33, 0x2400_2000)


def test_not_enabled_is_not_forwarded() -> None:
    """§3.4: an MSI is sent only if pending AND enabled AND IE (AdvPLIC.adoc:1197)."""
    d, sink, _ = msi_domain()
    w(d, DOMAINCFG, IE)
    w(d, sourcecfg(7), EDGE1)
    d.set_input(7, True)
    assert sink.writes == [] and d.pending == 1 << 7
    w(d, SETIENUM, 7)
    assert len(sink.writes) == 1 and d.pending == 0


def test_level_vs_edge_in_msi_mode() -> None:
    """§3.4 "Level sources in MSI mode": after forwarding, the APLIC ignores a level source until it
    deasserts; software re-arms it by writing the source number to setipnum, as Linux does at EOI
    (AdvPLIC.adoc:1267-1300). An edge source forwards once per rising edge."""
    d, sink, _ = msi_domain()
    w(d, DOMAINCFG, IE)
    w(d, sourcecfg(1), LEVEL1)
    w(d, sourcecfg(2), EDGE1)
    for i, eiid in ((1, 10), (2, 20)):
        w(d, target(i), eiid)
        w(d, SETIENUM, i)
    d.set_input(1, True)
    assert [v for _, v in sink.writes] == [10]
    assert d.pending == 0, "forwarding clears pending even though the input stays high"
    d.set_input(2, True)
    d.set_input(2, False)
    d.set_input(2, True)
    assert [v for _, v in sink.writes] == [10, 20, 20]
    w(d, SETIPNUM, 1)  # the handler's re-arm: the source still asserts
    assert [v for _, v in sink.writes] == [10, 20, 20, 10]
    d.set_input(1, False)
    w(d, SETIPNUM, 1)  # no longer asserted: no MSI
    assert len(sink.writes) == 4
    d.set_input(1, True)
    assert [v for _, v in sink.writes][-1] == 10 and len(sink.writes) == 5


def test_msi_data_is_little_endian_even_when_be() -> None:
    """§3.4: the MSI data is the EIID, zero-extended, always little-endian whatever BE is (AdvPLIC.adoc:1263)."""
    d, sink, _ = msi_domain(bi_endian=True)
    w(d, DOMAINCFG, 0x01000001)  # BE = 1
    w(d, DOMAINCFG, be(IE | 1))
    w(d, sourcecfg(1), be(EDGE1))
    w(d, target(1), be(1 << 18 | 0x123))
    w(d, SETIENUM, be(1))
    d.set_input(1, True)
    assert sink.writes == [(0x2400_1000, 0x123)]


@pytest.mark.parametrize(("hart", "addr"), [(0, 0x2400_0000), (1, 0x2400_1000), (3, 0x2400_3000),
                                            (4, 0x6400_0000), (6, 0x6400_2000), (13, 0xE400_1000),
                                            (16, 0x2400_0000)])  # fmt: skip
def test_msi_address_formula_with_group_bits(hart: int, addr: int) -> None:
    """§3.4 M-level address: g = (hart >> LHXW) & (2^HHXW - 1), h = hart & (2^LHXW - 1),
    addr = (Base PPN | g << (HHXS + 12) | h << LHXS) << 12 (AdvPLIC.adoc:1197-1265). Here 4 harts per group
    (LHXW 2), 4 groups (HHXW 2) spaced 2^30 apart (HHXS 6, i.e. E = 30); 16 wraps to group 0, hart 0."""
    assert msi_address(0x24000, hart, lhxw=2, hhxw=2, hhxs=6) == addr
    d, sink, _ = msi_domain()
    # reprogram through the registers, as firmware does
    w(d, MMSIADDRCFG, 0x24000)
    w(d, MMSIADDRCFGH, 6 << 24 | 0 << 20 | 2 << 16 | 2 << 12)
    w(d, DOMAINCFG, IE)
    w(d, sourcecfg(1), EDGE1)
    w(d, target(1), hart << 18 | 5)
    w(d, SETIENUM, 1)
    w(d, SETIPNUM, 1)
    assert sink.writes == [(addr, 5)]


def test_msi_address_lhxs_spreads_harts() -> None:
    """§3.4: LHXS spaces the harts' pages 2^LHXS pages apart (LHXS = C - 12)."""
    assert msi_address(0x24000, 1, lhxw=3, lhxs=1) == 0x2400_2000
    assert msi_address(0x24000, 5, lhxw=3, lhxs=2) == 0x2401_4000


def test_s_domain_msi_address() -> None:
    """§3.4 S-level address: the machine-level hart index with smsiaddrcfg's Base PPN and LHXS and mmsiaddrcfgh's
    HHXW/LHXW/HHXS, with the Guest Index ORed in (AdvPLIC.adoc:1197-1265)."""
    bus = Bus()
    sink = Sink(0x2000_0000)
    bus.map("sink", 0x2000_0000, 0x4000_0000, sink, kind="mmio")
    m = AplicDomain("m", bus=bus)
    s = AplicDomain("s", level="S", parent=m, bus=bus, geilen=1, m_hart_index=lambda h: h + 2)
    m.set_msi_addr_config(0x24000, lhxw=2, hhxw=1, hhxs=6, s_base_ppn=0x28000, s_lhxs=1)
    assert s.msi_target_address(1, 1) == (0x28000 | 3 << 1 | 1) << 12
    m.delegate(1, 1, s)
    w(s, DOMAINCFG, IE)
    w(s, sourcecfg(1), EDGE1)
    w(s, target(1), 0 << 18 | 1 << 12 | 9)
    assert r(s, target(1)) == 1 << 12 | 9
    w(s, SETIENUM, 1)
    m.set_input(1, True)
    assert sink.writes == [((0x28000 | 2 << 1 | 1) << 12, 9)]


def test_msiaddrcfg_root_only_and_lock() -> None:
    """§3.4 / AdvPLIC.adoc:554-720: mmsiaddrcfg(h)/smsiaddrcfg(h) are writable only in the root; other M domains
    read copies with L = 1; S domains have none; L = 1 locks all four."""
    root = AplicDomain("root")
    m2 = AplicDomain("m2", parent=root)
    s = AplicDomain("s", level="S", parent=root)
    w(root, MMSIADDRCFG, 0x24000)
    w(root, MMSIADDRCFGH, 0x1 << 12)
    w(root, SMSIADDRCFG, 0x28000)
    w(root, SMSIADDRCFGH, 0xFFFFFFFF)
    assert r(root, SMSIADDRCFGH) == 0x7 << 20 | 0xFFF, "reserved bits read zero"
    assert r(m2, MMSIADDRCFG) == 0x24000 and r(m2, MMSIADDRCFGH) == 1 << 31 | 1 << 12
    w(m2, MMSIADDRCFG, 0)
    assert r(root, MMSIADDRCFG) == 0x24000, "non-root M domains are read-only"
    for off in (MMSIADDRCFG, MMSIADDRCFGH, SMSIADDRCFG, SMSIADDRCFGH):
        assert r(s, off) == 0
    w(root, MMSIADDRCFGH, 1 << 31 | 2 << 12)
    for off in (MMSIADDRCFG, MMSIADDRCFGH, SMSIADDRCFG, SMSIADDRCFGH):
        w(root, off, 0)
    assert (r(root, MMSIADDRCFG), r(root, MMSIADDRCFGH), r(root, SMSIADDRCFG)) == (0x24000, 1 << 31 | 2 << 12,
                                                                                  0x28000)  # fmt: skip


def test_target_fields() -> None:
    """§3.3 target[i]: MSI mode Hart Index 31:18, Guest Index 17:12 (read-only 0 in M domains), bit 11 reserved,
    EIID 10:0; direct mode Hart Index 31:18 and IPRIO 7:0 of IPRIOLEN bits, with 0 written giving 1
    (AdvPLIC.adoc:885-970)."""
    d, _, _ = msi_domain()
    w(d, sourcecfg(1), EDGE1)
    w(d, target(1), 0xFFFFFFFF)
    assert r(d, target(1)) == 0x3FFF << 18 | 0x7FF
    direct = AplicDomain("direct", delivery="direct", iprio_bits=3)
    w(direct, sourcecfg(1), EDGE1)
    w(direct, target(1), 5 << 18 | 0)
    assert r(direct, target(1)) == 5 << 18 | 1
    w(direct, target(1), 0xFF)
    assert r(direct, target(1)) == 7


def test_genmsi_busy() -> None:
    """§3.3 genmsi: Hart Index 31:18, Busy bit 12 (read-only), EIID 10:0; writes are ignored while Busy; the
    extempore MSI is sent even with IE = 0; read-only 0 in direct mode (AdvPLIC.adoc:839-884)."""
    clock = Clock()
    d, sink, events = msi_domain(clock=clock, genmsi_delay_ns=50)
    w(d, GENMSI, 1 << 18 | 1 << 12 | 77)  # writing Busy has no effect
    assert r(d, GENMSI) == 1 << 18 | 1 << 12 | 77
    w(d, GENMSI, 2 << 18 | 88)
    assert r(d, GENMSI) == 1 << 18 | 1 << 12 | 77, "ignored while Busy"
    assert sink.writes == []
    clock.advance(ns=50)
    assert sink.writes == [(0x2400_1000, 77)]
    assert r(d, GENMSI) == 1 << 18 | 77, "Busy reverts once the MSI has left"
    assert events.of_kind("aplic.msi")[0]["source"] == 0
    w(d, GENMSI, 2 << 18 | 88)
    clock.advance(ns=50)
    assert sink.writes[-1] == (0x2400_2000, 88)
    direct = AplicDomain("direct", delivery="direct")
    w(direct, GENMSI, 1 << 18 | 5)
    assert r(direct, GENMSI) == 0


def test_genmsi_without_delay_is_immediate() -> None:
    """§3.3 genmsi: "should be sent with minimal delay" — without a clock the MSI leaves during the write."""
    d, sink, _ = msi_domain()
    w(d, GENMSI, 3 << 18 | 9)
    assert sink.writes == [(0x2400_3000, 9)] and r(d, GENMSI) & (1 << 12) == 0


# --- direct delivery -----------------------------------------------------------------------------------------
def direct_domain(harts: int = 2) -> tuple[AplicDomain, list[tuple[int, bool]]]:
    lines: list[tuple[int, bool]] = []
    d = AplicDomain("direct", delivery="direct", harts=harts, iprio_bits=3, on_line=lambda h, lv: lines.append((h, lv)))
    return d, lines


def idc(h: int, reg: int) -> int:
    return IDC + 32 * h + reg


def test_direct_topi_and_claimi() -> None:
    """§3.3 IDC: topi = source << 16 | prio of the best pending-and-enabled source for the hart (smaller
    priority number wins; ties to the lower source); claimi returns the same and claims it
    (AdvPLIC.adoc:885-970, :1046-1195)."""
    d, _ = direct_domain()
    for i, hart, prio in ((1, 1, 2), (2, 0, 3), (3, 0, 1), (4, 0, 1)):
        w(d, sourcecfg(i), EDGE1)
        w(d, target(i), hart << 18 | prio)
    w(d, SETIE, 0b11110)
    w(d, SETIP, 0b11110)
    assert r(d, idc(0, TOPI)) == 3 << 16 | 1
    assert r(d, idc(1, TOPI)) == 1 << 16 | 2
    assert r(d, idc(0, CLAIMI)) == 3 << 16 | 1
    assert r(d, idc(0, CLAIMI)) == 4 << 16 | 1
    assert r(d, idc(0, CLAIMI)) == 2 << 16 | 3
    assert r(d, idc(0, CLAIMI)) == 0
    assert d.pending == 1 << 1


def test_direct_threshold() -> None:
    """§3.3 IDC ithreshold: a nonzero P masks priority numbers >= P; 0 masks nothing (AdvPLIC.adoc:1046-1195)."""
    d, _ = direct_domain()
    w(d, sourcecfg(1), EDGE1)
    w(d, target(1), 3)
    w(d, SETIENUM, 1)
    w(d, SETIPNUM, 1)
    w(d, idc(0, ITHRESHOLD), 3)
    assert r(d, idc(0, TOPI)) == 0
    w(d, idc(0, ITHRESHOLD), 4)
    assert r(d, idc(0, TOPI)) == 1 << 16 | 3
    w(d, idc(0, ITHRESHOLD), 0xFF)
    assert r(d, idc(0, ITHRESHOLD)) == 7, "IPRIOLEN bits"


def test_direct_line_needs_ie_and_idelivery() -> None:
    """§3.3 IDC: the hart's line is asserted iff IE = 1, idelivery = 1 and (iforce or topi != 0); topi is not
    affected by IE or idelivery (AdvPLIC.adoc:1046-1195)."""
    d, lines = direct_domain()
    w(d, sourcecfg(1), EDGE1)
    w(d, target(1), 1 << 18 | 1)
    w(d, SETIENUM, 1)
    d.set_input(1, True)
    assert r(d, idc(1, TOPI)) == 1 << 16 | 1 and lines == []
    w(d, idc(1, IDELIVERY), 1)
    assert lines == []
    w(d, DOMAINCFG, IE)
    assert lines == [(1, True)]
    assert r(d, idc(1, CLAIMI)) == 1 << 16 | 1
    assert lines == [(1, True), (1, False)]


def test_iforce_spurious_interrupt() -> None:
    """§3.3 IDC: iforce = 1 asserts the line with IE and idelivery set, a spurious interrupt when topi = 0; a
    claimi read of 0 clears iforce (AdvPLIC.adoc:1046-1195)."""
    d, lines = direct_domain()
    w(d, DOMAINCFG, IE)
    w(d, idc(0, IDELIVERY), 1)
    w(d, idc(0, IFORCE), 3)
    assert r(d, idc(0, IFORCE)) == 1 and lines == [(0, True)]
    assert r(d, idc(0, CLAIMI)) == 0
    assert r(d, idc(0, IFORCE)) == 0 and lines == [(0, True), (0, False)]


def test_direct_mode_drives_an_imsic_in_apic_mode() -> None:
    """§2 eidelivery 0x40000000 / §3.3 domaincfg: with IMSICs, direct mode works only through interrupt files
    that pass the APLIC's line (IMSIC.adoc:430-452)."""
    f = ImsicFile(63, level="M", direct_delivery=True)
    lines: list[bool] = []
    f.connect(lines.append)
    d = AplicDomain("direct", delivery="direct", on_line=lambda h, lv: f.set_direct_input(lv))
    w(d, DOMAINCFG, IE)
    w(d, idc(0, IDELIVERY), 1)
    w(d, sourcecfg(2), LEVEL1)
    w(d, SETIENUM, 2)
    d.set_input(2, True)
    assert lines == [False, True]


# --- access rules ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("off", "size"), [(0, 1), (0, 2), (0, 8), (2, 4), (0x1C01, 4)])
def test_only_aligned_32_bit_accesses(off: int, size: int) -> None:
    """§3.1: only aligned 32-bit accesses are supported; others should fault (AdvPLIC.adoc:268-370)."""
    d = AplicDomain("m")
    with pytest.raises(AccessFault):
        d.load(off, size)
    with pytest.raises(AccessFault):
        d.store(off, size, 0)


def test_reserved_bytes_read_zero() -> None:
    """§3.1: reserved bytes read as zero and ignore writes (AdvPLIC.adoc:268-370)."""
    d = AplicDomain("m", delivery="both", harts=1)
    for off in (0x1000, 0x1BD0, 0x1C80, 0x1CE0, 0x2008, 0x2FFC, IDC + 0x0C, IDC + 0x20, 0x4FFC):
        w(d, off, 0xFFFFFFFF)
        assert r(d, off) == 0


# --- end to end on a real bus -----------------------------------------------------------------------------------
def test_wired_source_reaches_the_s_file_of_the_right_hart() -> None:
    """§3.4 + §2 end to end: a wired source delegated to the S domain is forwarded as an MSI to
    smsiaddrcfg-derived address of its target hart; the identity becomes pending in that hart's S file and the
    file raises SEIP (AdvPLIC.adoc:1197-1265, IMSIC.adoc:570-580)."""
    bus = Bus()
    events = EventLog()
    imsics = [Imsic(hart=h, num_ids=63, events=events) for h in range(2)]
    seip: dict[int, list[bool]] = {0: [], 1: []}
    for h, imsic in enumerate(imsics):
        bus.map(f"imsic-m{h}", 0x2400_0000 + h * 0x1000, ImsicFile.SIZE, imsic.m, kind="mmio")
        bus.map(f"imsic-s{h}", 0x2800_0000 + h * 0x1000, ImsicFile.SIZE, imsic.s, kind="mmio")
        imsic.s.connect(seip[h].append)
    m = AplicDomain("aplic-m", bus=bus, events=events, size=0x8000)
    s = AplicDomain("aplic-s", level="S", parent=m, bus=bus, events=events, size=0x8000)
    bus.map("aplic-m", 0x0C00_0000, m.size, m, kind="mmio")
    bus.map("aplic-s", 0x0D00_0000, s.size, s, kind="mmio")

    # M-mode firmware: MSI addresses (one hart-index bit), delegate source 10 to the S domain
    bus.store(0x0C00_0000 + MMSIADDRCFG, 4, 0x24000)
    bus.store(0x0C00_0000 + MMSIADDRCFGH, 4, 1 << 12)
    bus.store(0x0C00_0000 + SMSIADDRCFG, 4, 0x28000)
    bus.store(0x0C00_0000 + SMSIADDRCFGH, 4, 0)
    bus.store(0x0C00_0000 + sourcecfg(10), 4, 0x400 | 0)
    # S-mode kernel: source 10 level-high to hart 1, EIID 42; IMSIC S file of hart 1 enables 42
    bus.store(0x0D00_0000 + sourcecfg(10), 4, LEVEL1)
    bus.store(0x0D00_0000 + target(10), 4, 1 << 18 | 42)
    bus.store(0x0D00_0000 + SETIENUM, 4, 10)
    bus.store(0x0D00_0000 + DOMAINCFG, 4, IE)
    imsics[1].s.write_indirect(0x70, 1)
    imsics[1].s.write_indirect(0xC0, 1 << 42)

    m.set_input(10, True)  # the device raises its wire

    assert imsics[1].s.is_pending(42) and imsics[1].s.topei() == 42 << 16 | 42
    assert seip[1] == [False, True] and seip[0] == [False]
    assert imsics[0].s.eip == 0 and imsics[1].m.eip == 0
    kinds = [e["kind"] for e in events]
    assert kinds == ["aplic.pending", "aplic.msi", "imsic.pending"]
    msi = events.of_kind("aplic.msi")[0]
    assert (msi["domain"], msi["source"], msi["hart"], msi["eiid"], msi["addr"]) == ("aplic-s", 10, 1, 42,
                                                                                     0x2800_1000)  # fmt: skip
    assert imsics[1].s.claim_topei() == 42 << 16 | 42
    assert seip[1] == [False, True, False]


def test_child_with_fewer_sources() -> None:
    """§3.1: a source a child does not implement stays unimplemented there even if the parent delegates it."""
    m = AplicDomain("m", num_sources=96)
    s = AplicDomain("s", level="S", parent=m, num_sources=32)
    w(m, sourcecfg(40), 0x400)
    assert r(m, sourcecfg(40)) == 0x400 and r(s, sourcecfg(40)) == 0
    m.set_input(40, True)
    w(m, sourcecfg(40), EDGE1)
    assert r(m, sourcecfg(40)) == EDGE1 and m.pending == 0


def test_switching_delivery_mode_resettles_level_sources() -> None:
    """§3.3: changing DM leaves target fields unspecified (here re-legalised: IPRIO 0 becomes 1) and a level
    source in direct mode is pending exactly while its rectified input is high (AdvPLIC.adoc:885-1033)."""
    d = AplicDomain("both", delivery="both", harts=1)
    w(d, DOMAINCFG, DM)
    w(d, sourcecfg(1), LEVEL1)
    w(d, target(1), 0x40)  # MSI mode: EIID 0x40
    d.set_input(1, True)
    w(d, CLRIPNUM, 1)
    assert d.pending == 0, "MSI mode: clrip clears a level source"
    w(d, DOMAINCFG, 0)
    assert d.pending == 1 << 1, "direct mode: pending follows the asserted input"
    assert r(d, target(1)) == 1, "EIID 0x40 has IPRIO bits 0: re-legalised to priority 1"
