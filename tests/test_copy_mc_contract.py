"""The memcpy_mc contract, on the model, for every length/alignment/poisoned-line combination the issue names.

For each case the poisoned line is one the copy touches. Checked: 0 < ret <= n; ret >= the destination
bytes not written; ret equals the closed form of kernel-copy-mc.md §1.4 (the count at the start of the
phase that faulted); the destination equals the source on the written prefix and is untouched after it;
no byte outside [src, src+n) is read. Without poison, memcpy and memcpy_mc give the same bytes, and
memcpy_mc returns 0.
"""

from __future__ import annotations

import pytest

import rasplat
from rasplat.memory import RAM

WINDOW = 0xC000_0000  # a watched RAM region just above the default DRAM
WINDOW_SIZE = 1 << 16
SRC_BASE, DST_BASE = WINDOW + 0x1000, WINDOW + 0x6000
LENGTHS = [*range(0, 301), *range(1024, 1031), 4096]


class WatchedRAM(RAM):
    """RAM that records the extent of every load (the test's eyes on out-of-range reads)."""

    def __init__(self, size: int) -> None:
        super().__init__(size, name="watched")
        self.lo = self.hi = None

    def load(self, off: int, size: int) -> int:
        value = super().load(off, size)
        if self.lo is None or off < self.lo:
            self.lo = off
        if self.hi is None or off + size > self.hi:
            self.hi = off + size
        return value


@pytest.fixture(scope="module")
def rig():
    plat = rasplat.Platform.default()
    ram = WatchedRAM(WINDOW_SIZE)
    plat.bus.map("watched", WINDOW, WINDOW_SIZE, ram)
    pattern = bytes((i * 13 + 7) & 0xFF for i in range(0x5000))
    plat.bus.write(SRC_BASE, pattern)
    return plat, ram, pattern


def closed_form(n: int, src: int, dst: int, first_bad: int) -> int:
    """a2 when the first load touching byte `first_bad` (offset into the copy) faults (reference §1.4)."""
    if n < 128 or (src ^ dst) & 7:
        return n
    lead = (-src) & 7
    if first_bad < lead:
        return n
    if first_bad < lead + ((n - lead) & ~127):
        return n - lead
    return (n - lead) & 127


def copy(plat, ram, fn: str, dst: int, src: int, n: int, fill: bytes) -> tuple[int, bytes]:
    plat.bus.write(dst, fill)
    ram.lo = ram.hi = None
    ret = plat.kernel.call(fn, dst, src, n)
    if ram.lo is not None:
        assert src - WINDOW <= ram.lo and ram.hi <= src - WINDOW + n, (
            f"{fn} read [{ram.lo + WINDOW:#x}, {ram.hi + WINDOW:#x}) outside [{src:#x}, {src + n:#x})"
        )
    return ret, plat.bus.peek(dst, n)


@pytest.mark.parametrize("n", LENGTHS)
def test_memcpy_mc_contract(rig, n: int) -> None:
    plat, ram, pattern = rig
    for sa in range(8):
        for da in range(8):
            src, dst = SRC_BASE + sa, DST_BASE + da
            expect = pattern[0x0 + sa : sa + n]
            fill = bytes(b ^ 0xFF for b in expect)  # differs from the source at every byte
            ret, got = copy(plat, ram, "__memcpy_mc", dst, src, n, fill)
            assert ret == 0 and got == expect, f"clean copy n={n} src%8={sa} dst%8={da}: ret={ret}"
            ret_plain, got_plain = copy(plat, ram, "__memcpy", dst, src, n, fill)
            assert ret_plain == dst and got_plain == got, f"memcpy differs from memcpy_mc: n={n} {sa}/{da}"
            if n == 0:
                continue
            for line in range(src & ~63, src + n, 64):
                plat.inject("poison", addr=line)
                try:
                    ret, got = copy(plat, ram, "__memcpy_mc", dst, src, n, fill)
                finally:
                    plat.clear_poison(line)
                where = f"n={n} src%8={sa} dst%8={da} poisoned line src{line - src:+d}"
                written = next((i for i in range(n) if got[i] != expect[i]), n)
                assert 0 < ret <= n, f"{where}: ret={ret}"
                assert got[written:] == fill[written:], f"{where}: destination touched after byte {written}"
                assert ret >= n - written, f"{where}: ret={ret} under-reports ({n - written} not written)"
                first_bad = max(line - src, 0)
                assert ret == closed_form(n, src, dst, first_bad), f"{where}: ret={ret}"
