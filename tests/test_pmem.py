"""DAX persistent memory: durability across SIGKILL, media errors as 512-byte badblocks, the block, namespace and
DAX read/write paths of the kernel model, Address Range Scrub, Clear Error and ndctl-style error injection."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import rasplat
from rasplat import ConfigError, PoisonedRead
from rasplat.bus import HardwareError
from rasplat.clock import Clock
from rasplat.devicetree.build import BuildContext, build, hart_ids, load_tree
from rasplat.events import EventLog
from rasplat.kernel import pmem as kp
from rasplat.memory.pmem import (
    ND_ARS_RETURN_PREV_DATA,
    NFIT_ARS_START_BUSY,
    NFIT_ARS_STATUS_BUSY,
    NFIT_ARS_STATUS_DONE,
    NFIT_ARS_STATUS_INTR,
    NFIT_ARS_STATUS_NONE,
    ArsRecord,
    Pmem,
    pmem_region,
    project_badblocks,
)
from rasplat.platform import default_devicetree_path
from rasplat.plugins import Plugins

BASE = 0x1_0000_0000  # free in Platform.default()
SIZE = 64 << 20
DRAM = 0x8800_0000  # kernel-side buffers
PATTERN = bytes((i * 7 + 1) & 0xFF for i in range(1 << 17))


class Rig:
    """The default platform with a pmem region at BASE, its namespace, and a sink recording RERI reports."""

    def __init__(self, path: Path | None = None, **kw: object) -> None:
        self.plat = rasplat.Platform.default()
        self.reports: list[dict] = []
        kw = {"name": "pmem0", "base": BASE, "events": self.plat.events, "clock": self.plat.clock,
              "error_sink": self.reports.append, **kw}  # fmt: skip
        self.pm = Pmem(SIZE, path, **kw)  # type: ignore[arg-type]
        self.plat.add_memory("pmem0", BASE, SIZE, self.pm)
        self.k = self.plat.kernel
        self.ns = kp.PmemNamespace.attach(self.k, "pmem0")

    def kinds(self, *kinds: str) -> list[dict]:
        return self.plat.events.of_kind(*kinds)

    def fill(self, off: int, data: bytes) -> None:
        """Media content written and persisted (what an earlier run left)."""
        self.pm.write_bytes(off, data)
        self.pm.persist(off, len(data))


@pytest.fixture
def rig() -> Rig:
    return Rig()


# --- badblocks ---------------------------------------------------------------------------------------------------
def test_badrange_projection_rounds_out_to_sectors() -> None:
    assert project_badblocks([(0x240, 64)], 0, SIZE) == [(1, 1)]  # one line, one sector
    assert project_badblocks([(0x1C0, 0x80)], 0, SIZE) == [(0, 2)]  # a range straddling a sector boundary
    assert project_badblocks([(0x400, 1)], 0, SIZE) == [(2, 1)]
    assert project_badblocks([(0x0, 64), (0x1C0, 64), (0x200, 512)], 0, SIZE) == [(0, 2)]  # merged runs
    # clamped to the window first, then rounded relative to the window's start (badblocks_populate)
    assert project_badblocks([(0x1000, 0x2000)], 0x2000, 0x800) == [(0, 4)]
    assert project_badblocks([(0x2F0, 0x20)], 0x100, 0x1000) == [(0, 2)]  # crosses the window's sector 0|1
    assert project_badblocks([(0x2F0, 0x20)], 0, 0x1000) == [(1, 1)]  # but not the region's
    assert project_badblocks([(0, 64)], 0x1000, 0x1000) == []


def test_one_poisoned_line_becomes_exactly_one_bad_sector_and_reads_fail(rig: Rig) -> None:
    rig.fill(0, PATTERN[:8192])
    line = 5 * 512 + 192
    rig.plat.inject("poison", addr=BASE + line)
    assert rig.ns.badblocks() == []  # latent: nobody knows yet
    assert kp.pmem_do_read(rig.k, rig.ns, 4, DRAM, 1024) == -kp.EIO  # sectors 4-5: consumed in the copy
    assert rig.ns.badblocks() == [(5, 1)]
    assert rig.pm.bad_ranges() == [(line, 64)]
    consume = rig.kinds("poison.consume")
    assert len(consume) == 1 and consume[0]["line"] == BASE + line and consume[0]["sector"] == 5
    assert rig.reports == []  # the consumption is the trap's poison.consume event: the RAS router logs it
    assert rig.kinds("pmem.badblocks")[-1]["badblocks"] == [[5, 1]]
    # neighbours are fine; the sector itself now fails without a copy
    assert kp.pmem_do_read(rig.k, rig.ns, 4, DRAM, 512) == 0
    assert kp.pmem_do_read(rig.k, rig.ns, 6, DRAM, 512) == 0
    copies = len(rig.kinds("copy_mc"))
    assert kp.pmem_do_read(rig.k, rig.ns, 5, DRAM, 512) == -kp.EIO
    assert len(rig.kinds("copy_mc")) == copies and len(rig.kinds("poison.consume")) == 1


def test_known_bad_sector_fails_without_touching_media(rig: Rig) -> None:
    rig.plat.inject("pmem-badblock", addr=BASE + 3 * 512 + 64, length=64)
    assert rig.ns.badblocks() == [(3, 1)]
    rig.plat.bus.write(DRAM, b"\xaa" * 4096)
    before = len(rig.plat.events)
    assert kp.pmem_do_read(rig.k, rig.ns, 2, DRAM, 2048) == -kp.EIO
    new = [e["kind"] for e in list(rig.plat.events)[before:]]
    assert new == ["pmem.read"]  # no copy_mc, no trap, no consumption
    assert rig.kinds("pmem.read")[-1]["reason"] == "badblocks"
    assert rig.plat.bus.read(DRAM, 4096) == b"\xaa" * 4096
    with pytest.raises(PoisonedRead):
        rig.plat.bus.read(BASE + 3 * 512, 512)


def test_write_over_a_bad_sector_clears_it_and_the_data_reads_back(rig: Rig) -> None:
    rig.fill(0, PATTERN[:4096])
    rig.plat.inject("poison", addr=BASE + 7 * 512)
    assert kp.pmem_do_read(rig.k, rig.ns, 7, DRAM, 512) == -kp.EIO
    data = bytes(range(256)) * 2
    rig.plat.bus.write(DRAM + 0x1000, data)
    assert kp.pmem_do_write(rig.k, rig.ns, 7, DRAM + 0x1000, 512) == 0
    assert rig.ns.badblocks() == [] and rig.pm.media_errors() == [] and rig.pm.bad_ranges() == []
    # clear (which leaves zeros), then write
    steps = [e["kind"] for e in rig.kinds("pmem.persist", "pmem.clear")
             if e.get("offset") == 7 * 512 or e.get("address") == BASE + 7 * 512]  # fmt: skip
    assert steps == ["pmem.clear", "pmem.persist"]
    assert [e["kind"] for e in rig.kinds("pmem.clear_poison", "pmem.write")] == ["pmem.clear_poison", "pmem.write"]
    assert kp.pmem_do_read(rig.k, rig.ns, 7, DRAM + 0x2000, 512) == 0
    assert rig.plat.bus.read(DRAM + 0x2000, 512) == data
    assert rig.pm.durable_bytes(7 * 512, 512) == data  # memcpy_flushcache: durable at completion
    assert rig.pm.read_bytes(6 * 512, 512) == PATTERN[6 * 512 : 7 * 512]


def test_clear_error_refuses_ranges_not_aligned_to_clear_err_unit(rig: Rig) -> None:
    rig.plat.inject("poison", addr=BASE + 0x40)
    with pytest.raises(ConfigError, match=r"\[0x100000040, \+0x40\) refused.*clear_err_unit \(512 bytes\)"):
        rig.pm.clear_error(BASE + 0x40, 64)
    with pytest.raises(ConfigError, match=r"\[0x100000000, \+0x300\) refused"):
        rig.pm.clear_error(BASE, 0x300)
    with pytest.raises(ConfigError, match="outside the region"):
        rig.pm.clear_error(BASE + SIZE, 512)
    assert kp.nvdimm_clear_poison(rig.k, rig.ns, BASE + 0x40, 64) == -kp.ENXIO
    assert rig.pm.media_errors() == [(0x40, 64)]  # nothing was cleared
    assert rig.pm.clear_error(BASE, 512) == {"status": 0, "cleared": 512}
    assert rig.pm.media_errors() == []


def test_clear_err_unit_larger_than_a_sector_fails_sector_writes() -> None:
    rig = Rig(clear_err_unit=4096)
    assert rig.pm.ars_cap()["clear_err_unit"] == 4096
    rig.plat.inject("pmem-badblock", addr=BASE + 512)
    rig.plat.bus.write(DRAM, b"\x5a" * 4096)
    assert kp.pmem_do_write(rig.k, rig.ns, 1, DRAM, 512) == -kp.EIO  # -ENXIO from the clear: the I/O fails
    assert rig.kinds("pmem.clear_poison")[-1]["ret"] == -kp.ENXIO
    assert rig.ns.badblocks() == [(1, 1)] and rig.pm.read_bytes(512, 512) == bytes(512)  # and writes nothing
    assert kp.pmem_do_write(rig.k, rig.ns, 0, DRAM, 4096) == 0  # a whole unit clears
    assert rig.ns.badblocks() == [] and rig.pm.read_bytes(512, 512) == b"\x5a" * 512
    with pytest.raises(ConfigError, match="power of two"):
        Pmem(SIZE, clear_err_unit=96)


def test_clear_forgets_bad_ranges_by_trimming_and_splitting() -> None:
    pm = Pmem(1 << 20, clear_err_unit=256)
    pm.inject("pmem-badblock", 0, length=2048)
    assert pm.badblocks() == [(0, 4)]
    pm.clear_error(512, 256)  # the middle of the range: split in two
    assert pm.bad_ranges() == [(0, 512), (768, 1280)]
    assert pm.badblocks() == [(0, 4)]  # the sector keeps its other half
    pm.clear_error(768, 256)
    assert pm.badblocks() == [(0, 1), (2, 2)]
    assert pm.media_errors() == [(0, 512), (1024, 1024)]


def test_nsio_rw_bytes_reads_and_writes(rig: Rig) -> None:
    rig.fill(0, PATTERN[:8192])
    assert kp.nsio_rw_bytes(rig.k, rig.ns, 100, DRAM, 300, kp.READ) == 0
    assert rig.plat.bus.read(DRAM, 300) == PATTERN[100:400]
    rig.plat.inject("poison", addr=BASE + 0x1040)
    assert kp.nsio_rw_bytes(rig.k, rig.ns, 0x1010, DRAM, 0x100, kp.READ) == -kp.EIO  # latent: short copy
    assert rig.ns.badblocks() == [(8, 1)]
    assert kp.nsio_rw_bytes(rig.k, rig.ns, 0x1100, DRAM, 16, kp.READ) == -kp.EIO  # known now: no copy
    assert kp.nsio_rw_bytes(rig.k, rig.ns, SIZE - 8, DRAM, 16, kp.READ) == -kp.EFAULT
    rig.plat.bus.write(DRAM, b"\x11" * 512)
    assert kp.nsio_rw_bytes(rig.k, rig.ns, 0x1008, DRAM, 8, kp.WRITE) == -kp.EIO  # unaligned over a bad sector
    assert rig.ns.badblocks() == [(8, 1)] and rig.pm.read_bytes(0x1008, 8) == b"\x11" * 8  # written anyway
    assert kp.nsio_rw_bytes(rig.k, rig.ns, 0x1000, DRAM, 512, kp.WRITE) == 0  # aligned: cleared, then written
    assert rig.ns.badblocks() == []
    assert kp.nsio_rw_bytes(rig.k, rig.ns, 0x1000, DRAM + 0x1000, 512, kp.READ) == 0
    assert rig.plat.bus.read(DRAM + 0x1000, 512) == b"\x11" * 512


def test_namespaces_see_their_own_sectors(rig: Rig) -> None:
    ns1 = kp.PmemNamespace.attach(rig.k, BASE + 5, offset=0x100000, size=0x100000, name="pmem0.1")
    assert (ns1.base, ns1.size, ns1.backend) == (BASE + 0x100000, 0x100000, rig.pm)
    rig.plat.inject("pmem-badblock", addr=BASE + 0x100400, length=64)
    assert ns1.badblocks() == [(2, 1)] and rig.ns.badblocks() == [(0x802, 1)]
    assert kp.pmem_do_read(rig.k, ns1, 2, DRAM, 512) == -kp.EIO
    assert kp.pmem_do_read(rig.k, ns1, 3, DRAM, 512) == 0
    with pytest.raises(ConfigError, match="outside the 0x100000-byte namespace"):
        kp.pmem_do_read(rig.k, ns1, 0x800, DRAM, 512)
    with pytest.raises(ConfigError, match="0x88000000 is not a pmem region"):
        kp.PmemNamespace.attach(rig.k, DRAM)
    with pytest.raises(ConfigError, match="not a page-aligned range"):
        kp.PmemNamespace.attach(rig.k, "pmem0", offset=0x800)
    rig.plat.add_memory("stray", 0x2_0000_0000, 1 << 20, Pmem(1 << 20))
    with pytest.raises(ConfigError, match="believes it sits at 0x0 but is mapped at 0x200000000"):
        kp.PmemNamespace.attach(rig.k, "stray")


def test_stores_do_not_consume_poison_loads_do(rig: Rig) -> None:
    rig.plat.inject("poison", addr=BASE + 0x80)
    rig.pm.store(0x80, 8, 0x1234)  # no trap
    with pytest.raises(HardwareError):
        rig.pm.load(0x80, 8)
    assert rig.pm.load(0xC0, 8) == 0
    assert rig.pm.poisoned_lines(0, 0x200) == [0x80]


# --- DAX -----------------------------------------------------------------------------------------------------------
def _copy_ret(rig: Rig) -> int:
    copies = rig.kinds("copy_mc")
    assert len(copies) == 1, "one _copy_mc_to_iter step covers the whole mapped range"
    return copies[0]["ret"]


@pytest.mark.parametrize(
    ("pos", "dst", "bad"),
    [
        (0x10000, DRAM, 0x15040),  # aligned: memcpy_mc reports all 64 KiB not copied, whatever it stored
        (0x10003, DRAM + 3, 0x1FFC3),  # co-aligned with 5 lead bytes, the poison in the 123-byte tail
        (0x10003, DRAM + 3, 0x15000),  # the poison in the unrolled part: only the lead bytes count
    ],
)
def test_dax_read_of_64k_with_a_poisoned_line_returns_what_memcpy_mc_reports(
    rig: Rig, pos: int, dst: int, bad: int
) -> None:
    n = 64 << 10
    rig.fill(0, PATTERN)
    rig.plat.bus.write(DRAM, b"\xee" * (n + 8))
    rig.plat.inject("poison", addr=BASE + bad)
    ret = kp.dax_read(rig.k, rig.ns, pos, dst, n)
    not_copied = _copy_ret(rig)
    assert 0 < not_copied <= n
    copied = n - not_copied
    assert ret == (copied if copied else -kp.EFAULT)
    expected = {0x15040: -kp.EFAULT, 0x1FFC3: n - 123, 0x15000: 5}[bad]  # kernel-copy-mc.md §1.4 closed form
    assert ret == expected
    got = rig.plat.bus.read(dst, n)
    assert got[:copied] == PATTERN[pos : pos + copied]  # exactly the bytes reported, and they are right
    assert got[bad - pos :] == b"\xee" * (n - (bad - pos))  # nothing stored at or past the poisoned line
    line = bad & ~63
    assert rig.pm.bad_ranges() == [(line, 64)] and rig.ns.badblocks() == [(line >> 9, 1)]
    read = rig.kinds("pmem.read")[-1]
    assert (read["path"], read["offset"], read["length"], read["ret"]) == ("dax", pos, n, ret)

    # a later ARS finds the line and reports it
    assert rig.pm.ars_start()["status"] == 0
    assert rig.pm.ars_status().status == NFIT_ARS_STATUS_BUSY
    rig.plat.advance(1)
    status = rig.pm.ars_status()
    assert status.status == NFIT_ARS_STATUS_DONE and not status.overflow
    assert status.records == (ArsRecord(0, BASE + line, 64),)
    assert rig.kinds("pmem.ars")[-1]["records"] == [{"handle": 0, "err_address": BASE + line, "length": 64}]

    # the page is known bad now: direct access refuses it and a read(2) gets -EIO
    assert kp.dax_direct_access(rig.k, rig.ns, bad >> 12, 1) == -kp.EHWPOISON
    assert kp.dax_direct_access(rig.k, rig.ns, (bad >> 12) + 1, 1) == 1
    assert kp.dax_read(rig.k, rig.ns, bad & ~0xFFF, DRAM, 4096) == -kp.EIO


def test_dax_read_over_a_known_bad_block_fails_whole(rig: Rig) -> None:
    rig.fill(0, PATTERN[:0x8000])
    rig.plat.inject("pmem-badblock", addr=BASE + 0x5200)
    assert kp.dax_direct_access(rig.k, rig.ns, 0, 4) == 4  # bad blocks elsewhere: only what was asked
    assert kp.dax_direct_access(rig.k, rig.ns, 4, 2) == -kp.EHWPOISON
    # direct access is asked for the whole remaining range, so good pages before the bad one do not help
    assert kp.dax_read(rig.k, rig.ns, 0x3000, DRAM, 0x3000) == -kp.EIO
    assert rig.kinds("copy_mc") == []
    assert kp.dax_read(rig.k, rig.ns, 0x1000, DRAM, 0x4000) == 0x4000
    assert rig.plat.bus.read(DRAM, 0x4000) == PATTERN[0x1000:0x5000]
    it = kp.KvecIter([(DRAM + 0x10000, 0x800), (DRAM + 0x20000, 0x1600)])  # two kernel buffers
    assert kp.dax_iomap_rw(rig.k, rig.ns, 0x6100, it, kp.READ) == 0x1E00 and it.count == 0
    got = rig.plat.bus.read(DRAM + 0x10000, 0x800) + rig.plat.bus.read(DRAM + 0x20000, 0x1600)
    assert got == PATTERN[0x6100:0x7F00]
    rig.pm.clear_error(BASE + 0x5200, 512)
    assert kp.dax_direct_access(rig.k, rig.ns, 0, 4) == SIZE >> 12  # no bad blocks: to the end


def test_dax_recovery_write_needs_whole_pages(rig: Rig) -> None:
    rig.plat.inject("pmem-badblock", addr=BASE + 0x3000, length=64)
    rig.plat.bus.write(DRAM, b"\x77" * 0x2000)
    assert kp.dax_write(rig.k, rig.ns, 0x3000, DRAM, 512) == -kp.EFAULT  # not page-sized: nothing written
    assert rig.ns.badblocks() == [(0x18, 1)]
    assert kp.dax_write(rig.k, rig.ns, 0x2000, DRAM, 0x2000) == 0x2000  # a clean page, then a recovered one
    assert rig.ns.badblocks() == [] and rig.pm.media_errors() == []
    assert rig.pm.durable_bytes(0x2000, 0x2000) == b"\x77" * 0x2000
    assert [e["op"] for e in rig.kinds("pmem.dax")].count("recovery_write") == 2


# --- ARS ----------------------------------------------------------------------------------------------------------
def test_ars_capabilities_status_overflow_and_restart() -> None:
    events, clock, reports = EventLog(), Clock(), []
    pm = Pmem(1 << 20, base=BASE, events=events, clock=clock, max_ars_out=48 + 2 * 24, error_sink=reports.append,
              ars_bytes_per_s=1 << 20)  # fmt: skip
    assert pm.ars_cap() == {"address": BASE, "length": 1 << 20, "status": 2 << 16, "max_ars_out": 96,
                            "clear_err_unit": 512, "flags": 0}  # fmt: skip
    assert pm.ars_status().status == NFIT_ARS_STATUS_NONE
    for off in (0x1000, 0x1040, 0x3000, 0x8000, 0x9000):  # the first two are one record
        pm.inject("poison", off)
    assert pm.ars_start() == {"status": 0, "scrub_time": 1}
    assert pm.ars_start()["status"] == NFIT_ARS_START_BUSY
    assert pm.ars_status().status == NFIT_ARS_STATUS_BUSY
    clock.advance(0.5)
    assert pm.ars_status().status == NFIT_ARS_STATUS_BUSY
    clock.advance(0.5)
    st = pm.ars_status()
    assert st.status == NFIT_ARS_STATUS_INTR and st.overflow and st.state == "interrupted"
    assert st.records == (ArsRecord(0, BASE + 0x1000, 128), ArsRecord(0, BASE + 0x3000, 64))
    assert (st.restart_address, st.restart_length) == (BASE + 0x8000, (1 << 20) - 0x8000)
    assert st.out_length == 44 + 2 * 24 and st.as_dict()["num_records"] == 2
    assert pm.badblocks() == [(8, 1), (0x18, 1)]
    assert reports[0] == {"severity": "UED", "ec": 21, "addr": BASE + 0x1000, "ait": 1, "tt": 0, "scrub": True,
                          "grain": 64, "length": 128, "region": "pmem", "access": "scrub", "count": 1,
                          "source": "pmem.ars"}  # fmt: skip
    assert [(r["addr"], r["length"]) for r in reports] == [(BASE + 0x1000, 128), (BASE + 0x3000, 64)]

    assert pm.ars_start(st.restart_address, st.restart_length)["status"] == 0  # ars_continue
    clock.advance(1)
    st = pm.ars_status()
    assert st.status == NFIT_ARS_STATUS_DONE and not st.overflow
    assert st.records == (ArsRecord(0, BASE + 0x8000, 64), ArsRecord(0, BASE + 0x9000, 64))
    assert st.address == BASE + 0x8000 and (st.restart_address, st.restart_length) == (0, 0)
    assert pm.badblocks() == [(8, 1), (0x18, 1), (0x40, 1), (0x48, 1)]
    assert len(reports) == 4

    # a rescan reports the same errors and tells the sink nothing new
    pm.ars_start(BASE + 0x8000, 0x2000)
    clock.advance(1)
    assert len(pm.ars_status().records) == 2 and len(reports) == 4
    # previous data: the known ranges, at once, no scrub
    assert pm.ars_start(BASE, 0x4000, flags=ND_ARS_RETURN_PREV_DATA) == {"status": 0, "scrub_time": 0}
    assert pm.ars_status().records == (ArsRecord(0, BASE + 0x1000, 128), ArsRecord(0, BASE + 0x3000, 64))
    with pytest.raises(ConfigError, match="type 1 is not supported"):
        pm.ars_start(type=1)
    with pytest.raises(ConfigError, match=r"ARS of \[0x100100000, \+0x1\) is outside"):
        pm.ars_start(BASE + (1 << 20), 1)
    with pytest.raises(ConfigError, match="at least 72 bytes"):
        Pmem(1 << 20, max_ars_out=64)
    with pytest.raises(ConfigError, match="needs a clock"):
        Pmem(1 << 20).ars_start()


def test_kernel_ars_scrub_continues_after_overflow(rig: Rig) -> None:
    rig.pm.max_ars_out = 48 + 24
    lines = [0x10000, 0x20000, 0x30000, 0x40000]
    for off in lines:
        rig.plat.inject("poison", addr=BASE + off)
    records = kp.ars_scrub(rig.k, rig.ns)
    assert [r.err_address for r in records] == [BASE + off for off in lines]
    assert rig.ns.badblocks() == [(off >> 9, 1) for off in lines]
    starts = [e for e in rig.kinds("pmem.ars") if e["phase"] == "start"]
    assert [s["address"] for s in starts] == [BASE] + [BASE + off for off in lines[1:]]
    assert len(rig.reports) == 4 and {r["source"] for r in rig.reports} == {"pmem.ars"}


def test_a_crash_abandons_a_running_scrub() -> None:
    clock = Clock()
    pm = Pmem(1 << 20, clock=clock)
    pm.inject("poison", 0x2000)
    pm.ars_start()
    pm.crash()
    clock.advance(10)
    assert pm.ars_status().status == NFIT_ARS_STATUS_NONE and pm.bad_ranges() == []
    assert pm.media_errors() == [(0x2000, 64)]  # the media stays bad


# --- ndctl inject-error ---------------------------------------------------------------------------------------------
def test_inject_uninject_and_status_in_512_byte_blocks(rig: Rig) -> None:
    assert rig.pm.inject_error(10, 4) == {"block": 10, "count": 4, "notify": True}
    assert rig.pm.injected_errors() == [{"block": 10, "count": 4}]
    assert rig.ns.badblocks() == [(10, 4)]  # notified: the host knows at once
    assert rig.pm.media_errors() == [(10 * 512, 4 * 512)]
    assert rig.pm.uninject_error(11, 2) == {"block": 11, "count": 2, "uninjected": 2}
    assert rig.pm.injected_errors() == [{"block": 10, "count": 1}, {"block": 13, "count": 1}]
    assert rig.pm.media_errors() == [(10 * 512, 512), (13 * 512, 512)]
    assert rig.ns.badblocks() == [(10, 4)]  # uninject does not clear the kernel's badblocks; a write does
    rig.plat.bus.write(DRAM, b"\x42" * 2048)
    assert kp.pmem_do_write(rig.k, rig.ns, 10, DRAM, 2048) == 0
    assert rig.ns.badblocks() == [] and rig.pm.injected_errors() == [] and rig.pm.media_errors() == []

    rig.pm.inject_error(100, 1, notify=False)  # --no-notify: latent until found
    assert rig.ns.badblocks() == [] and rig.pm.injected_errors() == [{"block": 100, "count": 1}]
    assert [r.err_address for r in kp.ars_scrub(rig.k, rig.ns)] == [BASE + 100 * 512]
    assert rig.ns.badblocks() == [(100, 1)]
    with pytest.raises(ConfigError, match="outside"):
        rig.pm.inject_error(SIZE >> 9, 1)
    with pytest.raises(ConfigError, match="count > 0"):
        rig.pm.uninject_error(0, 0)
    ops = [(e["op"], e["block"]) for e in rig.kinds("pmem.inject_error")]
    assert ops == [("inject", 10), ("uninject", 11), ("inject", 100)]


def test_inject_kinds_through_the_platform(rig: Rig) -> None:
    ev = rig.plat.inject("pmem-badblock", addr=BASE + 0x1234, length=100)
    assert ev["line"] == BASE + 0x1200 and ev["lines"] == 3 and ev["sectors"] == [[9, 1]]
    ev = rig.plat.inject("pmem-badblock", addr=BASE + 0x4000, length=64, known=False)
    assert rig.ns.badblocks() == [(9, 1)]
    with pytest.raises(ConfigError, match="unknown parameter"):
        rig.plat.inject("pmem-badblock", addr=BASE, size=4)
    with pytest.raises(ConfigError, match="cannot inject 'bitflip'"):
        rig.plat.inject("bitflip", addr=BASE, bits=[1])
    assert rig.plat.clear_poison(BASE + 0x4000) is True
    assert rig.pm.media_errors() == [(0x1200, 192)]


# --- durability in one process ----------------------------------------------------------------------------------
@pytest.mark.parametrize("backing", ["file", "anonymous"])
def test_persist_and_crash(tmp_path: Path, backing: str) -> None:
    pm = Pmem(1 << 20, tmp_path / "pm.img" if backing == "file" else None)
    pm.write_bytes(0x100, b"A" * 0x2000)
    pm.store(0x4000, 8, 0x1122334455667788)
    assert pm.dirty_pages == 4 and pm.durable_bytes(0x100, 4) == bytes(4)
    assert pm.persist(0x1000, 0x100) == {"extents": 1, "bytes": 0x100}  # part of a page: it stays dirty
    assert pm.durable_bytes(0xFF0, 0x120) == bytes(0x10) + b"A" * 0x100 + bytes(0x10)
    assert pm.persist(0x1000, 0x100) == {"extents": 0, "bytes": 0}  # unchanged bytes are not rewritten
    assert pm.crash() == {"lost_pages": 4}
    assert pm.read_bytes(0xFF0, 0x120) == bytes(0x10) + b"A" * 0x100 + bytes(0x10)
    assert pm.load(0x4000, 8) == 0 and pm.dirty_pages == 0
    pm.store(0x4000, 8, 0x1122334455667788)
    pm.persist()
    pm.crash()
    assert pm.load(0x4000, 8) == 0x1122334455667788
    pm.close()
    assert pm.closed
    with pytest.raises(ConfigError, match="closed"):
        pm.read_bytes(0, 8)
    with pytest.raises(ConfigError, match="both off and size"):
        Pmem(1 << 20).persist(0)


def test_volatile_region_keeps_nothing() -> None:
    pm = Pmem(1 << 20, volatile=True)
    assert pm.load(0x1000, 8) == 0 and pm.resident_bytes == 0  # untouched pages cost nothing
    pm.write_bytes(0x1000, b"xyz")
    assert pm.persist() == {"extents": 0, "bytes": 0}
    pm.crash()
    assert pm.read_bytes(0x1000, 3) == bytes(3)
    assert pm.ars_cap()["status"] == 1 << 16  # volatile scrub type
    with pytest.raises(ConfigError, match="volatile region has no backing file"):
        Pmem(1 << 20, "x.img", volatile=True)


def test_the_backing_file_is_the_raw_image_and_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "pm.img"
    with Pmem(1 << 20, path) as pm:
        pm.write_bytes(0x10, b"hello")
        pm.persist()
        assert path.read_bytes()[0x10:0x15] == b"hello" and path.stat().st_size == 1 << 20
        with pytest.raises(ConfigError, match="in use by another pmem backend"):
            Pmem(1 << 20, path)
    with pytest.raises(ConfigError, match=r"pm.img: the backing file holds 0x100000 bytes, the region is 0x200000"):
        Pmem(2 << 20, path)
    with Pmem(1 << 20, path) as pm:
        assert pm.read_bytes(0x10, 5) == b"hello"


def test_fsync_mode_persists_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "pm.img"
    with Pmem(1 << 20, path, fsync=True) as pm:  # also survives a host crash: journal fsync, msync, dir fsync
        pm.write_bytes(0x2000, b"durable")
        assert pm.persist() == {"extents": 1, "bytes": 64}  # the one line that changed
        pm.inject_error(3)
        pm.clear_error(3 * 512, 512)
    with Pmem(1 << 20, path) as pm:
        assert pm.read_bytes(0x2000, 7) == b"durable" and pm.media_errors() == [] and pm.recovered["records"] == 0


def test_a_corrupt_error_state_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "pm.img"
    Pmem(1 << 20, path).inject("pmem-badblock", 0)
    errors = tmp_path / "pm.img.badblocks"
    state = json.loads(errors.read_text())
    assert state["badrange"] == [[0, 512]] and state["badblocks"] == [[0, 1]]
    state["badrange"] = [[0, 1 << 30]]
    errors.write_text(json.dumps(state))
    with pytest.raises(ConfigError, match=r"pm.img.badblocks: badrange: \[0, 1073741824\] is not"):
        Pmem(1 << 20, path)
    errors.write_text("{")
    with pytest.raises(ConfigError, match="cannot read the error state"):
        Pmem(1 << 20, path)


def test_badblocks_survive_a_platform_restart(tmp_path: Path) -> None:
    path = tmp_path / "pmem0.img"
    rig = Rig(path)
    rig.fill(0, PATTERN[:0x4000])
    rig.plat.inject("poison", addr=BASE + 0x2040)
    assert kp.pmem_do_read(rig.k, rig.ns, 0x10, DRAM, 512) == -kp.EIO  # consumed: learnt
    rig.plat.inject("pmem-badblock", addr=BASE + 0x400, length=1024)
    rig.pm.inject_error(0x30, 2, notify=False)
    before = (rig.ns.badblocks(), rig.pm.bad_ranges(), rig.pm.media_errors(), rig.pm.injected_errors())
    assert before[0] == [(2, 2), (0x10, 1)]
    rig.pm.close()

    again = Rig(path)
    assert (again.ns.badblocks(), again.pm.bad_ranges(), again.pm.media_errors(), again.pm.injected_errors()) == before
    assert kp.pmem_do_read(again.k, again.ns, 2, DRAM, 512) == -kp.EIO  # refused without a copy
    assert again.kinds("copy_mc") == []
    assert kp.pmem_do_read(again.k, again.ns, 0x30, DRAM, 512) == -kp.EIO  # the latent injected one: consumed
    assert again.ns.badblocks() == [(2, 2), (0x10, 1), (0x30, 1)]
    assert kp.pmem_do_read(again.k, again.ns, 1, DRAM, 512) == 0
    assert again.plat.bus.read(DRAM, 512) == PATTERN[512:1024]


# --- the device-tree factory ---------------------------------------------------------------------------------------
PMEM_NODE = """
	pmem@100000000 {
		compatible = "pmem-region";
		reg = <0x1 0x0 0x0 0x400000>;
		rasplat,backing-file = "images/pmem0.img";
		rasplat,clear-err-unit = <256>;
		rasplat,reri-bank = <&ras_dram 1>;
	};
	pmem@140000000 {
		compatible = "pmem-region";
		reg = <0x1 0x40000000 0x0 0x100000>;
		volatile;
	};
