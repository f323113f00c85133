"""AIA Advanced PLIC (APLIC): wired interrupt sources, interrupt domains, MSI forwarding and direct delivery.

Spec: RISC-V AIA v1.0, `src/AdvPLIC.adoc` (summarised with citations in the project's reference, §3).

Each `AplicDomain` is one interrupt domain with its own MMIO control region. The root domain is machine level;
it can delegate sources to child domains through `sourcecfg.D` and a child index. Wires enter at the root
(`set_input`) and act in the one domain where the source is active. A domain delivers by MSI (writing the EIID
to an IMSIC through the bus) or directly (its IDCs drive one external-interrupt line per hart via `on_line`).
Only the fixed registers of the first 16 KiB and the IDC array are implemented; all other bytes read as zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..bus import AccessFault, Bus
from ..clock import Clock
from ..errors import ConfigError
from ..events import EventLog

# --- register map (AdvPLIC.adoc, "Memory-mapped control region for an interrupt domain") -----------------
DOMAINCFG = 0x0000
SOURCECFG = 0x0004  # sourcecfg[i] at 0x0004 + 4*(i-1)
MMSIADDRCFG, MMSIADDRCFGH, SMSIADDRCFG, SMSIADDRCFGH = 0x1BC0, 0x1BC4, 0x1BC8, 0x1BCC
SETIP, SETIPNUM = 0x1C00, 0x1CDC
IN_CLRIP, CLRIPNUM = 0x1D00, 0x1DDC
SETIE, SETIENUM = 0x1E00, 0x1EDC
CLRIE, CLRIENUM = 0x1F00, 0x1FDC
SETIPNUM_LE, SETIPNUM_BE = 0x2000, 0x2004
GENMSI = 0x3000
TARGET = 0x3004  # target[i] at 0x3004 + 4*(i-1)
IDC = 0x4000  # IDC for hart index h at 0x4000 + 32*h
IDC_SIZE = 0x20
IDELIVERY, IFORCE, ITHRESHOLD, TOPI, CLAIMI = 0x00, 0x04, 0x08, 0x18, 0x1C
MIN_REGION = 0x4000  # 16 KiB; regions are a multiple of 4 KiB

# domaincfg: bits 31:24 read-only 0x80, IE bit 8, DM bit 2, BE bit 0
DOMAINCFG_FIXED = 0x80000000
IE, DM, BE = 1 << 8, 1 << 2, 1 << 0

# sourcecfg: D (bit 10) with a child index in 9:0, or a source mode SM in 2:0
D = 1 << 10
CHILD_INDEX = 0x3FF
INACTIVE, DETACHED, EDGE1, EDGE0, LEVEL1, LEVEL0 = 0, 1, 4, 5, 6, 7
SOURCE_MODES = (INACTIVE, DETACHED, EDGE1, EDGE0, LEVEL1, LEVEL0)
EDGE_MODES = (EDGE1, EDGE0)
LEVEL_MODES = (LEVEL1, LEVEL0)
INVERTED_MODES = (EDGE0, LEVEL0)

# target / genmsi fields
HART_INDEX_SHIFT, HART_INDEX_MASK = 18, 0x3FFF
GUEST_INDEX_SHIFT, GUEST_INDEX_MASK = 12, 0x3F
GENMSI_BUSY = 1 << 12
TOPI_ID_SHIFT = 16

# mmsiaddrcfgh / smsiaddrcfgh fields
MSI_L = 1 << 31
MMSIADDRCFGH_MASK = MSI_L | 0x1F << 24 | 0x7 << 20 | 0x7 << 16 | 0xF << 12 | 0xFFF
SMSIADDRCFGH_MASK = 0x7 << 20 | 0xFFF

MAX_SOURCES = 1023
MAX_HART_INDEX = (1 << 14) - 1


def _bswap32(value: int) -> int:
    return int.from_bytes((value & 0xFFFFFFFF).to_bytes(4, "little"), "big")


def _bits(mask: int) -> Iterator[int]:
    """The set bit positions of `mask`, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def msi_address(
    base_ppn: int, hart_index: int, *, lhxs: int = 0, lhxw: int = 0, hhxw: int = 0, hhxs: int = 0, guest_index: int = 0
) -> int:
    """The MSI target address for a hart index (AdvPLIC.adoc "Addresses and data for outgoing MSIs"):

    g = (hart index >> LHXW) & (2^HHXW - 1), h = hart index & (2^LHXW - 1),
    address = (Base PPN | g << (HHXS + 12) | h << LHXS | guest index) << 12.
    The guest index is 0 for machine level."""
    g = (hart_index >> lhxw) & ((1 << hhxw) - 1)
    h = hart_index & ((1 << lhxw) - 1)
    return (base_ppn | g << (hhxs + 12) | h << lhxs | guest_index) << 12


