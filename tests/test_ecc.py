"""The ECC codecs: Hsiao (72,64) SECDED exhaustively for singles, doubles and triples; the x4 symbol code."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

from rasplat import ConfigError, ecc

M64 = (1 << 64) - 1
PATTERNS = [0, M64, 0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA, 0x0123_4567_89AB_CDEF, 0x8000_0000_0000_0001]
PATTERNS += [random.Random(seed).getrandbits(64) for seed in range(4)]


def flip(data: int, check: int, bits: tuple[int, ...]) -> tuple[int, int]:
    """Invert codeword bits (0-63 data, 64-71 check)."""
    for b in bits:
        if b < 64:
            data ^= 1 << b
        else:
            check ^= 1 << (b - 64)
    return data, check


def test_columns_follow_the_documented_rule() -> None:
    weight3 = [sum(1 << i for i in c) for c in combinations(range(8), 3)]
    rotations = [((0x1F << n) | (0x1F >> (8 - n))) & 0xFF for n in range(8)]
    assert ecc.HSIAO_72_64_COLUMNS == tuple(sorted(weight3)) + tuple(rotations)
    columns = ecc.get_codec("hsiao-72-64").columns
    assert columns[64:] == tuple(1 << i for i in range(8)), "check bits have unit columns"
    assert len(set(columns)) == 72 and all(c.bit_count() % 2 for c in columns), "Hsiao: distinct, odd weight"
    assert [sum(c >> row & 1 for c in columns[:64]) for row in range(8)] == [26] * 8, "balanced rows"


def test_encode_is_the_parity_of_each_row() -> None:
    columns = ecc.HSIAO_72_64_COLUMNS
    row_masks = [sum(1 << j for j, c in enumerate(columns) if c >> i & 1) for i in range(8)]
    for data in PATTERNS:
        expected = sum(((data & mask).bit_count() & 1) << i for i, mask in enumerate(row_masks))
        assert ecc.encode(data) == expected


@pytest.mark.parametrize("data", PATTERNS)
def test_clean_words_have_syndrome_zero(data: int) -> None:
    check = ecc.encode(data)
    assert ecc.syndrome(data, check) == 0
    assert ecc.decode(data, check) == ecc.Decoded("clean", data, None, 0)


@pytest.mark.parametrize("data", PATTERNS)
def test_every_single_flip_is_corrected_with_its_bit_and_syndrome(data: int) -> None:
    columns = ecc.get_codec("hsiao-72-64").columns
    check = ecc.encode(data)
    for bit in range(72):
        d = ecc.decode(*flip(data, check, (bit,)))
        assert (d.status, d.bit, d.data, d.syndrome, d.mask) == ("corrected", bit, data, columns[bit], 1 << bit)


def test_a_check_bit_error_returns_the_data_untouched() -> None:
    data = 0xDEAD_BEEF_0BAD_F00D
    d = ecc.decode(data, ecc.encode(data) ^ 0x20)  # p5 = codeword bit 69
    assert d.status == "corrected" and d.bit == 69 and d.data == data and d.syndrome == 0x20


@pytest.mark.parametrize("data", PATTERNS[:4])
def test_all_2556_double_flips_are_detected_never_miscorrected(data: int) -> None:
    check = ecc.encode(data)
    pairs = list(combinations(range(72), 2))
    assert len(pairs) == 2556
    for pair in pairs:
        d = ecc.decode(*flip(data, check, pair))
        assert d.status == "uncorrectable" and d.bit is None, pair
        assert d.syndrome and d.syndrome.bit_count() % 2 == 0, "a double error has an even, non-zero syndrome"


def test_triple_flips_with_this_matrix() -> None:
    """Triples are not all detected: 33,568 of 59,640 look like a single-bit error elsewhere and are
    miscorrected (data-independent: the code is linear)."""
    data = 0x0123_4567_89AB_CDEF
    check = ecc.encode(data)
    outcome = {"corrected": 0, "uncorrectable": 0}
    wrong_data = 0
    for triple in combinations(range(72), 3):
        d = ecc.decode(*flip(data, check, triple))
        outcome[d.status] += 1
        if d.status == "corrected":
            assert d.bit not in triple, "a miscorrection flips a fourth bit"
            wrong_data += d.data != data
    assert outcome == {"corrected": 33_568, "uncorrectable": 26_072}
    assert wrong_data == 33_568, "every miscorrection hands back wrong data as if it were corrected"


def test_x4_code_corrects_any_error_inside_one_device() -> None:
    codec = ecc.get_codec("x4-ssc-dsd-144-128")
    assert (codec.data_bits, codec.check_bits, codec.symbol_bits) == (128, 16, 4)
    rng = random.Random(7)
    for data in (0, (1 << 128) - 1, rng.getrandbits(128), rng.getrandbits(128)):
        check = codec.encode(data)
        assert codec.decode(data, check).status == "clean"
        word = data | check << 128
        for symbol in range(36):
            for e in range(1, 16):
                bad = word ^ e << (4 * symbol)
                d = codec.decode(bad & ((1 << 128) - 1), bad >> 128)
                assert (d.status, d.data, d.symbol, d.mask) == ("corrected", data, symbol, e << (4 * symbol))
                assert d.bit == ((4 * symbol + e.bit_length() - 1) if e.bit_count() == 1 else None)


def test_x4_code_detects_any_error_in_two_devices() -> None:
    codec = ecc.get_codec("x4-ssc-dsd-144-128")
    data = random.Random(3).getrandbits(128)
    word = data | codec.encode(data) << 128
    for a, b in combinations(range(36), 2):
        for e in range(1, 16):
            for f in range(1, 16):
                bad = word ^ e << (4 * a) ^ f << (4 * b)
                assert codec.decode(bad & ((1 << 128) - 1), bad >> 128).status == "uncorrectable", (a, b, e, f)


def test_codec_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ecc, "_CODECS", dict(ecc._CODECS))  # the codecs registered here go away afterwards
    monkeypatch.setattr(ecc, "_BUILT", dict(ecc._BUILT))
    assert {"hsiao-72-64", "x4-ssc-dsd-144-128"} <= set(ecc.codec_names())
    assert ecc.get_codec("hsiao-72-64") is ecc.get_codec("hsiao-72-64")
    with pytest.raises(ConfigError, match="unknown codec 'nope'.*hsiao-72-64"):
        ecc.get_codec("nope")
    with pytest.raises(ConfigError, match="already registered"):
        ecc.register_codec("hsiao-72-64", ecc.HsiaoSecded72)
    # a plugin's own SECDED: the same columns in reverse data order
    ecc.register_codec("test-reversed", lambda: ecc.Secded("test-reversed", ecc.HSIAO_72_64_COLUMNS[::-1]))
    codec = ecc.get_codec("test-reversed")
    d = codec.decode(5, codec.encode(5) ^ ecc.HSIAO_72_64_COLUMNS[0])  # column of d0 is now d63's
    assert (d.status, d.bit, d.data) == ("corrected", 63, 5 ^ 1 << 63)
    ecc.register_codec("test-broken", object)
    with pytest.raises(ConfigError, match="'test-broken'.*no attribute 'name'"):
        ecc.get_codec("test-broken")


def test_secded_rejects_columns_that_cannot_correct_or_detect() -> None:
    with pytest.raises(ConfigError, match="share an H column"):
        ecc.Secded("dup", [0x07] * 2 + list(ecc.HSIAO_72_64_COLUMNS[2:]))
    with pytest.raises(ConfigError, match="double error would miscorrect"):
        ecc.Secded("even", [0x03] + list(ecc.HSIAO_72_64_COLUMNS[1:]))  # 0x03 = p0 ^ p1