"""


def _tree(tmp_path: Path, nodes: str) -> Path:
    text = Path(default_devicetree_path()).read_text().rstrip()
    assert text.endswith("};")
    dts = tmp_path / "board" / "plat.dts"
    dts.parent.mkdir()
    dts.write_text(text[:-2] + nodes + "};\n")
    return dts


def _platform(dts: Path) -> rasplat.Platform:
    """A platform built from dts with pmem_region serving `pmem-region` (the lead registers it for real)."""
    tree = load_tree(dts)
    plugins = Plugins()
    plugins.devices["pmem-region"] = pmem_region
    plat = rasplat.Platform(hart_ids=[h for h, _ in hart_ids(tree)], plugins=plugins)
    build(tree, plat)
    return plat


def test_device_tree_regions(tmp_path: Path) -> None:
    dts = _tree(tmp_path, PMEM_NODE)
    (dts.parent / "images").mkdir()
    plat = _platform(dts)
    pm, vol = plat.devices["/pmem@100000000"], plat.devices["/pmem@140000000"]
    assert isinstance(pm, Pmem) and pm.path == dts.parent / "images" / "pmem0.img" and pm.clear_err_unit == 256
    assert pm.base == BASE and plat.bus.find(BASE).target is pm
    assert vol.volatile and vol.path is None and vol.base == 0x1_4000_0000
    assert plat.description["pmem"][1] == {"node": "/pmem@140000000", "reg": [(0x1_4000_0000, 0x100000)],
                                           "volatile": True, "backing_files": [None]}  # fmt: skip
    plat.bus.write(BASE + 8, b"persist me")
    pm.persist()
    plat.inject("pmem-badblock", addr=BASE + 0x200)
    assert plat.events.of_kind("pmem.badblocks")[-1]["addr"] == BASE + 0x200
    # errors reach the RERI bank: a consumption (the RAS router) and a scrub finding (the backend's sink)
    plat.inject("poison", addr=BASE + 0x3000)
    ns = kp.PmemNamespace.attach(plat.kernel, BASE)
    assert kp.pmem_do_read(plat.kernel, ns, 0x18, DRAM, 512) == -kp.EIO
    plat.inject("poison", addr=BASE + 0x5000)
    assert [r.err_address for r in kp.ars_scrub(plat.kernel, ns)] == [BASE + 0x200, BASE + 0x3000, BASE + 0x5000]
    logs = [(e["severity"], e["ec"], e["addr_info"], e["record"]) for e in plat.events.of_kind("reri.log")]
    assert logs == [("UEC", 2, BASE + 0x3000, 1), ("UED", 21, BASE + 0x5000, 1)]
    pm.close()
    plat = _platform(dts)  # the platform restarts from the same files
    assert plat.bus.peek(BASE + 8, 10) == b"persist me"
    assert plat.devices["/pmem@100000000"].badblocks() == [(1, 1), (0x18, 1), (0x28, 1)]


def test_device_tree_factory_errors(tmp_path: Path) -> None:
    base = 'compatible = "pmem-region"; reg = <0x1 0x0 0x0 0x100000>;'
    cases = {
        'volatile; rasplat,backing-file = "a.img";': "rasplat,backing-file: a volatile region has no backing file",
        'rasplat,backing-file = "a.img", "b.img";': "2 paths for 1 reg ranges",
        "rasplat,clear-err-unit = <100>;": "rasplat,clear-err-unit: clear_err_unit must be a power of two",
        'rasplat,backing-file = "nodir/a.img";': "rasplat,backing-file: .*a.img: cannot open the backing file",
    }
    for i, (props, message) in enumerate(cases.items()):
        root = tmp_path / str(i)
        root.mkdir()
        tree = load_tree(_tree(root, f"\n\tpmem@100000000 {{ {base} {props} }};\n"))
        ctx = BuildContext(rasplat.Platform.default(), tree)
        with pytest.raises(rasplat.DeviceTreeError, match=message):
            pmem_region(ctx, ctx.tree.find("/pmem@100000000"))


# --- durability across processes: SIGKILL --------------------------------------------------------------------------
# The child writes records through the backend (host writes and hot-path stores), persisting each record's range
# and acknowledging it on stdout; it also scribbles over a junk area it never persists. Records overlap, so the
# file after any kill must equal the replay of the first m records exactly, for an m the kill allows.
WORKLOAD = """
import random
SIZE = 256 << 10
AREA = 192 << 10  # records live below; the junk area above is written and never persisted

