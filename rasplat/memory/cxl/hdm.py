"""HDM decoders: how a Type-3 device turns a host physical address (HPA) into a device physical address (DPA).

Everything here follows reference memory-ras.md §1.11, which gives the CXL 3.0 §8.2.4.19.13 "Device Decode
Logic" implementation note as coded in AlisonSchofield/cxl-addrtest `addrx.c` (and Linux
`cxl_calculate_{hpa,dpa}_offset`). With `hpa_off = HPA - decoder base`, `IG` the granularity encoding and
`IW` the ways encoding:

    IW < 8  (1/2/4/8/16 ways): DPAoff = (hpa_off[51 : IG+8+IW] >> IW) | hpa_off[IG+7 : 0]
    IW >= 8 (3/6/12 ways):     DPAoff[51 : IG+8] = hpa_off[51 : IG+IW] / 3,  DPAoff[IG+7 : 0] = hpa_off[IG+7 : 0]

and the inverse for the device at interleave position `pos`:

    IW < 8:  HPAoff = (DPAoff[51 : IG+8] << IW) | pos << (IG+8) | DPAoff[IG+7 : 0]
    IW >= 8: HPAoff = ((((DPAoff >> (IG+8)) * 3) << (IW-8)) + pos) << (IG+8) | DPAoff[IG+7 : 0]

DPA = DPA base + DPA skip + DPAoff, where the DPA base of a decoder is where the previous decoder's range
ended (the sum of every earlier decoder's `skip + size / ways`), as QEMU `cxl_type3_dpa` accumulates it.
QEMU implements only the power-of-two branch; the 3/6/12-way branch is here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ...errors import ConfigError

# CXL interleave-ways encodings (QEMU `cxl_interleave_ways_dec`; 0xA for 12 ways is [spec-recall] there).
WAYS_TO_EIW = {1: 0, 2: 1, 4: 2, 8: 3, 16: 4, 3: 8, 6: 9, 12: 10}
EIW_TO_WAYS = {eiw: ways for ways, eiw in WAYS_TO_EIW.items()}
# Granularity = 256 << IG with IG 0..6: 256 B .. 16 KiB.
GRANULARITIES = tuple(256 << eig for eig in range(7))
# Decoder BASE/SIZE registers hold address bits [51:28]: 256 MiB units (the DPA skip register too).
HDM_ALIGN = 256 << 20
ADDR_BITS = 52


def _bits(value: int, hi: int, lo: int) -> int:
    """value[hi:lo], left in place (not shifted down)."""
    return value & (((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1)) if hi >= lo else 0


def ways_to_eiw(ways: int) -> int:
    if ways not in WAYS_TO_EIW:
        raise ConfigError(f"HDM decoder: interleave ways {ways} is not one of 1, 2, 4, 8, 16, 3, 6, 12")
    return WAYS_TO_EIW[ways]


def granularity_to_eig(granularity: int) -> int:
    if granularity not in GRANULARITIES:
        raise ConfigError(
            f"HDM decoder: interleave granularity {granularity} is not a power of two from 256 to 16384 bytes"
        )
    return GRANULARITIES.index(granularity)


def hpa_offset_to_dpa_offset(hpa_off: int, eiw: int, eig: int) -> int:
    """The device decode of §1.11 (an offset into the decoder's HPA window → an offset into its DPA range)."""
    low = _bits(hpa_off, eig + 7, 0)
    if eiw < 8:
        return (_bits(hpa_off, ADDR_BITS - 1, eig + 8 + eiw) >> eiw) | low
    upper = _bits(hpa_off, ADDR_BITS - 1, eig + eiw) >> (eig + eiw)
    return ((upper // 3) << (eig + 8)) | low


def dpa_offset_to_hpa_offset(dpa_off: int, pos: int, eiw: int, eig: int) -> int:
    """The inverse decode of §1.11 for the device at interleave position `pos`."""
    low = _bits(dpa_off, eig + 7, 0)
    if eiw < 8:
        return (_bits(dpa_off, ADDR_BITS - 1, eig + 8) << eiw) | (pos << (eig + 8)) | low
    return ((((dpa_off >> (eig + 8)) * 3) << (eiw - 8)) + pos) << (eig + 8) | low


def position_of(hpa_off: int, eiw: int, eig: int) -> int:
    """Which interleave position an HPA offset belongs to.

    Power of two: the IW bits just above the granule offset. 3/6/12 ways: those IW-8 bits plus the granule
    index above them modulo 3 (the inverse formula places granule g of position p at HPA granule
    ways * g + p, so the position is the HPA granule index modulo the ways)."""
    granule = hpa_off >> (eig + 8)
    if eiw < 8:
        return granule & ((1 << eiw) - 1)
    low_bits = eiw - 8
    return ((granule >> low_bits) % 3) << low_bits | (granule & ((1 << low_bits) - 1))


@dataclass(frozen=True)
class HDMDecoder:
    """One committed HDM decoder of a Type-3 device.

    `hpa_base`/`size` describe the whole interleaved HPA window (all ways); this device decodes the granules
    of `position` and backs them with `size / ways` bytes of DPA starting at `dpa_base + dpa_skip`.
    """

    hpa_base: int
    size: int
    ways: int = 1
    granularity: int = 256
    position: int = 0
    dpa_base: int = 0
    dpa_skip: int = 0
    eiw: int = field(init=False)
    eig: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "eiw", ways_to_eiw(self.ways))
        object.__setattr__(self, "eig", granularity_to_eig(self.granularity))
        if not 0 <= self.position < self.ways:
            raise ConfigError(
                f"HDM decoder: position {self.position} is outside 0..{self.ways - 1} for {self.ways} ways"
            )
        if self.hpa_base < 0 or self.hpa_base % HDM_ALIGN:
            raise ConfigError(f"HDM decoder: HPA base {self.hpa_base:#x} is not a multiple of 256 MiB")
        # Linux alloc_hpa() insists on this, so each device's share is whole 256 MiB units.
        if self.size <= 0 or self.size % (HDM_ALIGN * self.ways):
            raise ConfigError(
                f"HDM decoder: size {self.size:#x} is not a positive multiple of {self.ways} ways x 256 MiB"
            )
        if self.hpa_base + self.size > 1 << ADDR_BITS:
            raise ConfigError(f"HDM decoder: HPA window ends at {self.hpa_base + self.size:#x}, beyond 52 bits")
        for what, value in (("DPA base", self.dpa_base), ("DPA skip", self.dpa_skip)):
            if value < 0 or value % HDM_ALIGN:
                raise ConfigError(f"HDM decoder: {what} {value:#x} is not a non-negative multiple of 256 MiB")

    # --- geometry ----------------------------------------------------------------------------------------
    @property
    def hpa_end(self) -> int:
        return self.hpa_base + self.size

    @property
    def dpa_size(self) -> int:
        """DPA bytes this decoder consumes on the device."""
        return self.size // self.ways

    @property
    def dpa_start(self) -> int:
        return self.dpa_base + self.dpa_skip

    @property
    def dpa_end(self) -> int:
        return self.dpa_start + self.dpa_size

    @property
    def ctrl(self) -> int:
        """The decoder CTRL register as committed: IG [3:0], IW [7:4], Commit bit 9, Committed bit 10."""
        return self.eig | self.eiw << 4 | 1 << 9 | 1 << 10

    def contains_hpa(self, hpa: int) -> bool:
        return self.hpa_base <= hpa < self.hpa_end

    def contains_dpa(self, dpa: int) -> bool:
        return self.dpa_start <= dpa < self.dpa_end

    def position_of(self, hpa: int) -> int:
        self._check_hpa(hpa)
        return position_of(hpa - self.hpa_base, self.eiw, self.eig)

    # --- translation ---------------------------------------------------------------------------------------
    def hpa_to_dpa(self, hpa: int) -> int:
        self._check_hpa(hpa)
        hpa_off = hpa - self.hpa_base
        pos = position_of(hpa_off, self.eiw, self.eig)
        if pos != self.position:
            raise ConfigError(
                f"HDM decoder: HPA {hpa:#x} belongs to interleave position {pos}, not this device's {self.position}"
            )
        return self.dpa_start + hpa_offset_to_dpa_offset(hpa_off, self.eiw, self.eig)

    def dpa_to_hpa(self, dpa: int) -> int:
        if not self.contains_dpa(dpa):
            raise ConfigError(
                f"HDM decoder: DPA {dpa:#x} is outside the decoded range [{self.dpa_start:#x}, {self.dpa_end:#x})"
            )
        return self.hpa_base + dpa_offset_to_hpa_offset(dpa - self.dpa_start, self.position, self.eiw, self.eig)

    def _check_hpa(self, hpa: int) -> None:
        if not self.contains_hpa(hpa):
            raise ConfigError(
                f"HDM decoder: HPA {hpa:#x} is outside the window [{self.hpa_base:#x}, {self.hpa_end:#x})"
            )


class HDMRegion:
    """One HPA window interleaved across `ways` devices: one decoder per position, all with the same window,
    ways and granularity. Pure address math; `type3.CXLRegion` attaches the devices."""

    def __init__(self, decoders: Sequence[HDMDecoder]) -> None:
        if not decoders:
            raise ConfigError("HDM region: needs at least one decoder")
        first = decoders[0]
        for d in decoders:
            if (d.hpa_base, d.size, d.ways, d.granularity) != (
                first.hpa_base,
                first.size,
                first.ways,
                first.granularity,
            ):
                raise ConfigError(
                    "HDM region: decoders disagree on the window: "
                    f"{d.hpa_base:#x}+{d.size:#x} {d.ways}-way {d.granularity} B vs "
                    f"{first.hpa_base:#x}+{first.size:#x} {first.ways}-way {first.granularity} B"
                )
        positions = sorted(d.position for d in decoders)
        if positions != list(range(first.ways)):
            raise ConfigError(
                f"HDM region: a {first.ways}-way region needs positions 0..{first.ways - 1}, got {positions}"
            )
        self.decoders = tuple(sorted(decoders, key=lambda d: d.position))
        self.hpa_base, self.size = first.hpa_base, first.size
        self.ways, self.granularity = first.ways, first.granularity
        self.eiw, self.eig = first.eiw, first.eig

    def locate(self, hpa: int) -> tuple[int, int]:
        """HPA → (interleave position, DPA on that position's device)."""
        d = self.decoders[0]
        d._check_hpa(hpa)
        hpa_off = hpa - self.hpa_base
        pos = position_of(hpa_off, self.eiw, self.eig)
        return pos, self.decoders[pos].dpa_start + hpa_offset_to_dpa_offset(hpa_off, self.eiw, self.eig)

    def hpa(self, position: int, dpa: int) -> int:
        """(interleave position, DPA) → HPA."""
        if not 0 <= position < self.ways:
            raise ConfigError(f"HDM region: position {position} is outside 0..{self.ways - 1}")
        return self.decoders[position].dpa_to_hpa(dpa)
