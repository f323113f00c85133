"""DRAM ECC codecs: a Hsiao SECDED (72,64) and an x4 single-symbol-correct (chipkill-like) (144,128) code.

Codeword bit numbering (both codecs): bits 0..k-1 are the data bits d0..d(k-1), bits k..n-1 are the check bits
p0..p(r-1), i.e. the codeword is `data | check << k`. A `Decoded.bit` uses that numbering, so for SECDED
0-63 name data bits and 64-71 name check bits p0-p7.

## hsiao-72-64 (the default)

Each codeword bit j has an 8-bit column h_j of the parity-check matrix H; check bit p_i = XOR of the data bits
whose column has bit i set, and the syndrome of a read word is the XOR of the columns of its set bits (for a
written word that is 0). Columns, reproducible from this rule alone:

- d0..d55: the 56 weight-3 bytes (all C(8,3)) in increasing numeric order: 0x07, 0x0b, 0x0d, 0x0e, 0x13, ...
  0xe0;
- d56..d63: the 8 cyclic rotations of 0x1f to the left by 0..7: 0x1f, 0x3e, 0x7c, 0xf8, 0xf1, 0xe3, 0xc7, 0x8f;
- p0..p7 (bits 64-71): the unit vectors 0x01, 0x02, ... 0x80.

Every column has odd weight and all are distinct (Hsiao's condition: a single error gives an odd syndrome equal
to its column, a double error an even non-zero one). The rotations are chosen so that each row of the data part
has exactly 26 ones (21 from the weight-3 columns + 5), Hsiao's balanced-row criterion. `HSIAO_72_64_COLUMNS`
holds the 64 data columns. Decoding: syndrome 0 → clean; equal to column j → corrected bit j; anything else
(even, or one of the 56 odd patterns no column uses) → uncorrectable. With this matrix, of the 59,640
triple-bit errors 33,568 produce a syndrome equal to some column and are silently miscorrected as a single-bit
error at a third location; 26,072 are detected (tests/test_ecc.py asserts these numbers). The decoder cannot
tell a miscorrection from a real CE; it reports what the syndrome says. (The same column *set* in another bit
order gives the same statistics; OpenTitan's generated Hsiao matrix, for comparison, miscorrects 33,588.)

## x4-ssc-dsd-144-128

Two 64-bit words in lockstep (128 data bits, 16 check bits) as 36 four-bit symbols: symbol s is codeword bits
4s..4s+3, one x4 DRAM device. Symbols are elements of GF(16) (x^4 + x + 1); H has one column per symbol, a
vector h_s in GF(16)^4, and check symbol i (bits 128+4i..128+4i+3) = sum over data symbols of d_s * h_s[i]. An
error e != 0 in symbol s gives the syndrome e * h_s. Columns:

- check symbols 32..35: the unit vectors;
- data symbols 0..31: scan v = 1 .. 0xffff as vectors (coordinate i = nibble i of v), keep only normalised
  vectors (first non-zero coordinate = 1), and take, in that order, each one that lies on no line through two
  columns already chosen (unit vectors first). The result is a cap: no three columns are linearly dependent.

Because no two columns are proportional, every single-symbol error (1-4 bits inside one device) is corrected;
because no three are dependent, every double-symbol error is detected (SSC-DSD). Decoding is one dictionary
lookup of the 16-bit syndrome among the 36 * 15 correctable ones.

## Plugins

`register_codec(name, factory)` adds a codec; `get_codec(name)` builds one. A codec is anything with the
`Codec` protocol's attributes. `Secded(name, data_columns)` builds a SECDED codec from any column set that
corrects singles and detects doubles (checked at construction).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Protocol

from .errors import ConfigError

CLEAN = "clean"
CORRECTED = "corrected"
UNCORRECTABLE = "uncorrectable"


@dataclass(frozen=True, slots=True)
class Decoded:
    """What the decoder made of a read word.

    `data` is the corrected data (for uncorrectable words: the data bits as read). `bit` is the codeword bit the
    decoder flipped (None unless exactly one bit was flipped). `symbol` is the corrected symbol for symbol codes.
    `mask` is every codeword bit the decoder flipped (0 when clean or uncorrectable)."""

    status: str
    data: int
    bit: int | None
    syndrome: int
    symbol: int | None = None
    mask: int = 0


class Codec(Protocol):
    """An ECC codec over one memory word: `data_bits` of data, `check_bits` of check bits."""

    name: str
    data_bits: int
    check_bits: int
    symbol_bits: int  # 1 for bit codes, 4 for x4 symbol codes

    def encode(self, data: int) -> int: ...
    def syndrome(self, data: int, check: int) -> int: ...
    def decode(self, data: int, check: int) -> Decoded: ...


def _byte_tables(columns: Sequence[int]) -> list[list[int]]:
    """Per data byte k, a 256-entry table: XOR of the columns of the bits set in that byte."""
    tables = []
    for k in range(0, len(columns), 8):
        cols = columns[k : k + 8]
        table = [0] * 256
        for value in range(1, 256):
            low = value & -value  # table[value] = table[value without its lowest bit] ^ that bit's column
            table[value] = table[value ^ low] ^ cols[low.bit_length() - 1]
        tables.append(table)
    return tables


class _LinearCode:
    """A linear code whose check bits are the XOR of per-data-byte tables (`_tables`, one per byte)."""

    _tables: list[list[int]]

    def encode(self, data: int) -> int:
        check = 0
        for table in self._tables:
            check ^= table[data & 0xFF]
            data >>= 8
        return check

    def syndrome(self, data: int, check: int) -> int:
        return self.encode(data) ^ check


class Secded(_LinearCode):
    """A systematic SECDED code given by the H columns of its data bits; check-bit columns are unit vectors."""

    symbol_bits = 1

    def __init__(self, name: str, data_columns: Sequence[int], check_bits: int = 8) -> None:
        self.name = name
        self.data_bits = len(data_columns)
        self.check_bits = check_bits
        if self.data_bits % 8:
            raise ConfigError(f"codec {name!r}: data width {self.data_bits} is not a whole number of bytes")
        columns = [*data_columns, *(1 << i for i in range(check_bits))]
        self.columns: tuple[int, ...] = tuple(columns)
        self._check_columns(columns)
        self._tables = _byte_tables(list(data_columns))
        # syndrome -> codeword bit; every other non-zero syndrome is uncorrectable
        self._bit_of: dict[int, int] = {c: j for j, c in enumerate(columns)}

    def _check_columns(self, columns: list[int]) -> None:
        limit = 1 << self.check_bits
        for j, c in enumerate(columns):
            if not 0 < c < limit:
                raise ConfigError(f"codec {self.name!r}: column of bit {j} is {c:#x}, outside 1..{limit - 1:#x}")
        if len(set(columns)) != len(columns):
            raise ConfigError(f"codec {self.name!r}: two bits share an H column, single errors are ambiguous")
        colset = set(columns)
        for a, b in combinations(columns, 2):
            if a ^ b in colset:
                raise ConfigError(
                    f"codec {self.name!r}: columns {a:#x} ^ {b:#x} equal a column, a double error would miscorrect"
                )

    def decode(self, data: int, check: int) -> Decoded:
        s = self.encode(data) ^ check
        if not s:
            return Decoded(CLEAN, data, None, 0)
        bit = self._bit_of.get(s)
        if bit is None:
            return Decoded(UNCORRECTABLE, data, None, s)
        if bit < self.data_bits:
            data ^= 1 << bit
        return Decoded(CORRECTED, data, bit, s, mask=1 << bit)


def _rotl8(value: int, n: int) -> int:
    return ((value << n) | (value >> (8 - n))) & 0xFF


HSIAO_72_64_COLUMNS: tuple[int, ...] = (
    *(c for c in range(256) if c.bit_count() == 3),
    *(_rotl8(0x1F, n) for n in range(8)),
)


class HsiaoSecded72(Secded):
    """The (72,64) Hsiao SECDED of the module docstring."""

    def __init__(self) -> None:
        super().__init__("hsiao-72-64", HSIAO_72_64_COLUMNS)


# --- GF(16) and the x4 symbol code ---------------------------------------------------------------------------
_GF_POLY = 0b1_0011  # x^4 + x + 1, primitive
_EXP = [0] * 30
_LOG = [0] * 16
_x = 1
for _i in range(15):
    _EXP[_i] = _EXP[_i + 15] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x10:
        _x ^= _GF_POLY
del _x, _i


def gf16_mul(a: int, b: int) -> int:
    return 0 if not a or not b else _EXP[_LOG[a] + _LOG[b]]


def _gf16_inv(a: int) -> int:
    return _EXP[(15 - _LOG[a]) % 15]


def _vscale(k: int, v: int) -> int:
    """k * v for v in GF(16)^4 packed as four nibbles."""
    return sum(gf16_mul(k, (v >> (4 * i)) & 0xF) << (4 * i) for i in range(4))


def _normalise(v: int) -> int:
    """The multiple of v whose first non-zero coordinate (lowest nibble first) is 1."""
    for i in range(4):
        c = (v >> (4 * i)) & 0xF
        if c:
            return _vscale(_gf16_inv(c), v)
    return 0


def _x4_cap(data_symbols: int = 32) -> tuple[int, ...]:
    """Data-symbol columns of the x4 code, by the greedy cap rule of the module docstring."""
    chosen: list[int] = []
    blocked: set[int] = set()

    def add(p: int) -> None:
        for q in chosen:  # every point of the line through p and q
            blocked.update(_normalise(p ^ _vscale(lam, q)) for lam in range(16))
        chosen.append(p)
        blocked.add(p)

    for unit in range(4):
        add(1 << (4 * unit))
    data: list[int] = []
    for v in range(1, 1 << 16):
        if len(data) == data_symbols:
            break
        if _normalise(v) == v and v not in blocked:
            add(v)
            data.append(v)
    return tuple(data)


class X4SymbolCode(_LinearCode):
    """x4-ssc-dsd-144-128: corrects any error inside one x4 device, detects any error in two (module docstring)."""

    name = "x4-ssc-dsd-144-128"
    data_bits = 128
    check_bits = 16
    symbol_bits = 4

    def __init__(self) -> None:
        self.data_columns = _x4_cap(self.data_bits // 4)
        # check contribution of data byte k (symbols 2k, 2k+1) for each byte value
        cols = self.data_columns
        self._tables = [
            [_vscale(b & 0xF, cols[2 * k]) ^ _vscale(b >> 4, cols[2 * k + 1]) for b in range(256)]
            for k in range(self.data_bits // 8)
        ]
        columns = [*self.data_columns, *(1 << (4 * i) for i in range(4))]
        # syndrome e * h_s -> (symbol s, error value e)
        self._fix: dict[int, tuple[int, int]] = {
            _vscale(e, h): (s, e) for s, h in enumerate(columns) for e in range(1, 16)
        }
        if len(self._fix) != len(columns) * 15:
            raise ConfigError(f"codec {self.name!r}: two symbols share a syndrome")  # the cap rule prevents this

    def decode(self, data: int, check: int) -> Decoded:
        s = self.encode(data) ^ check
        if not s:
            return Decoded(CLEAN, data, None, 0)
        fix = self._fix.get(s)
        if fix is None:
            return Decoded(UNCORRECTABLE, data, None, s)
        symbol, e = fix
        mask = e << (4 * symbol)
        if symbol < self.data_bits // 4:
            data ^= mask
        bit = mask.bit_length() - 1 if e.bit_count() == 1 else None
        return Decoded(CORRECTED, data, bit, s, symbol=symbol, mask=mask)


# --- registry -----------------------------------------------------------------------------------------------
_CODECS: dict[str, Callable[[], Codec]] = {}
_BUILT: dict[str, Codec] = {}


def register_codec(name: str, factory: Callable[[], Codec], *, replace: bool = False) -> None:
    """Make `get_codec(name)` build codecs with `factory()` (plugins supply their own codes this way)."""
    if name in _CODECS and not replace:
        raise ConfigError(f"ecc: codec {name!r} is already registered (pass replace=True to override it)")
    _CODECS[name] = factory
    _BUILT.pop(name, None)


def get_codec(name: str) -> Codec:
    """The codec registered as `name` (built once, then shared: codecs hold only constant tables)."""
    codec = _BUILT.get(name)
    if codec is None:
        factory = _CODECS.get(name)
        if factory is None:
            raise ConfigError(f"ecc: unknown codec {name!r} (registered: {', '.join(sorted(_CODECS))})")
        codec = factory()
        for attr in ("name", "data_bits", "check_bits", "symbol_bits", "encode", "syndrome", "decode"):
            if not hasattr(codec, attr):
                raise ConfigError(f"ecc: codec {name!r} (from {factory!r}) has no attribute {attr!r}")
        _BUILT[name] = codec
    return codec


def codec_names() -> list[str]:
    return sorted(_CODECS)


register_codec("hsiao-72-64", HsiaoSecded72)
register_codec("x4-ssc-dsd-144-128", X4SymbolCode)

_default = HsiaoSecded72()
_BUILT["hsiao-72-64"] = _default


def encode(data: int) -> int:
    """The 8 Hsiao (72,64) check bits of a 64-bit data word."""
    return _default.encode(data)


def syndrome(data: int, check: int) -> int:
    """The Hsiao (72,64) syndrome of a read word: 0 when data and check agree."""
    return _default.syndrome(data, check)


def decode(data: int, check: int) -> Decoded:
    """Decode a read 72-bit word with the Hsiao (72,64) code."""
    return _default.decode(data, check)