def record(i):
    rng = random.Random(i)
    n = rng.randrange(1, 9000)
    return rng.randrange(0, AREA - n), rng.randbytes(n)

def expected(m):
    buf = bytearray(SIZE)
    for i in range(m):
        off, data = record(i)
        buf[off : off + len(data)] = data
    return bytes(buf)
"""

WRITER = """
import os, signal, sys
from rasplat.memory.pmem import Pmem

path, mode, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
commits = 0

def die():
    os.kill(os.getpid(), signal.SIGKILL)

append, apply, reset = Pmem._journal_append, Pmem._apply, Pmem._journal_reset

def hooked_append(self, rec):
    global commits
    commits += 1
    if mode == "torn-journal" and commits == kill_at:
        os.write(self._journal_fd, rec[: len(rec) // 2])
        die()
    append(self, rec)
    if mode == "before-apply" and commits == kill_at:
        die()

def hooked_apply(self, extents):
    if mode == "mid-apply" and commits == kill_at:
        off, data = extents[0]
        self._durable[off : off + len(data) // 2] = data[: len(data) // 2]
        die()
    apply(self, extents)

def hooked_reset(self):
    if mode == "before-reset" and commits == kill_at:
        die()
    reset(self)

Pmem._journal_append, Pmem._apply, Pmem._journal_reset = hooked_append, hooked_apply, hooked_reset
pm = Pmem(SIZE, path)
i = 0
while True:
    off, data = record(i)
    pm.write_bytes(off, data)
    aligned = (off + 7) & ~7
    if aligned + 8 <= off + len(data):  # the hot path writes part of it
        pm.store(aligned, 8, int.from_bytes(data[aligned - off : aligned - off + 8], "little"))
    pm.write_bytes(AREA + (i * 4099) % (SIZE - AREA - 512), bytes([0xEE]) * 512)
    pm.persist(off, len(data))
    print(i, flush=True)
    i += 1
    if i == 20000:  # never killed: let the parent's assertion say so rather than hang
        break
"""
CHILD = WORKLOAD + WRITER

RECOVER_CHILD = """
import os, signal, sys
from rasplat.memory.pmem import Pmem

def hooked_apply(self, extents):  # recovery replays the record; die half-way through it
    off, data = extents[0]
    self._durable[off : off + len(data) // 2] = data[: len(data) // 2]
    os.kill(os.getpid(), signal.SIGKILL)

Pmem._apply = hooked_apply
Pmem(256 << 10, sys.argv[1])
"""

READER = """
import json, sys
from rasplat.memory.pmem import Pmem
for path in sys.argv[1:]:
    pm = Pmem(256 << 10, path)
    open(path + ".seen", "wb").write(pm.read_bytes(0, pm.size))
    print(json.dumps(pm.recovered), flush=True)
    pm.close()
"""


def _python(script: str, *args: str, **kw: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)  # type: ignore[call-overload]  # fmt: skip


def _killed(proc: subprocess.Popen) -> list[int]:
    """Wait for a child that dies by SIGKILL; the acknowledgements it printed and nobody read yet."""
    assert proc.stdout is not None and proc.stderr is not None
    with proc:  # closes the pipes
        out = proc.stdout.read()  # not communicate(): it would miss what readline() already buffered
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == -signal.SIGKILL, err
    return [int(line) for line in out.split()]


def _read_back(paths: list[Path]) -> list[tuple[bytes, dict]]:
    """A new process opens every file (recovering it) and hands back what it reads."""
    out, err = _python(READER, *map(str, paths)).communicate(timeout=60)
    assert not err, err
    stats = [json.loads(line) for line in out.splitlines()]
    return [(Path(f"{p}.seen").read_bytes(), s) for p, s in zip(paths, stats, strict=True)]


@pytest.fixture(scope="module")
def workload() -> dict:
    scope: dict = {}
    exec(WORKLOAD, scope)
    return scope


def test_sigkill_at_each_step_of_a_persist(tmp_path: Path, workload: dict) -> None:
    kill_at = 7
    cases = {"torn-journal": kill_at - 1, "before-apply": kill_at, "mid-apply": kill_at, "before-reset": kill_at}
    paths = []
    for mode in cases:
        path = tmp_path / f"{mode}.img"
        acks = _killed(_python(CHILD, str(path), mode, str(kill_at)))
        assert acks == list(range(kill_at - 1)), mode
        assert (tmp_path / f"{mode}.img.journal").stat().st_size > 0, mode  # a record (or half) left behind
        paths.append(path)
    for (mode, persisted), (seen, stats) in zip(cases.items(), _read_back(paths), strict=True):
        assert seen == workload["expected"](persisted), f"{mode}: not the state after {persisted} persists"
        assert stats["records"] == (0 if mode == "torn-journal" else 1), mode
        assert (stats["torn_bytes"] > 0) == (mode == "torn-journal"), mode
        assert (tmp_path / f"{mode}.img.journal").stat().st_size == 0, "recovery empties the journal"


def test_sigkill_during_recovery_is_recovered_by_the_next_open(tmp_path: Path, workload: dict) -> None:
    path = tmp_path / "pm.img"
    _killed(_python(CHILD, str(path), "before-apply", "3"))
    _killed(_python(RECOVER_CHILD, str(path)))
    ((seen, stats),) = _read_back([path])
    assert seen == workload["expected"](3) and stats == {"records": 1, "torn_bytes": 0}


@pytest.mark.parametrize("acks", [1, 40, 150])
def test_sigkill_mid_stream_keeps_every_persisted_write(tmp_path: Path, workload: dict, acks: int) -> None:
    path = tmp_path / "pm.img"
    proc = _python(CHILD, str(path), "none", "0")
    assert proc.stdout is not None
    for _ in range(acks):
        assert proc.stdout.readline(), "the writer died early"
    proc.send_signal(signal.SIGKILL)
    acked = acks + len(_killed(proc))  # plus what it acknowledged before the signal landed
    ((seen, _),) = _read_back([path])
    # every acknowledged persist is there; the one in flight is all there or not at all; no junk ever is
    candidates = {m: workload["expected"](m) for m in (acked, acked + 1)}
    assert seen in candidates.values(), f"not the state after {acked} or {acked + 1} persists"
    assert seen[workload["AREA"] :] == bytes(workload["SIZE"] - workload["AREA"])
