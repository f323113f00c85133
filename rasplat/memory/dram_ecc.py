"""DRAM behind an ECC memory controller: real codewords, CE/UE reports, poison on UE, patrol scrub.

Storage. The sparse RAM underneath holds the data the controller last wrote; the check bits of a word are
`codec.encode(data)`, computed when needed. Faults live in an overlay keyed by word number (offset >> 3 for
64-bit codecs, >> 4 for the 128-bit x4 code), so memory without faults costs nothing: loads and stores pay one
truth test on `_fault_lines` (64-byte line -> number of faulted words in it), as RAM pays one for poison.

Faults (`inject("bitflip", off, bits=[..], check_bits=[..], mode=.., value=..)`) act on the cells of the word
holding `off`. Codeword bit numbering is the codec's: data bits 0..63 then check bits 64..71 (`check_bits=[j]`
is codeword bit 64+j).
- transient: the listed cells are inverted until the word is next written (store, scrub write-back, host write).
  Injecting the same transient bit twice flips it back.
- stuck: the listed cells read a fixed value whatever is written. By default each is stuck at the complement of
  what it held at injection (so the fault shows at once); `value=0|1` sticks all listed bits at that value,
  which stays invisible while the written data agrees with it. Stuck-at is applied after transient flips.
Cells as read = (data | check << k) ^ transient, then stuck bits forced. `clear_faults()` repairs cells.

Reads. A load touching a faulted word decodes every faulted word it touches (an unaligned load can touch two):
- clean (e.g. a stuck bit that agrees with the data): the data, nothing reported;
- corrected: the decoder's data is returned and an `ecc.ce` is reported. A miscorrected triple error is
  reported as the CE the syndrome names and returns the wrongly "corrected" data, as hardware would. A demand
  read does not write the corrected word back (the patrol scrubber does), so each read reports again;
- uncorrectable: the 64-byte line is poisoned, an `ecc.ue` is reported and the load raises `HardwareError`,
  so the consumer takes the precise hardware-error trap. The line stays poisoned (RAM semantics) until
  `clear_poison`; the faulty cells stay until written, so a read after `clear_poison` finds the UE again.
Only the words a load touches are decoded: a UE in another word of the same line is found when that word is
read or scrubbed.

Writes re-encode. A store that covers a whole faulted word replaces it without reading; a partial store is a
read-modify-write: the word is decoded first (a CE is reported and merged into, a UE poisons the line and the
store raises `HardwareError`, leaving memory unchanged). Either way transient faults of the written words vanish
and stuck bits stay.

Host path (Python API, a debugger reading through the controller): `read_bytes` returns decoded data, corrected
for CEs, the data bits as read for UEs, and reports nothing; `poisoned_lines` also lists lines holding a word
that decodes as uncorrectable, so `bus.read` raises `PoisonedRead` there while `bus.peek` shows the raw bits.
`write_bytes` merges like a store (CE words corrected first) without reporting. `raw_word` gives the cells.

Reports. Every CE/UE goes to three places: the EDAC-like event (`ecc.ce` / `ecc.ue` in `events`), the counters
(`counters`, per controller / DIMM / csrow+channel as EDAC's sysfs) and `error_sink(dict)` for the RERI bank.
Severity (RERI classes): CE for corrections; UED (deferred) for a UE found by the scrubber, which poisons the
line and nobody consumes it yet; for a UE found by a demand access `demand_ue_severity` ("UEC" by default: the
requester receives poison and traps at once; "UED" models a controller that logs its own detection as deferred
and leaves the UEC, ec = 2, to the consuming hart). ec is 20 (system memory data) or 21 (scrub-detected).

Patrol scrub (needs a `Clock`): the walker passes the backend's offsets linearly, offset o at
`cycle_start + o * cycle / size`, and restarts every `scrub_cycle_s`. Words with no overlay entry hold a clean
codeword by construction, so the walker only stops at faulted words: one clock timer at the time it reaches the
next one (one per cycle when there are none). A CE is corrected and written back (transient faults vanish,
stuck bits come back and are found again next cycle); a UE poisons the line and is reported as deferred (UED,
ec = 21, scrub = True). Nothing traps. A fault injected behind the walker is found in the next cycle, so any
fault is found within one cycle of its injection.

Geometry (`DramGeometry`) maps an offset to a DIMM location for reports:
    channel      = (off // interleave) % channels
    ch_off       = (off // (interleave * channels)) * interleave + off % interleave    (offset inside the channel)
    beat         = ch_off // 8                       (one 64-bit column access; bytes 0-7 of a beat share it)
    col          = beat % columns
    bank         = beat // columns % banks           (banks = bank groups x banks per group)
    row          = beat // (columns * banks) % rows
    rank         = beat // (columns * banks * rows) % ranks
    slot         = beat // (columns * banks * rows * ranks)       (DIMM in the channel)
    csrow        = slot * ranks + rank               (EDAC's legacy chip-select row)
So consecutive `interleave`-byte granules alternate channels, a row's columns are contiguous, consecutive rows
fill banks first, and each rank (then DIMM) is a contiguous part of its channel. The reported address is the
physical address (`base + off`) of the faulted word; `grain` is the codec's word size in bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..bus import HardwareError
from ..clock import Clock
from ..ecc import CLEAN, CORRECTED, Codec, Decoded, get_codec
from ..errors import ConfigError
from ..events import EventLog
from .ram import LINE_SHIFT, PAGE_SHIFT, PAGE_SIZE, RAM

EC_MEMORY_DATA = 20  # RERI: system memory data error (ECC in SDRAM)
EC_MEMORY_SCRUB = 21  # RERI: system memory scrubbing-detected error
TT = {"read": 4, "write": 5, "scrub": 0}  # RERI transaction types: explicit read / explicit write / unspecified
AIT_SPA = 1  # RERI address type: system physical address
BEAT = 8  # bytes per column access of a 64-bit channel


# --- geometry --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DramLocation:
    mc: int
    channel: int
    dimm: int  # slot inside the channel
    dimm_label: str
    rank: int
    csrow: int
    bank: int
    row: int
    col: int

    def as_dict(self) -> dict[str, int | str]:
        return {
            "mc": self.mc, "channel": self.channel, "dimm": self.dimm, "dimm_label": self.dimm_label,
            "rank": self.rank, "csrow": self.csrow, "bank": self.bank, "row": self.row, "col": self.col,
        }  # fmt: skip


@dataclass(frozen=True)
class DramGeometry:
    """The DIMM population behind one controller (see the module docstring for the address mapping).

    `labels` names the DIMMs in (channel, slot) order; by default "DIMM_A1", "DIMM_A2", "DIMM_B1", ... as on a
    mainboard silkscreen. `interleave` is the channel-interleave granule in bytes (a power of two, >= 8)."""

    channels: int = 1
    dimms_per_channel: int = 1
    ranks: int = 1
    banks: int = 16
    rows: int = 1 << 16
    columns: int = 1 << 10
    interleave: int = 4096
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("channels", "dimms_per_channel", "ranks", "banks", "rows", "columns", "interleave"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"dram geometry: {name} must be a positive integer, got {value!r}")
        if self.channels > 26:
            raise ConfigError(f"dram geometry: channels must be at most 26, got {self.channels}")
        if self.interleave < BEAT or self.interleave & (self.interleave - 1):
            raise ConfigError(f"dram geometry: interleave must be a power of two >= 8 bytes, got {self.interleave}")
        n = self.channels * self.dimms_per_channel
        if not self.labels:
            slots = range(1, self.dimms_per_channel + 1)
            labels = tuple(f"DIMM_{chr(65 + ch)}{slot}" for ch in range(self.channels) for slot in slots)
            object.__setattr__(self, "labels", labels)
        elif len(self.labels) != n or len(set(self.labels)) != n:
            raise ConfigError(f"dram geometry: labels must be {n} distinct names (channel x slot), got {self.labels!r}")

    @property
    def capacity(self) -> int:
        """Bytes the population holds."""
        return self.channels * self.dimms_per_channel * self.ranks * self.banks * self.rows * self.columns * BEAT

    def label(self, channel: int, slot: int) -> str:
        return self.labels[channel * self.dimms_per_channel + slot]

    def locate(self, off: int, mc: int = 0) -> DramLocation:
        if not 0 <= off < self.capacity:
            raise ConfigError(f"dram geometry: offset {off:#x} is outside the {self.capacity:#x}-byte population")
        granule, within = divmod(off, self.interleave)
        channel = granule % self.channels
        beat = ((granule // self.channels) * self.interleave + within) // BEAT
        beat, col = divmod(beat, self.columns)
        beat, bank = divmod(beat, self.banks)
        beat, row = divmod(beat, self.rows)
        slot, rank = divmod(beat, self.ranks)
        return DramLocation(
            mc, channel, slot, self.label(channel, slot), rank, slot * self.ranks + rank, bank, row, col
        )


DEFAULT_GEOMETRY = DramGeometry()


# --- EDAC counters ----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class ErrorCounts:
    ce_count: int = 0
    ue_count: int = 0


class EdacCounters:
    """EDAC's counters for one controller: mcN/{ce,ue}_count, {ce,ue}_noinfo_count, dimmN/dimm_{ce,ue}_count,
    csrowN/chM_{ce,ue}_count. The controller totals include the noinfo errors, as in EDAC; errors without a
    location (no geometry) count only there."""

    def __init__(self, mc: int, geometry: DramGeometry | None, clock: Clock | None) -> None:
        self.mc = mc
        self.geometry = geometry
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """`reset_counters`: zero every counter and restart `seconds_since_reset`."""
        self.ce_count = self.ue_count = self.ce_noinfo = self.ue_noinfo = 0
        g = self.geometry
        self.dimms: dict[str, ErrorCounts] = {label: ErrorCounts() for label in (g.labels if g else ())}
        # csrow -> channel -> counts
        self.csrows: dict[int, dict[int, ErrorCounts]] = (
            {cs: {ch: ErrorCounts() for ch in range(g.channels)} for cs in range(g.dimms_per_channel * g.ranks)}
            if g
            else {}
        )
        self._reset_ns = self._clock.now() if self._clock else 0

    @property
    def seconds_since_reset(self) -> int:
        return (self._clock.now() - self._reset_ns) // 1_000_000_000 if self._clock else 0

    def count(self, corrected: bool, location: DramLocation | None, n: int = 1) -> None:
        attr = "ce_count" if corrected else "ue_count"
        setattr(self, attr, getattr(self, attr) + n)
        if location is None:
            if corrected:
                self.ce_noinfo += n
            else:
                self.ue_noinfo += n
            return
        for counts in (self.dimms[location.dimm_label], self.csrows[location.csrow][location.channel]):
            setattr(counts, attr, getattr(counts, attr) + n)

    def snapshot(self) -> dict:
        return {
            "totals": [self.ce_count, self.ue_count, self.ce_noinfo, self.ue_noinfo], "reset_ns": self._reset_ns,
            "dimms": [[label, c.ce_count, c.ue_count] for label, c in self.dimms.items()],
            "csrows": [[cs, ch, c.ce_count, c.ue_count] for cs, chs in self.csrows.items() for ch, c in chs.items()],
        }  # fmt: skip

    def restore(self, state: dict) -> None:
        self.ce_count, self.ue_count, self.ce_noinfo, self.ue_noinfo = state["totals"]
        self._reset_ns = state["reset_ns"]
        for label, ce, ue in state["dimms"]:
            self.dimms[label] = ErrorCounts(ce, ue)
        for cs, ch, ce, ue in state["csrows"]:
            self.csrows[cs][ch] = ErrorCounts(ce, ue)

    def sysfs(self) -> dict[str, int | str]:
        """The counters under their /sys/devices/system/edac/mc names (a flat path -> value map)."""
        mc = f"mc{self.mc}"
        out: dict[str, int | str] = {
            f"{mc}/ce_count": self.ce_count, f"{mc}/ue_count": self.ue_count,
            f"{mc}/ce_noinfo_count": self.ce_noinfo, f"{mc}/ue_noinfo_count": self.ue_noinfo,
            f"{mc}/seconds_since_reset": self.seconds_since_reset,
        }  # fmt: skip
        for i, (label, c) in enumerate(self.dimms.items()):
            out |= {f"{mc}/dimm{i}/dimm_label": label, f"{mc}/dimm{i}/dimm_ce_count": c.ce_count,
                    f"{mc}/dimm{i}/dimm_ue_count": c.ue_count}  # fmt: skip
        for cs, channels in self.csrows.items():
            out[f"{mc}/csrow{cs}/ce_count"] = sum(c.ce_count for c in channels.values())
            out[f"{mc}/csrow{cs}/ue_count"] = sum(c.ue_count for c in channels.values())
            for ch, c in channels.items():
                out[f"{mc}/csrow{cs}/ch{ch}_ce_count"] = c.ce_count
        return out


# --- the backend ------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class WordFault:
    """Faulty cells of one codeword (masks in codeword-bit numbering)."""

    flip: int = 0  # transient: inverted until the word is next written
    stuck_mask: int = 0  # stuck cells ...
    stuck_value: int = 0  # ... and the value they read (only bits inside stuck_mask are set)


@dataclass(slots=True)
class _Scrub:
    cycle_ns: int
    start_ns: int  # when the current pass began
    pos: int = 0  # next offset the walker visits
    passes: int = 0  # completed passes
    stats: dict[str, int] = field(default_factory=lambda: {"corrected": 0, "deferred": 0})
    due: int = 0  # when the armed timer fires (a checkpoint re-arms it there)


class DramEcc(RAM):
    """ECC DRAM behind one memory controller. See the module docstring for the model.

    `base` is the physical address of offset 0 (reports carry physical addresses). `codec` is a registered codec
    name or a codec object. `geometry=None` means the controller cannot locate errors: they count as noinfo and
    events carry `location=None`. `events`, `clock` and `error_sink` are optional; patrol scrub needs `clock`."""

    inject_kinds: tuple[str, ...] = ("poison", "bitflip")

    def __init__(
        self,
        size: int,
        name: str = "dram",
        *,
        base: int = 0,
        codec: str | Codec = "hsiao-72-64",
        geometry: DramGeometry | None = DEFAULT_GEOMETRY,
        mc: int = 0,
        events: EventLog | None = None,
        clock: Clock | None = None,
        scrub_cycle_s: float | None = None,
        error_sink: Callable[[dict], None] | None = None,
        demand_ue_severity: str = "UEC",
    ) -> None:
        super().__init__(size, name)
        self.codec: Codec = get_codec(codec) if isinstance(codec, str) else codec
        if self.codec.data_bits not in (64, 128):
            bits = self.codec.data_bits
            raise ConfigError(f"{name}: codec {self.codec.name!r} protects {bits}-bit words, DRAM needs 64 or 128")
        if geometry is not None and geometry.capacity < size:
            raise ConfigError(f"{name}: geometry holds {geometry.capacity:#x} bytes, less than the size {size:#x}")
        if demand_ue_severity not in ("UEC", "UED"):
            raise ConfigError(f"{name}: demand_ue_severity must be 'UEC' or 'UED', got {demand_ue_severity!r}")
        if not isinstance(base, int) or base < 0:
            raise ConfigError(f"{name}: base must be a non-negative address, got {base!r}")
        self.base = base
        self.geometry = geometry
        self.mc = mc
        self.events = events
        self.clock = clock
        self.error_sink = error_sink
        self.demand_ue_severity = demand_ue_severity
        self.counters = EdacCounters(mc, geometry, clock)
        self._k = self.codec.data_bits
        self._wbytes = self._k // 8
        self._wshift = self._wbytes.bit_length() - 1
        self.faults: dict[int, WordFault] = {}  # word number -> faulty cells
        self._fault_lines: dict[int, int] = {}  # line number -> faulted words in it (the hot-path test)
        self._scrub: _Scrub | None = None
        self._scrub_generation = 0  # bumps on every re-arm, across restarts: older timers see a newer value and return
        if scrub_cycle_s is not None:
            self.start_scrub(scrub_cycle_s)

    # --- hot path: RAM's, plus one truth test on the fault overlay ---------------------------------------------
    def load(self, off: int, size: int) -> int:
        poison = self.poison
        if poison and (off >> LINE_SHIFT in poison or (off + size - 1) >> LINE_SHIFT in poison):
            raise HardwareError
        faulty = self._fault_lines
        if faulty and (off >> LINE_SHIFT in faulty or (off + size - 1) >> LINE_SHIFT in faulty):
            return self._load_faulted(off, size)
        if not off & (size - 1):
            views = self._views.get(off >> PAGE_SHIFT)
            return 0 if views is None else views[size][(off & (PAGE_SIZE - 1)) // size]
        return int.from_bytes(RAM.read_bytes(self, off, size), "little")

    def store(self, off: int, size: int, value: int) -> None:
        poison = self.poison
        if poison and (off >> LINE_SHIFT in poison or (off + size - 1) >> LINE_SHIFT in poison):
            raise HardwareError
        faulty = self._fault_lines
        if faulty and (off >> LINE_SHIFT in faulty or (off + size - 1) >> LINE_SHIFT in faulty):
            self._store_faulted(off, size, value)
        elif not off & (size - 1):
            views = self._views.get(off >> PAGE_SHIFT) or self._page(off >> PAGE_SHIFT)
            views[size][(off & (PAGE_SIZE - 1)) // size] = value
        else:
            RAM.write_bytes(self, off, value.to_bytes(size, "little"))

    # --- slow path: faulted words ------------------------------------------------------------------------------
    def _load_faulted(self, off: int, size: int) -> int:
        ws, wb = self._wshift, self._wbytes
        first, last = off >> ws, (off + size - 1) >> ws
        buf = bytearray(RAM.read_bytes(self, first << ws, (last - first + 1) << ws))
        for word in range(first, last + 1):
            if word in self.faults:
                dec = self._decode(word)
                if dec.status != CLEAN:
                    self._report(word, dec, "read")
                    if dec.status != CORRECTED:
                        raise HardwareError
                at = (word - first) << ws
                buf[at : at + wb] = dec.data.to_bytes(wb, "little")
        at = off - (first << ws)
        return int.from_bytes(buf[at : at + size], "little")

    def _store_faulted(self, off: int, size: int, value: int) -> None:
        merges = self._merge_decodes(off, size, report=True)
        for word, data in merges:
            self._set_data(word, data)
        RAM.write_bytes(self, off, value.to_bytes(size, "little"))
        self._rewritten(off, size)

    def _merge_decodes(self, off: int, size: int, report: bool) -> list[tuple[int, int]]:
        """Decode the faulted words [off, off+size) covers only partly (read-modify-write). With `report`, CEs are
        reported and a UE poisons, is reported and raises before anything is written."""
        ws, wb = self._wshift, self._wbytes
        merges = []
        for word in self._faulted_words(off, size):
            start = word << ws
            if off <= start and start + wb <= off + size:
                continue  # overwritten whole: nothing to merge
            dec = self._decode(word)
            if report and dec.status != CLEAN:
                self._report(word, dec, "write")
                if dec.status != CORRECTED:
                    raise HardwareError
            merges.append((word, dec.data))
        return merges

    def _faulted_words(self, off: int, size: int) -> list[int]:
        if not self._fault_lines or size <= 0:
            return []
        first, last = off >> self._wshift, (off + size - 1) >> self._wshift
        if last - first > len(self.faults):
            return sorted(w for w in self.faults if first <= w <= last)
        return [w for w in range(first, last + 1) if w in self.faults]

    def _cells(self, word: int) -> tuple[int, int]:
        """(data, check) as the cells of `word` read now."""
        k = self._k
        data = int.from_bytes(RAM.read_bytes(self, word << self._wshift, self._wbytes), "little")
        check = self.codec.encode(data)
        f = self.faults.get(word)
        if f is not None:
            cw = ((data | check << k) ^ f.flip) & ~f.stuck_mask | f.stuck_value
            data, check = cw & ((1 << k) - 1), cw >> k
        return data, check

    def _decode(self, word: int) -> Decoded:
        return self.codec.decode(*self._cells(word))

    def _set_data(self, word: int, data: int) -> None:
        raw = data.to_bytes(self._wbytes, "little")
        if RAM.read_bytes(self, word << self._wshift, self._wbytes) != raw:  # an idle page stays unallocated
            RAM.write_bytes(self, word << self._wshift, raw)

    def _rewritten(self, off: int, size: int) -> None:
        """The words of [off, off+size) were written: their transient faults are gone, stuck cells stay."""
        for word in self._faulted_words(off, size):
            f = self.faults[word]
            f.flip = 0
            if not f.stuck_mask:
                self._drop_fault(word)

    def _drop_fault(self, word: int) -> None:
        del self.faults[word]
        line = (word << self._wshift) >> LINE_SHIFT
        left = self._fault_lines[line] - 1
        if left:
            self._fault_lines[line] = left
        else:
            del self._fault_lines[line]

    # --- host path ---------------------------------------------------------------------------------------------
    def read_bytes(self, off: int, size: int) -> bytes:
        data = RAM.read_bytes(self, off, size)
        words = self._faulted_words(off, size)
        if not words:
            return data
        buf = bytearray(data)
        ws, wb = self._wshift, self._wbytes
        for word in words:
            start = word << ws
            lo, hi = max(start, off), min(start + wb, off + size)
            buf[lo - off : hi - off] = self._decode(word).data.to_bytes(wb, "little")[lo - start : hi - start]
        return bytes(buf)

    def write_bytes(self, off: int, data: bytes) -> None:
        self._check_range(off, len(data))
        for word, merged in self._merge_decodes(off, len(data), report=False):
            self._set_data(word, merged)
        RAM.write_bytes(self, off, data)
        self._rewritten(off, len(data))

    def poisoned_lines(self, off: int, size: int) -> list[int]:
        """Poisoned lines, and lines holding a word that decodes as uncorrectable (what a read would find)."""
        lines = set(super().poisoned_lines(off, size))
        for word in self._faulted_words(off, size):
            if self._decode(word).status not in (CLEAN, CORRECTED):
                lines.add(((word << self._wshift) >> LINE_SHIFT) << LINE_SHIFT)
        return sorted(lines)

    def raw_word(self, off: int) -> tuple[int, int]:
        """(data bits, check bits) as the cells of the word holding `off` read now, before decoding."""
        self._check_range(off, 1)
        return self._cells(off >> self._wshift)

    # --- checkpoints -------------------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """RAM's pages and poison, the fault overlay in injection order, the EDAC counters and the patrol scrub
        (its walker and the deadline of its armed timer)."""
        s = self._scrub
        scrub = None if s is None else {
            "cycle_ns": s.cycle_ns, "start_ns": s.start_ns, "pos": s.pos, "passes": s.passes, "stats": s.stats,
            "due": s.due,
        }  # fmt: skip
        return {
            **super().snapshot(), "faults": [[w, f.flip, f.stuck_mask, f.stuck_value] for w, f in self.faults.items()],
            "counters": self.counters.snapshot(), "scrub": scrub, "scrub_generation": self._scrub_generation,
        }  # fmt: skip

    def restore(self, state: dict) -> None:
        super().restore(state)
        self.faults.clear()
        self._fault_lines.clear()
        for word, flip, stuck_mask, stuck_value in state["faults"]:
            self.faults[word] = WordFault(flip, stuck_mask, stuck_value)
            line = (word << self._wshift) >> LINE_SHIFT
            self._fault_lines[line] = self._fault_lines.get(line, 0) + 1
        self.counters.restore(state["counters"])
        self._scrub_generation = state["scrub_generation"]
        scrub = state["scrub"]
        self._scrub = None if scrub is None else _Scrub(**{**scrub, "stats": dict(scrub["stats"])})
        if self._scrub is not None:
            self._scrub_timer(self._scrub.due, self._scrub_generation)

    # --- fault injection -----------------------------------------------------------------------------------------
    def inject(self, kind: str, off: int, **params: object) -> dict:
        """`poison` as RAM; `bitflip` with bits=[data bit, ...], check_bits=[check bit, ...],
        mode="transient"|"stuck" and, for stuck, value=None|0|1 (see the module docstring). Returns
        {line, syndrome, decodes_as}: the line offset and what the decoder now makes of the word."""
        if kind != "bitflip":
            return super().inject(kind, off, **params)
        self._check_range(off, 1)
        unknown = sorted(set(params) - {"bits", "check_bits", "mode", "value"})
        if unknown:
            raise ConfigError(f"{self.name}: inject 'bitflip' got unknown parameter(s) {unknown}")
        mode = params.get("mode", "transient")
        if mode not in ("transient", "stuck"):
            raise ConfigError(f"{self.name}: inject 'bitflip' mode must be 'transient' or 'stuck', got {mode!r}")
        value = params.get("value")
        if value is not None and (mode != "stuck" or value not in (0, 1) or isinstance(value, bool)):
            raise ConfigError(f"{self.name}: inject 'bitflip' value must be 0 or 1 with mode='stuck', got {value!r}")
        data_bits = self._bit_list("bits", params.get("bits", ()), self._k)
        check_bits = self._bit_list("check_bits", params.get("check_bits", ()), self.codec.check_bits)
        if not data_bits and not check_bits:
            raise ConfigError(f"{self.name}: inject 'bitflip' needs at least one of bits=[...] or check_bits=[...]")
        mask = sum(1 << b for b in data_bits) | sum(1 << (self._k + b) for b in check_bits)

        if self._scrub is not None:
            self._scrub_advance(self._clock_now())  # the walker's position now decides whether it sees this fault
        word = off >> self._wshift
        f = self.faults.get(word)
        if f is None:
            f = self.faults[word] = WordFault()
            line = (word << self._wshift) >> LINE_SHIFT
            self._fault_lines[line] = self._fault_lines.get(line, 0) + 1
        if mode == "transient":
            f.flip ^= mask
        else:
            if value is None:
                data, check = self._cells(word)
                stuck = ~(data | check << self._k) & mask
            else:
                stuck = mask if value else 0
            f.stuck_mask |= mask
            f.stuck_value = f.stuck_value & ~mask | stuck
        if not f.flip and not f.stuck_mask:
            self._drop_fault(word)  # a transient flip injected twice cancels out
        if self._scrub is not None:
            self._scrub_arm()
        dec = self._decode(word)
        return {"line": (word << self._wshift) & ~((1 << LINE_SHIFT) - 1), "syndrome": dec.syndrome,
                "decodes_as": dec.status}  # fmt: skip

    def _bit_list(self, param: str, bits: object, limit: int) -> list[int]:
        if not isinstance(bits, list | tuple):
            raise ConfigError(f"{self.name}: inject 'bitflip' {param} must be a list of bit indices, got {bits!r}")
        for b in bits:
            if not isinstance(b, int) or isinstance(b, bool) or not 0 <= b < limit:
                raise ConfigError(f"{self.name}: inject 'bitflip' {param} index {b!r} is outside 0..{limit - 1}")
        if len(set(bits)) != len(bits):
            raise ConfigError(f"{self.name}: inject 'bitflip' {param} lists a bit twice: {list(bits)}")
        return list(bits)

    def clear_faults(self, off: int | None = None) -> int:
        """Repair the cells of the word holding `off` (every word when None). Returns how many words had faults.
        Poison is left alone (see `clear_poison`)."""
        if off is None:
            words: Iterable[int] = list(self.faults)
        else:
            self._check_range(off, 1)
            words = [off >> self._wshift] if off >> self._wshift in self.faults else []
        n = 0
        for word in words:
            self._drop_fault(word)
            n += 1
        return n

    # --- reports -------------------------------------------------------------------------------------------------
    def locate(self, off: int) -> DramLocation | None:
        return self.geometry.locate(off, self.mc) if self.geometry is not None else None

    def _report(self, word: int, dec: Decoded, access: str) -> None:
        """Report a CE or UE found by `access` ("read", "write" or "scrub"); a UE poisons its line."""
        off = word << self._wshift
        addr = self.base + off
        scrub = access == "scrub"
        corrected = dec.status == CORRECTED
        location = self.locate(off)
        if corrected:
            severity = "CE"
        else:
            self.poison.add(off >> LINE_SHIFT)
            severity = "UED" if scrub else self.demand_ue_severity
        ec = EC_MEMORY_SCRUB if scrub else EC_MEMORY_DATA
        self.counters.count(corrected, location)
        if scrub and self._scrub is not None:
            self._scrub.stats["corrected" if corrected else "deferred"] += 1
        loc = location.as_dict() if location is not None else None
        if self.events is not None:
            fields: dict[str, Any] = {
                "mc": self.mc, "region": self.name, "address": addr, "pfn": addr >> 12, "offset": addr & 0xFFF,
                "grain": self._wbytes, "syndrome": dec.syndrome, "bit": dec.bit, "location": loc, "count": 1,
                "access": access, "scrub": scrub, "severity": severity, "ec": ec,
                "type": "corrected" if corrected else "deferred" if severity == "UED" else "uncorrected",
            }  # fmt: skip
            if dec.symbol is not None:
                fields["symbol"] = dec.symbol
            if not corrected:
                fields["line"] = addr & ~((1 << LINE_SHIFT) - 1)
            self.events.emit("ecc.ce" if corrected else "ecc.ue", **fields)
        if self.error_sink is not None:
            self.error_sink({
                "severity": severity, "ec": ec, "addr": addr, "ait": AIT_SPA, "tt": TT[access], "scrub": scrub,
                "syndrome": dec.syndrome, "bit": dec.bit, "grain": self._wbytes, "mc": self.mc, "region": self.name,
                "location": loc, "access": access, "count": 1,
            })  # fmt: skip

    # --- patrol scrub --------------------------------------------------------------------------------------------
    def start_scrub(self, cycle_s: float) -> None:
        """Start (or restart from offset 0) a patrol scrub covering the whole backend every `cycle_s` seconds."""
        if self.clock is None:
            raise ConfigError(f"{self.name}: patrol scrub needs a clock (pass clock=...)")
        if not isinstance(cycle_s, int | float) or isinstance(cycle_s, bool) or not cycle_s > 0:
            raise ConfigError(f"{self.name}: scrub_cycle_s must be a positive number of seconds, got {cycle_s!r}")
        self._scrub = _Scrub(cycle_ns=max(1, round(cycle_s * 1_000_000_000)), start_ns=self.clock.now())
        self._scrub_arm()

    def stop_scrub(self) -> None:
        self._scrub = None  # pending timers see no scrub and do nothing

    @property
    def scrub_status(self) -> dict[str, int] | None:
        """passes (completed), position (next offset), cycle_ns, corrected / deferred (errors found)."""
        s = self._scrub
        if s is None:
            return None
        return {"passes": s.passes, "position": s.pos, "cycle_ns": s.cycle_ns, **s.stats}

    def _scrub_arm(self) -> None:
        """Set a timer for when the walker reaches the next faulted word, or the end of the pass."""
        s = self._scrub
        assert s is not None and self.clock is not None
        self._scrub_generation += 1
        generation = self._scrub_generation
        target = min((w << self._wshift for w in self.faults if w << self._wshift >= s.pos), default=self.size)
        s.due = s.start_ns - (-target * s.cycle_ns // self.size)  # ceil: the walker has reached target by then
        self._scrub_timer(s.due, generation)

    def _scrub_timer(self, when: int, generation: int) -> None:
        assert self.clock is not None
        self.clock.at(when, lambda now: self._scrub_tick(generation, now), tag=f"{self.name}:scrub")

    def _clock_now(self) -> int:
        assert self.clock is not None
        return self.clock.now()

    def _scrub_tick(self, generation: int, now: int) -> None:
        s = self._scrub
        if s is None or generation != self._scrub_generation:
            return
        self._scrub_advance(now)
        self._scrub_arm()

    def _scrub_advance(self, now: int) -> None:
        """Visit the faulted words the walker has passed by `now`, finishing passes as it goes."""
        s = self._scrub
        assert s is not None
        while True:
            end = min(self.size, (now - s.start_ns) * self.size // s.cycle_ns + 1)
            due = sorted(w for w in self.faults if s.pos <= w << self._wshift < end)
            for word in due:
                self._scrub_word(word)
            s.pos = end
            if end < self.size:
                break
            s.passes += 1
            s.start_ns += s.cycle_ns
            s.pos = 0
            if now <= s.start_ns:
                break

    def _scrub_word(self, word: int) -> None:
        off = word << self._wshift
        if off >> LINE_SHIFT in self.poison:
            return  # already poisoned (and reported when it was)
        dec = self._decode(word)
        if dec.status == CLEAN:
            return
        self._report(word, dec, "scrub")
        if dec.status == CORRECTED:
            self._set_data(word, dec.data)  # write back: transient faults vanish, stuck cells stay
            self._rewritten(off, self._wbytes)
