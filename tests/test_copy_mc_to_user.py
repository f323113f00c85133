"""copy_mc_to_user on the hart: __asm_copy_to_user into a task's pages, in the task's address space with SUM.
The x86 COPY_MC_TEST check: the return is the exact count of bytes not written, the prefix is copied and the
suffix untouched - for a poisoned source line at every position of a 512-byte copy, and for a user
destination that runs into an unmapped page."""

from __future__ import annotations

import pytest

import rasplat
from rasplat.kernel.copy_mc import copy_mc_to_user

SRC = 0x8800_0000  # a kernel buffer
UVA = 0x2000_0000  # the task's buffer: two pages, the page after them unmapped
N = 512
PATTERN = bytes((i * 11 + 5) & 0xFF for i in range(8192))


@pytest.fixture(scope="module")
def rig():
    plat = rasplat.Platform.default()
    task = plat.kernel.mm.spawn("reader", "user_spin", 1, 1)
    pages = plat.kernel.mm.map_anon(task, UVA, 2 * 4096, "rw")
    plat.bus.write(SRC, PATTERN)
    return plat, task, pages


def user_bytes(plat, pages, off: int, n: int) -> bytes:
    data = plat.bus.peek(pages[0].phys, 4096) + plat.bus.peek(pages[1].phys, 4096)
    return data[off : off + n]


@pytest.mark.parametrize("src_off", range(0, 8))
@pytest.mark.parametrize("dst_off", range(0, 8))
def test_exact_count_for_every_poisoned_line(rig, src_off: int, dst_off: int) -> None:
    plat, task, pages = rig
    src = SRC + 0x1000 + src_off
    for line in range(src & ~63, src + N, 64):
        plat.bus.write(pages[0].phys, b"\xee" * 4096)
        plat.inject("poison", addr=line)
        try:
            ret = copy_mc_to_user(plat.kernel, task, UVA + 0x100 + dst_off, src, N)
        finally:
            plat.clear_poison(line)
        written = N - ret
        assert 0 < ret <= N
        assert written == max(0, line - src), "exact: everything before the poisoned line, nothing after"
        got = user_bytes(plat, pages, 0x100 + dst_off, N)
        assert got[:written] == PATTERN[0x1000 + src_off : 0x1000 + src_off + written], "prefix copied"
        assert got[written:] == b"\xee" * ret, "suffix untouched"


def test_exact_when_the_byte_before_the_line_is_last_copied(rig) -> None:
    """Co-aligned copies go by doublewords, so the count is exact to the byte at a line boundary."""
    plat, task, pages = rig
    plat.inject("poison", addr=SRC + 0x1000 + 200)  # line 0x10c0: 192 bytes are copied first
    try:
        assert copy_mc_to_user(plat.kernel, task, UVA, SRC + 0x1000, N) == N - 192
    finally:
        plat.clear_poison(SRC + 0x1000 + 200)


@pytest.mark.parametrize("start", [2 * 4096 - 511, 2 * 4096 - 100, 2 * 4096 - 1])
def test_unmapped_user_page_is_a_short_copy(rig, start: int) -> None:
    plat, task, pages = rig
    ret = copy_mc_to_user(plat.kernel, task, UVA + start, SRC, N)
    assert ret == N - (2 * 4096 - start), "everything up to the unmapped page was written"
    assert user_bytes(plat, pages, start, 2 * 4096 - start) == PATTERN[: 2 * 4096 - start]
    assert plat.events.of_kind("fixup")[-1]["cause"] == 15, "a store page fault, fixed up"