class _Idc:
    """Interrupt delivery control for one hart index (direct delivery mode)."""

    __slots__ = ("idelivery", "iforce", "ithreshold", "line")

    def __init__(self) -> None:
        # Reset values are unspecified except for domaincfg; start with delivery off.
        self.idelivery = 0
        self.iforce = 0
        self.ithreshold = 0
        self.line = False


class AplicDomain:
    """One APLIC interrupt domain and its MMIO control region (`size` bytes).

    - `level`: "M" or "S". The root (no `parent`) must be "M"; an S domain's parent must be an M domain.
    - `delivery`: "msi", "direct" or "both" — which values of domaincfg.DM exist (DM is read-only otherwise).
    - `harts`: the number of hart indices (0..harts-1) with IDCs in direct mode.
    - `bus`: where MSIs are written; `on_line(hart_index, level)`: the direct-mode external-interrupt lines.
    - `m_hart_index`: for an S domain, maps its hart index to the machine-level index used for MSI addresses.
    - `clock` + `genmsi_delay_ns`: when both are set, an extempore MSI leaves `genmsi_delay_ns` after the write
      and genmsi.Busy reads 1 until then; otherwise it leaves during the write.
    """

    def __init__(
        self,
        name: str,
        *,
        level: str = "M",
        parent: AplicDomain | None = None,
        num_sources: int = 96,
        delivery: str = "msi",
        harts: int = 1,
        iprio_bits: int = 3,
        eiid_bits: int = 11,
        geilen: int = 0,
        bi_endian: bool = False,
        size: int | None = None,
        bus: Bus | None = None,
        events: EventLog | None = None,
        on_line: Callable[[int, bool], None] | None = None,
        m_hart_index: Callable[[int], int] | None = None,
        clock: Clock | None = None,
        genmsi_delay_ns: int = 0,
    ) -> None:
        where = f"aplic {name!r}"
        if level not in ("M", "S"):
            raise ConfigError(f"{where}: level {level!r} is invalid; an interrupt domain is 'M' or 'S'")
        if parent is None and level != "M":
            raise ConfigError(f"{where}: the root interrupt domain must be machine level (AdvPLIC.adoc)")
        if parent is not None and parent.level != "M":
            raise ConfigError(f"{where}: the parent domain {parent.name!r} is S level; a parent must be M level")
        if not 1 <= num_sources <= MAX_SOURCES:
            raise ConfigError(f"{where}: num-sources {num_sources} is invalid; it must be 1..{MAX_SOURCES}")
        if parent is not None and num_sources > parent.num_sources:
            raise ConfigError(f"{where}: num-sources {num_sources} exceeds the parent's {parent.num_sources}")
        if delivery not in ("msi", "direct", "both"):
            raise ConfigError(f"{where}: delivery {delivery!r} is invalid; use 'msi', 'direct' or 'both'")
        if not 1 <= iprio_bits <= 8:
            raise ConfigError(f"{where}: IPRIOLEN {iprio_bits} is invalid; it must be 1..8")
        if not 1 <= eiid_bits <= 11:
            raise ConfigError(f"{where}: EIID width {eiid_bits} is invalid; it must be 1..11")
        if not 0 <= harts <= MAX_HART_INDEX + 1:
            raise ConfigError(f"{where}: {harts} hart indices is invalid; hart indices are 0..{MAX_HART_INDEX}")
        if geilen and level != "S":
            raise ConfigError(f"{where}: a guest index exists only in S-level domains (GEILEN {geilen})")
        self.name = name
        self.level = level
        self.parent = parent
        self.children: list[AplicDomain] = []
        self.child_index = -1
        if parent is not None:
            self.child_index = len(parent.children)
            parent.children.append(self)
        self.root: AplicDomain = self if parent is None else parent.root
        self.num_sources = num_sources
        self.delivery = delivery
        self.harts = harts
        self.iprio_bits = iprio_bits
        self.eiid_bits = eiid_bits
        self.geilen = geilen
        self.bi_endian = bi_endian
        minimum = MIN_REGION
        if delivery != "msi":
            minimum += -(-(IDC_SIZE * harts) // 0x1000) * 0x1000
        if size is None:
            size = minimum
        elif size < minimum or size % 0x1000:
            raise ConfigError(
                f"{where}: region size {size:#x} is invalid; it must be a multiple of 4 KiB and at least "
                f"{minimum:#x} (16 KiB plus the IDCs of {harts} harts)"
            )
        self.size = size
        self.bus = bus
        self.events = events
        self.on_line = on_line
        self.m_hart_index = m_hart_index or (lambda index: index)
        self.clock = clock
        self.genmsi_delay_ns = genmsi_delay_ns

        n = num_sources + 1
        self.sourcecfg = [0] * n
        self.target = [0] * n
        self.pending = 0  # bit i: pending bit of source i
        self.enabled = 0
        self.active = 0  # bit i: source i is active here (implemented, not delegated, SM != Inactive)
        # Reset clears the writable bits of domaincfg; DM reads 1 when MSI delivery is the only mode.
        self.ie = 0
        self.dm = 1 if delivery == "msi" else 0
        self.be = 0
        self.genmsi = 0  # Hart Index and EIID of the last extempore MSI
        self.genmsi_busy = False
        self._genmsi_due: int | None = None  # when a delayed extempore MSI leaves
        self.idcs = [_Idc() for _ in range(harts)] if delivery != "msi" else []
        # MSI address configuration: meaningful in the root only. L resets to 0 so firmware can program it.
        self.mmsiaddrcfg = self.mmsiaddrcfgh = self.smsiaddrcfg = self.smsiaddrcfgh = 0
        self._wires = 0  # wire levels, bit i = source i; only the root's is used
        self._delivering = False

    def __repr__(self) -> str:
        return f"<AplicDomain {self.name} {self.level} DM={self.dm} IE={self.ie} sources={self.num_sources}>"

    # --- wiring -----------------------------------------------------------------------------------------
    def set_input(self, source: int, level: bool) -> None:
        """Drive the wire of `source` (1..N). Wires enter at the root; the call may be made on any domain."""
        root = self.root
        if not 1 <= source <= root.num_sources:
            raise ConfigError(f"aplic {root.name!r}: no interrupt source {source} (sources are 1..{root.num_sources})")
        old = root._wires >> source & 1
        new = int(bool(level))
        if old == new:
            return
        root._wires ^= 1 << source
        owner = root._owner(source)
        if owner is not None:
            owner._wire_changed(source, old, new)

    def wire(self, source: int) -> bool:
        return bool(self.root._wires >> source & 1)

    def connect(self, on_line: Callable[[int, bool], None]) -> None:
        """Attach the direct-mode lines and drive each with its current level."""
        self.on_line = on_line
        for h, idc in enumerate(self.idcs):
            on_line(h, idc.line)

    def delegate(self, first: int, last: int, child: AplicDomain) -> None:
        """Delegate sources first..last to `child`, as firmware does from `riscv,delegation` (writes sourcecfg)."""
        if child.parent is not self:
            raise ConfigError(f"aplic {self.name!r}: {child.name!r} is not a child of this domain")
        for i in range(first, last + 1):
            self._write_sourcecfg(i, D | child.child_index)

    def set_msi_addr_config(
        self,
        m_base_ppn: int,
        *,
        lhxs: int = 0,
        lhxw: int = 0,
        hhxw: int = 0,
        hhxs: int = 0,
        s_base_ppn: int = 0,
        s_lhxs: int = 0,
        lock: bool = False,
    ) -> None:
        """Program the root's mmsiaddrcfg(h)/smsiaddrcfg(h) as firmware does (ignored once locked). Unlike an
        MMIO write, this also works before the S domain exists."""
        if self.parent is not None:
            raise ConfigError(f"aplic {self.name!r}: MSI addresses are configured in the root domain only")
        if self.mmsiaddrcfgh & MSI_L:
            return
        self.smsiaddrcfg = s_base_ppn & 0xFFFFFFFF
        self.smsiaddrcfgh = ((s_lhxs & 7) << 20 | (s_base_ppn >> 32) & 0xFFF) & SMSIADDRCFGH_MASK
        self.mmsiaddrcfg = m_base_ppn & 0xFFFFFFFF
        self.mmsiaddrcfgh = (
            (MSI_L if lock else 0) | (hhxs & 0x1F) << 24 | (lhxs & 7) << 20 | (hhxw & 7) << 16 | (lhxw & 0xF) << 12
            | (m_base_ppn >> 32) & 0xFFF
        )  # fmt: skip

    # --- source state helpers -----------------------------------------------------------------------------
    def _owner(self, source: int) -> AplicDomain | None:
        """The domain where `source` is active, following delegation down from this domain."""
        d = self
        while True:
            cfg = d.sourcecfg[source] if source <= d.num_sources else 0
            if cfg & D:
                d = d.children[cfg & CHILD_INDEX]
                continue
            return d if cfg else None

    def _implemented(self, source: int) -> bool:
        if not 1 <= source <= self.num_sources:
            return False
        if self.parent is None:
            return True
        # In a child, a source not delegated down to it appears not implemented (AdvPLIC.adoc "Interrupt domains").
        return self.parent.sourcecfg[source] == D | self.child_index

    def _mode(self, source: int) -> int:
        cfg = self.sourcecfg[source]
        return INACTIVE if cfg & D else cfg & 7

    def _rectified(self, source: int) -> int:
        """(wire XOR inverted) for edge and level modes; 0 for inactive and Detached (AdvPLIC.adoc "sourcecfg")."""
        mode = self._mode(source)
        if mode not in EDGE_MODES and mode not in LEVEL_MODES:
            return 0
        return int(self.wire(source)) ^ int(mode in INVERTED_MODES)

    def _set_pending_bit(self, source: int, cause: str) -> None:
        if not self.pending >> source & 1:
            self.pending |= 1 << source
            if self.events is not None:
                self.events.emit("aplic.pending", domain=self.name, level=self.level, source=source, cause=cause)

    def _try_set_pending(self, source: int, cause: str) -> None:
        """A write to setip/setipnum (AdvPLIC.adoc "Precise effects on interrupt-pending bits")."""
        if not self.active >> source & 1:
            return
        mode = self._mode(source)
        if mode in LEVEL_MODES:
            # direct mode: pending follows the input; MSI mode: settable only while the input is asserted
            if not self.dm or not self._rectified(source):
                return
        self._set_pending_bit(source, cause)

    def _try_clear_pending(self, source: int) -> None:
        """A write to in_clrip/clripnum: no effect on a level source in direct mode."""
        if not self.active >> source & 1:
            return
        if self._mode(source) in LEVEL_MODES and not self.dm:
            return
        self.pending &= ~(1 << source)

    def _wire_changed(self, source: int, old: int, new: int) -> None:
        mode = self._mode(source)
        inv = int(mode in INVERTED_MODES)
        old_r, new_r = old ^ inv, new ^ inv
        if mode in EDGE_MODES:
            if new_r and not old_r:
                self._set_pending_bit(source, "wire")
        elif mode in LEVEL_MODES:
            if new_r and not old_r:
                self._set_pending_bit(source, "wire")
            elif not new_r:
                self.pending &= ~(1 << source)
        else:
            return  # Detached: the wire is ignored
        self._deliver()

    def _settle(self, source: int, after_config: bool) -> None:
        """Re-establish the level-source invariants after a sourcecfg or DM change."""
        mode = self._mode(source)
        if mode not in LEVEL_MODES:
            return
        r = self._rectified(source)
        if not self.dm or not r:
            # direct mode: pending is a copy of the rectified input; MSI mode: never pending while it is low
            if r:
                self._set_pending_bit(source, "sourcecfg" if after_config else "dm")
            else:
                self.pending &= ~(1 << source)
        elif after_config:
            # A sourcecfg write "might (or might not)" set pending when the rectified input is high; we set it
            # for level modes (the source asserts now) and not for edge modes (no edge was seen).
            self._set_pending_bit(source, "sourcecfg")

    def _make_inactive(self, source: int) -> None:
        bit = 1 << source
        self.active &= ~bit
        self.pending &= ~bit
        self.enabled &= ~bit
        self.target[source] = 0

    def _revoke(self, source: int) -> None:
        """The parent stopped delegating `source` here: it appears unimplemented, down the whole subtree."""
        if source > self.num_sources:
            return
        cfg = self.sourcecfg[source]
        if cfg & D:
            self.children[cfg & CHILD_INDEX]._revoke(source)
        self.sourcecfg[source] = 0
        self._make_inactive(source)
        self._deliver()

    def _write_sourcecfg(self, source: int, value: int) -> None:
        if not self._implemented(source):
            return  # read-only zero
        old = self.sourcecfg[source]
        if value & D:
            index = value & CHILD_INDEX
            # A leaf domain turns a D=1 write into 0 (AdvPLIC.adoc "sourcecfg"). The child index is WLRL; we
            # treat an index with no child the same way (spec-silent choice).
            new = D | index if index < len(self.children) else 0
        else:
            mode = value & 7
            new = mode if mode in SOURCE_MODES else INACTIVE  # SM is WARL: reserved 2-3 become Inactive
        if old & D and old != new:
            self.children[old & CHILD_INDEX]._revoke(source)
        self.sourcecfg[source] = new
        if new == INACTIVE or new & D:
            self._make_inactive(source)
            if new & D and new != old:
                # the child's sourcecfg "remains zero until successfully written with a nonzero value"
                self.children[new & CHILD_INDEX]._revoke(source)
        else:
            if not self.active >> source & 1:
                # Newly active: pending and enable stay 0; target fields are unspecified — we pick hart 0 with
                # IPRIO 1 (the only always-legal priority) in direct mode, hart 0 / EIID 0 in MSI mode.
                self.target[source] = 0 if self.dm else 1
            self.active |= 1 << source
            self._settle(source, after_config=True)
        self._deliver()

    # --- checkpoints -----------------------------------------------------------------------------------------
    _STATE = ("sourcecfg", "target", "pending", "enabled", "active", "ie", "dm", "be", "genmsi", "genmsi_busy",
              "_genmsi_due", "mmsiaddrcfg", "mmsiaddrcfgh", "smsiaddrcfg", "smsiaddrcfgh", "_wires")  # fmt: skip

    def snapshot(self) -> dict:
        """Every register of the domain, the IDCs with their output lines, the wires (root) and the deadline of
        a delayed extempore MSI."""
        state = {name: getattr(self, name) for name in self._STATE}
        state["idcs"] = [[i.idelivery, i.iforce, i.ithreshold, i.line] for i in self.idcs]
        return state

    def restore(self, state: dict) -> None:
        for name in self._STATE:
            setattr(self, name, state[name])
        for idc, saved in zip(self.idcs, state["idcs"], strict=True):
            idc.idelivery, idc.iforce, idc.ithreshold, idc.line = saved
        if self._genmsi_due is not None:
            self._genmsi_timer()

    # --- MMIO -----------------------------------------------------------------------------------------------
    def load(self, off: int, size: int) -> int:
        # Only naturally aligned 32-bit accesses; other forms "should preferably report an access fault".
        if size != 4 or off % 4:
            raise AccessFault
        value = self._load(off)
        return _bswap32(value) if self.be and off not in (SETIPNUM_LE, SETIPNUM_BE) else value

    def store(self, off: int, size: int, value: int) -> None:
        if size != 4 or off % 4:
            raise AccessFault
        value &= 0xFFFFFFFF
        if self.be and off not in (SETIPNUM_LE, SETIPNUM_BE):
            value = _bswap32(value)  # domaincfg.BE also governs the byte order of domaincfg itself
        self._store(off, value)

    def _load(self, off: int) -> int:
        if off == DOMAINCFG:
            return DOMAINCFG_FIXED | self.ie << 8 | self.dm << 2 | self.be
        if SOURCECFG <= off < 0x1000:
            i = off // 4
            return self.sourcecfg[i] if i <= self.num_sources and self._implemented(i) else 0
        if MMSIADDRCFG <= off <= SMSIADDRCFGH:
            return self._load_msiaddrcfg(off)
        if SETIP <= off < SETIP + 0x80:
            return self._word(self.pending, (off - SETIP) // 4)
        if IN_CLRIP <= off < IN_CLRIP + 0x80:
            k = (off - IN_CLRIP) // 4
            rect = 0
            for b in range(32):
                i = 32 * k + b
                if 1 <= i <= self.num_sources and self.active >> i & 1 and self._rectified(i):
                    rect |= 1 << b
            return rect
        if SETIE <= off < SETIE + 0x80:
            return self._word(self.enabled, (off - SETIE) // 4)
        if off == GENMSI:
            return (self.genmsi | (GENMSI_BUSY if self.genmsi_busy else 0)) if self.dm else 0
        if TARGET <= off < IDC:
            i = (off - GENMSI) // 4
            return self.target[i] if i <= self.num_sources and self.active >> i & 1 else 0
        if off >= IDC:
            return self._load_idc(off)
        return 0  # setipnum, clripnum, setienum, clrienum, clrie, setipnum_le/be and reserved bytes read 0

    def _store(self, off: int, value: int) -> None:
        if off == DOMAINCFG:
            self._write_domaincfg(value)
        elif SOURCECFG <= off < 0x1000:
            if off // 4 <= self.num_sources:
                self._write_sourcecfg(off // 4, value)
        elif MMSIADDRCFG <= off <= SMSIADDRCFGH:
            self._store_msiaddrcfg(off, value)
        elif SETIP <= off < SETIP + 0x80:
            for i in self._sources_in(value, (off - SETIP) // 4):
                self._try_set_pending(i, "setip")
            self._deliver()
        elif off == SETIPNUM:
            self._setipnum(value, "setipnum")
        elif IN_CLRIP <= off < IN_CLRIP + 0x80:
            for i in self._sources_in(value, (off - IN_CLRIP) // 4):
                self._try_clear_pending(i)
            self._deliver()
        elif off == CLRIPNUM:
            if 1 <= value <= self.num_sources:
                self._try_clear_pending(value)
                self._deliver()
        elif SETIE <= off < SETIE + 0x80:
            self.enabled |= (value << 32 * ((off - SETIE) // 4)) & self.active
            self._deliver()
        elif off == SETIENUM:
            if 1 <= value <= self.num_sources and self.active >> value & 1:
                self.enabled |= 1 << value
                self._deliver()
        elif CLRIE <= off < CLRIE + 0x80:
            self.enabled &= ~(value << 32 * ((off - CLRIE) // 4))
            self._deliver()
        elif off == CLRIENUM:
            if 1 <= value <= self.num_sources:
                self.enabled &= ~(1 << value)
                self._deliver()
        elif off == SETIPNUM_LE:
            self._setipnum(value, "setipnum_le")
        elif off == SETIPNUM_BE:
            self._setipnum(_bswap32(value), "setipnum_be")
        elif off == GENMSI:
            self._write_genmsi(value)
        elif TARGET <= off < IDC:
            i = (off - GENMSI) // 4
            if i <= self.num_sources and self.active >> i & 1:
                self.target[i] = self._legal_target(value)
                self._deliver()
        elif off >= IDC:
            self._store_idc(off, value)
        # everything else is read-only

    @staticmethod
    def _word(mask: int, k: int) -> int:
        return (mask >> (32 * k)) & 0xFFFFFFFF

    def _sources_in(self, value: int, k: int) -> Iterator[int]:
        return (i for i in _bits(value << (32 * k)) if 1 <= i <= self.num_sources)

    def _setipnum(self, value: int, cause: str) -> None:
        # a value that is not an active source number is ignored
        if 1 <= value <= self.num_sources:
            self._try_set_pending(value, cause)
            self._deliver()

    def _write_domaincfg(self, value: int) -> None:
        self.ie = value >> 8 & 1
        if self.bi_endian:
            self.be = value & 1
        if self.delivery == "both":
            dm = value >> 2 & 1
            if dm != self.dm:
                self.dm = dm
                # Changing DM leaves the target fields unspecified; we re-legalise them for the new format.
                for i in _bits(self.active):
                    self.target[i] = self._legal_target(self.target[i])
                    self._settle(i, after_config=False)
                if dm:
                    for h in range(len(self.idcs)):  # IDCs do not signal in MSI mode
                        self._drive_idc_line(h, False)
        self._deliver()

    def _legal_target(self, value: int) -> int:
        hart = value >> HART_INDEX_SHIFT & HART_INDEX_MASK
        if self.dm:
            guest = value >> GUEST_INDEX_SHIFT & GUEST_INDEX_MASK if self.geilen else 0
            guest = min(guest, self.geilen)  # WLRL 0..GEILEN
            return hart << HART_INDEX_SHIFT | guest << GUEST_INDEX_SHIFT | value & ((1 << self.eiid_bits) - 1)
        iprio = value & ((1 << self.iprio_bits) - 1)
        return hart << HART_INDEX_SHIFT | (iprio or 1)  # IPRIO 0 is not allowed: a write of 0 gives 1

    # --- MSI address configuration (root domain only) -------------------------------------------------------
    def _tree_has(self, predicate: Callable[[AplicDomain], bool]) -> bool:
        todo = [self.root]
        while todo:
            d = todo.pop()
            if predicate(d):
                return True
            todo.extend(d.children)
        return False

    def _load_msiaddrcfg(self, off: int) -> int:
        if self.level != "M" or not self._tree_has(lambda d: d.delivery != "direct"):
            return 0  # not implemented: reserved bytes
        if off in (SMSIADDRCFG, SMSIADDRCFGH) and not self._tree_has(lambda d: d.level == "S"):
            return 0  # smsiaddrcfg(h) exist only when the APLIC has an S-level domain
        root = self.root
        value = {MMSIADDRCFG: root.mmsiaddrcfg, MMSIADDRCFGH: root.mmsiaddrcfgh,
                 SMSIADDRCFG: root.smsiaddrcfg, SMSIADDRCFGH: root.smsiaddrcfgh}[off]  # fmt: skip
        if self is not root and off == MMSIADDRCFGH:
            value |= MSI_L  # other M domains hold read-only copies with L = 1
        return value

    def _store_msiaddrcfg(self, off: int, value: int) -> None:
        if self.parent is not None or self.mmsiaddrcfgh & MSI_L:
            return  # writable in the root only, and L = 1 locks all four registers
        if not self._tree_has(lambda d: d.delivery != "direct"):
            return
        if off == MMSIADDRCFG:
            self.mmsiaddrcfg = value
        elif off == MMSIADDRCFGH:
            self.mmsiaddrcfgh = value & MMSIADDRCFGH_MASK
        elif self._tree_has(lambda d: d.level == "S"):
            if off == SMSIADDRCFG:
                self.smsiaddrcfg = value
            else:
                self.smsiaddrcfgh = value & SMSIADDRCFGH_MASK

    def msi_target_address(self, hart_index: int, guest_index: int = 0) -> int:
        """Where an MSI from this domain to `hart_index` goes, from the root's msiaddrcfg registers."""
        root = self.root
        mh = root.mmsiaddrcfgh
        fields = {"lhxw": mh >> 12 & 0xF, "hhxw": mh >> 16 & 7, "hhxs": mh >> 24 & 0x1F}
        if self.level == "M":
            base = (mh & 0xFFF) << 32 | root.mmsiaddrcfg
            return msi_address(base, hart_index, lhxs=mh >> 20 & 7, **fields)
        # S level: the machine-level index of the hart, smsiaddrcfg's Base PPN and LHXS, mmsiaddrcfgh's rest
        sh = root.smsiaddrcfgh
        base = (sh & 0xFFF) << 32 | root.smsiaddrcfg
        return msi_address(base, self.m_hart_index(hart_index), lhxs=sh >> 20 & 7, guest_index=guest_index,
                           **fields)  # fmt: skip

    def _send_msi(self, source: int, hart_index: int, guest_index: int, eiid: int) -> None:
        if self.bus is None:
            raise ConfigError(f"aplic {self.name!r}: MSI delivery mode needs a bus to write MSIs to")
        addr = self.msi_target_address(hart_index, guest_index)
        if self.events is not None:
            self.events.emit("aplic.msi", domain=self.name, level=self.level, source=source, hart=hart_index,
                             guest=guest_index, eiid=eiid, addr=addr)  # fmt: skip
        try:
            self.bus.store(addr, 4, eiid)  # the EIID, zero-extended, always little-endian
        except AccessFault:
            if self.events is not None:
                self.events.emit("aplic.msi_fault", domain=self.name, source=source, addr=addr)

    def _write_genmsi(self, value: int) -> None:
        if not self.dm or self.genmsi_busy:
            return  # read-only zero in direct mode; writes are ignored while Busy
        hart = value >> HART_INDEX_SHIFT & HART_INDEX_MASK
        eiid = value & ((1 << self.eiid_bits) - 1)
        self.genmsi = hart << HART_INDEX_SHIFT | eiid
        self.genmsi_busy = True
        if self.clock is not None and self.genmsi_delay_ns > 0:
            self._genmsi_due = self.clock.now() + self.genmsi_delay_ns
            self._genmsi_timer()
        else:
            self._send_genmsi()

    def _genmsi_timer(self) -> None:
        assert self.clock is not None and self._genmsi_due is not None
        self.clock.at(self._genmsi_due, lambda _now: self._send_genmsi(), tag=f"{self.name}:genmsi")

    def _send_genmsi(self) -> None:
        # Extempore MSIs ignore domaincfg.IE; earlier MSIs were written synchronously, so they land first.
        self._genmsi_due = None
        self._send_msi(0, self.genmsi >> HART_INDEX_SHIFT, 0, self.genmsi & ((1 << self.eiid_bits) - 1))
        self.genmsi_busy = False

    # --- direct delivery: IDCs ------------------------------------------------------------------------------
    def _idc_for(self, off: int) -> tuple[_Idc | None, int, int]:
        h, reg = divmod(off - IDC, IDC_SIZE)
        if h >= len(self.idcs):
            return None, h, reg
        return self.idcs[h], h, reg

    def _load_idc(self, off: int) -> int:
        idc, h, reg = self._idc_for(off)
        if idc is None:
            return 0
        if reg == IDELIVERY:
            return idc.idelivery
        if reg == IFORCE:
            return idc.iforce
        if reg == ITHRESHOLD:
            return idc.ithreshold
        if reg == TOPI:
            return self.topi(h)
        if reg == CLAIMI:
            return self.claimi(h)
        return 0

    def _store_idc(self, off: int, value: int) -> None:
        idc, _, reg = self._idc_for(off)
        if idc is None:
            return
        if reg == IDELIVERY:
            idc.idelivery = value & 1  # WARL: 0 or 1
        elif reg == IFORCE:
            idc.iforce = value & 1
        elif reg == ITHRESHOLD:
            idc.ithreshold = value & ((1 << self.iprio_bits) - 1)  # IPRIOLEN bits
        else:
            return  # topi and claimi ignore writes
        self._deliver()

    def topi(self, hart_index: int) -> int:
        """The highest-priority pending-and-enabled source targeting `hart_index` (below ithreshold when it is
        nonzero) as source << 16 | IPRIO; 0 if none. Not affected by IE or idelivery. Direct mode only."""
        if self.dm or not 0 <= hart_index < len(self.idcs):
            return 0
        threshold = self.idcs[hart_index].ithreshold
        best = 0
        best_prio = 1 << 8
        for i in _bits(self.pending & self.enabled):
            t = self.target[i]
            if t >> HART_INDEX_SHIFT != hart_index:
                continue
            prio = t & 0xFF
            if threshold and prio >= threshold:
                continue
            if prio < best_prio:  # ties go to the lower source number, which comes first
                best, best_prio = i, prio
        return best << TOPI_ID_SHIFT | best_prio if best else 0

    def claimi(self, hart_index: int) -> int:
        """A read of claimi: returns topi and claims that source; a read of 0 clears iforce."""
        value = self.topi(hart_index)
        if value:
            i = value >> TOPI_ID_SHIFT
            if self._mode(i) not in LEVEL_MODES:  # a claim does not clear a level source in direct mode
                self.pending &= ~(1 << i)
        elif 0 <= hart_index < len(self.idcs):
            self.idcs[hart_index].iforce = 0
        self._deliver()
        return value

    def _drive_idc_line(self, hart_index: int, level: bool) -> None:
        idc = self.idcs[hart_index]
        if idc.line != level:
            idc.line = level
            if self.on_line is not None:
                self.on_line(hart_index, level)

    # --- delivery ---------------------------------------------------------------------------------------------
    def _deliver(self) -> None:
        if self.dm:
            # MSI mode: a source is forwarded only when pending, enabled and IE = 1; sending clears pending.
            if self._delivering:
                return  # an MSI written back into this domain is picked up by the loop below
            self._delivering = True
            try:
                while self.ie:
                    ready = self.pending & self.enabled
                    if not ready:
                        break
                    i = (ready & -ready).bit_length() - 1
                    self.pending &= ~(1 << i)
                    t = self.target[i]
                    self._send_msi(i, t >> HART_INDEX_SHIFT, t >> GUEST_INDEX_SHIFT & GUEST_INDEX_MASK,
                                   t & ((1 << self.eiid_bits) - 1))  # fmt: skip
            finally:
                self._delivering = False
        else:
            # Direct mode: each hart's line is IE & idelivery & (iforce | topi != 0).
            for h, idc in enumerate(self.idcs):
                level = bool(self.ie and idc.idelivery and (idc.iforce or self.topi(h)))
                self._drive_idc_line(h, level)
