"""The kernel's pmem paths: the block driver (drivers/nvdimm/pmem.c), namespace I/O (drivers/nvdimm/claim.c),
poison clearing (drivers/nvdimm/bus.c) and the fs/dax read and write loops, over a `Pmem` backend.

Copies that read pmem run the firmware's `__memcpy_mc` on hart 0 through `copy_mc_to_kernel`, so a latent bad
line is consumed for real: the hart takes the hardware-error trap, the backend learns the line (it joins the
known bad ranges, hence the badblocks) and the extable fixup turns the fault into a short copy. Writes into pmem
run the firmware's `__memcpy` and then persist the range: memcpy_flushcache() leaves the data durable.

Return values are the kernel's: 0, a byte count, or a negative errno (BLK_STS_IOERR is -EIO). Events:
`pmem.read` / `pmem.write` (path, offset in the namespace, length, ret, and why a read failed: "badblocks" when
refused without touching the media, "copy_mc" after a consumed line), `pmem.clear_poison`, `pmem.dax` (direct
access and recovery writes). References: `../shared/reference/memory-ras.md` §3.2 and `kernel-copy-mc.md` §5.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..memory.pmem import (
    NFIT_ARS_STATUS_BUSY,
    NFIT_ARS_STATUS_INTR,
    SECTOR_SHIFT,
    SECTOR_SIZE,
    ArsRecord,
    Pmem,
)
from .copy_mc import EHWPOISON, PAGE_SHIFT, PAGE_SIZE, copy_mc_to_kernel

if TYPE_CHECKING:
    from ..bus import Region
    from .kernel import Kernel

EIO, ENXIO, EFAULT = 5, 6, 14
READ, WRITE = "read", "write"
DAX_ACCESS, DAX_RECOVERY_WRITE = "access", "recovery_write"


@dataclass
class PmemNamespace:
    """A raw pmem namespace (struct pmem_device / nd_namespace_io): `size` bytes at `offset` in a pmem region.
    Its badblocks are the region's known bad ranges projected onto the namespace's own 512-byte sectors."""

    region: Region
    backend: Pmem
    offset: int
    size: int
    name: str

    @classmethod
    def attach(cls, kernel: Kernel, region: str | int, *, offset: int = 0, size: int | None = None,
               name: str = "pmem0") -> PmemNamespace:  # fmt: skip
        """The namespace over a pmem region, found by bus region name or by any address inside it."""
        bus = kernel.plat.bus
        found = bus.region(region) if isinstance(region, str) else bus.find(region)
        if found is None or not isinstance(found.target, Pmem):
            where = region if isinstance(region, str) else f"{region:#x}"
            raise ConfigError(f"{name}: {where} is not a pmem region")
        backend = found.target
        if backend.base != found.base:
            raise ConfigError(
                f"{name}: the backend of {found.name!r} believes it sits at {backend.base:#x} but is mapped at "
                f"{found.base:#x} (pass base= to Pmem)"
            )
        size = found.size - offset if size is None else size
        if offset < 0 or size <= 0 or offset + size > found.size or (offset | size) & (PAGE_SIZE - 1):
            raise ConfigError(
                f"{name}: [{offset:#x}, +{size:#x}) is not a page-aligned range inside the {found.size:#x}-byte "
                f"region {found.name!r}"
            )
        return cls(found, backend, offset, size, name)

    @property
    def base(self) -> int:
        """Host physical address of the namespace's first byte."""
        return self.region.base + self.offset

    def hpa(self, off: int) -> int:
        return self.base + off

    def badblocks(self) -> list[tuple[int, int]]:
        """(sector, count) runs, as /sys/block/<name>/badblocks lists them."""
        return self.backend.badblocks(self.offset, self.size)

    def is_bad(self, sector: int, count: int) -> bool:
        """is_bad_pmem(): does [sector, sector+count) hold a known bad sector? Reads no media."""
        return self.backend.badblocks_check(sector, count, self.offset, self.size) is not None

    def first_bad(self, sector: int, count: int) -> int | None:
        return self.backend.badblocks_check(sector, count, self.offset, self.size)


class KvecIter:
    """An ITER_KVEC iov_iter: kernel buffers (address, length) filled or drained in order."""

    def __init__(self, segments: list[tuple[int, int]]) -> None:
        self.segments = [(a, n) for a, n in segments if n > 0]
        self.index = 0
        self.skip = 0  # bytes already done in the current segment

    @classmethod
    def single(cls, addr: int, length: int) -> KvecIter:
        return cls([(addr, length)])

    @property
    def count(self) -> int:
        """Bytes left."""
        return sum(n for _, n in self.segments[self.index :]) - self.skip

    def current(self) -> tuple[int, int]:
        addr, n = self.segments[self.index]
        return addr + self.skip, n - self.skip

    def advance(self, n: int) -> None:
        while n:
            _, left = self.current()
            step = min(n, left)
            self.skip += step
            n -= step
            if self.skip == self.segments[self.index][1]:
                self.index += 1
                self.skip = 0


def _emit(kernel: Kernel, kind: str, ns: PmemNamespace, **fields: object) -> None:
    kernel.plat.events.emit(kind, ns=ns.name, region=ns.region.name, **fields)


def _check_io(ns: PmemNamespace, off: int, length: int, what: str) -> None:
    if off < 0 or length < 0 or off + length > ns.size:
        raise ConfigError(f"{ns.name}: {what} of [{off:#x}, +{length:#x}) is outside the {ns.size:#x}-byte namespace")


def _write_flushcache(kernel: Kernel, ns: PmemNamespace, off: int, src: int, length: int) -> None:
    """memcpy_flushcache(): copy into pmem, then the range is durable."""
    if length:
        kernel.memcpy(ns.hpa(off), src, length)
        ns.backend.persist(ns.offset + off, length)


# --- the block driver ------------------------------------------------------------------------------------------
def read_pmem(kernel: Kernel, dst: int, src: int, length: int) -> int:
    """read_pmem(): copy_mc_to_kernel() one destination page at a time; any remainder is BLK_STS_IOERR."""
    while length:
        chunk = min(length, PAGE_SIZE - (dst & (PAGE_SIZE - 1)))
        if copy_mc_to_kernel(kernel, dst, src, chunk):
            return -EIO
        dst, src, length = dst + chunk, src + chunk, length - chunk
    return 0


def pmem_do_read(kernel: Kernel, ns: PmemNamespace, sector: int, dst: int, length: int) -> int:
    """pmem_do_read(): -EIO at once when the sectors hold a known bad block (the media is not touched), else
    read_pmem(); a latent bad line consumed on the way fails the read and becomes a bad block."""
    off = sector << SECTOR_SHIFT
    _check_io(ns, off, length, "read")
    if ns.is_bad(sector, length >> SECTOR_SHIFT):
        ret, reason = -EIO, "badblocks"
    else:
        ret = read_pmem(kernel, dst, ns.hpa(off), length)
        reason = "copy_mc" if ret else None
    _emit(kernel, "pmem.read", ns, path="pmem_do_read", offset=off, length=length, ret=ret, reason=reason)
    return ret


def pmem_do_write(kernel: Kernel, ns: PmemNamespace, sector: int, src: int, length: int) -> int:
    """pmem_do_write() as mainline has it since Jane Chu's 2022 series: over bad sectors, clear the poison first
    and fail with -EIO, writing nothing, if that fails; then write. (Before, it wrote, cleared and wrote again;
    the series changed it because the poisoned page is unmapped, so the first write would oops.)"""
    off = sector << SECTOR_SHIFT
    _check_io(ns, off, length, "write")
    bad = ns.is_bad(sector, length >> SECTOR_SHIFT)
    ret = pmem_clear_poison(kernel, ns, off, length) if bad else 0
    if not ret:
        _write_flushcache(kernel, ns, off, src, length)
    _emit(kernel, "pmem.write", ns, path="pmem_do_write", offset=off, length=length, ret=ret, cleared=bad)
    return ret


def pmem_clear_poison(kernel: Kernel, ns: PmemNamespace, off: int, length: int) -> int:
    """pmem_clear_poison(): 0 when the whole range was cleared, else -EIO. The cleared sectors leave the badblocks
    (here through the bad ranges the firmware call trimmed)."""
    cleared = nvdimm_clear_poison(kernel, ns, ns.hpa(off), length)
    return 0 if cleared >= length else -EIO


def nvdimm_clear_poison(kernel: Kernel, ns: PmemNamespace, phys: int, length: int) -> int:
    """nvdimm_clear_poison(): ARS_CAP for clear_err_unit; -ENXIO unless (phys | length) is a multiple of it;
    then CLEAR_ERROR. Returns the bytes cleared or a negative errno."""
    cap = ns.backend.ars_cap(phys, length)
    unit = cap["clear_err_unit"]
    if not unit or unit & (unit - 1) or (phys | length) & (unit - 1):
        ret = -ENXIO
    else:
        ret = ns.backend.clear_error(phys, length)["cleared"]
    _emit(kernel, "pmem.clear_poison", ns, phys=phys, length=length, unit=unit, ret=ret)
    return ret


# --- namespace I/O (metadata: labels, BTT, pfn info blocks) ------------------------------------------------------
def nsio_rw_bytes(kernel: Kernel, ns: PmemNamespace, offset: int, buf: int, size: int, rw: str) -> int:
    """nsio_rw_bytes(): byte-granular namespace I/O. A read: -EIO on a known bad sector, -EIO on a short copy.
    A write over bad sectors clears them first when the range is sector-aligned (otherwise -EIO), then writes."""
    if rw not in (READ, WRITE):
        raise ConfigError(f"{ns.name}: nsio_rw_bytes rw must be 'read' or 'write', got {rw!r}")
    if not size:
        return 0
    if offset < 0 or offset + size > ns.size:
        ret = -EFAULT  # "request out of range"
        _emit(kernel, f"pmem.{rw}", ns, path="nsio_rw_bytes", offset=offset, length=size, ret=ret, reason="range")
        return ret
    sector = offset >> SECTOR_SHIFT
    sectors = -(-(size + (offset & (SECTOR_SIZE - 1))) // SECTOR_SIZE)
    if rw == READ:
        if ns.is_bad(sector, sectors):
            ret, reason = -EIO, "badblocks"
        else:
            ret = -EIO if copy_mc_to_kernel(kernel, buf, ns.hpa(offset), size) else 0
            reason = "copy_mc" if ret else None
        _emit(kernel, "pmem.read", ns, path="nsio_rw_bytes", offset=offset, length=size, ret=ret, reason=reason)
        return ret
    ret = 0
    bad = ns.is_bad(sector, sectors)
    if bad:
        if offset & (SECTOR_SIZE - 1) or size & (SECTOR_SIZE - 1):
            ret = -EIO
        else:
            cleared = nvdimm_clear_poison(kernel, ns, ns.hpa(offset), size)
            if cleared < size:
                ret = -EIO
    _write_flushcache(kernel, ns, offset, buf, size)
    _emit(kernel, "pmem.write", ns, path="nsio_rw_bytes", offset=offset, length=size, ret=ret, cleared=bad)
    return ret


# --- DAX -----------------------------------------------------------------------------------------------------
def dax_direct_access(kernel: Kernel, ns: PmemNamespace, pgoff: int, nr_pages: int, mode: str = DAX_ACCESS) -> int:
    """__pmem_direct_access(): pages usable from `pgoff` (kaddr = ns.hpa(pgoff << 12)), or -EHWPOISON when the
    range holds a bad block. In DAX_RECOVERY_WRITE mode a bad range yields the pages before the first bad one
    (page-aligned), or 1 when the first page is bad."""
    if mode not in (DAX_ACCESS, DAX_RECOVERY_WRITE):
        raise ConfigError(f"{ns.name}: dax mode must be {DAX_ACCESS!r} or {DAX_RECOVERY_WRITE!r}, got {mode!r}")
    off = pgoff << PAGE_SHIFT
    if pgoff < 0 or nr_pages <= 0 or off >= ns.size:
        raise ConfigError(f"{ns.name}: dax_direct_access of pages [{pgoff}, +{nr_pages}) is outside the namespace")
    sector = off >> SECTOR_SHIFT
    first_bad = ns.first_bad(sector, (nr_pages << PAGE_SHIFT) >> SECTOR_SHIFT)
    if first_bad is not None:
        if mode != DAX_RECOVERY_WRITE:
            ret = -EHWPOISON
        else:
            ret = -(-((first_bad - sector) << SECTOR_SHIFT) // PAGE_SIZE) or 1
    elif ns.badblocks():
        ret = nr_pages  # bad blocks elsewhere: vouch only for the range asked
    else:
        ret = (ns.size - off) >> PAGE_SHIFT
    _emit(kernel, "pmem.dax", ns, op="direct_access", pgoff=pgoff, nr_pages=nr_pages, mode=mode, ret=ret)
    return ret


def copy_mc_to_iter(kernel: Kernel, src: int, n: int, it: KvecIter) -> int:
    """_copy_mc_to_iter() into kernel buffers: copy_mc_to_kernel() per segment, advancing by what each step
    reports copied and stopping at the first short step. Returns bytes copied (may be 0); the count comes from
    memcpy_mc's remainder, an upper bound, so it can be less than what reached the buffer."""
    copied = 0
    while n and it.count:
        addr, left = it.current()
        step = min(n, left)
        rem = copy_mc_to_kernel(kernel, addr, src, step)
        done = step - rem
        it.advance(done)
        copied, src, n = copied + done, src + done, n - done
        if rem:
            break
    return copied


def dax_iomap_rw(kernel: Kernel, ns: PmemNamespace, pos: int, it: KvecIter, rw: str = READ) -> int:
    """dax_iomap_rw() over one mapped extent (the whole namespace), the dax_iomap_iter() loop: direct access,
    then dax_copy_to_iter (_copy_mc_to_iter: pmem sets DAXDEV_NOMC) or dax_copy_from_iter, advancing by what each
    copy did. A short copy ends the loop; a copy of nothing is -EFAULT; -EHWPOISON from direct access is -EIO
    for the caller (dax_mem2blk_err), except that a write retries in recovery mode. Returns the bytes done, or
    the error when nothing was."""
    if rw not in (READ, WRITE):
        raise ConfigError(f"{ns.name}: dax_iomap_rw rw must be 'read' or 'write', got {rw!r}")
    length = it.count
    _check_io(ns, pos, length, f"dax {rw}")
    end, done, ret = pos + length, 0, 0
    while pos < end:
        offset = pos & (PAGE_SIZE - 1)
        pages = -(-(end - pos + offset) // PAGE_SIZE)
        pgoff = pos >> PAGE_SHIFT
        map_len = dax_direct_access(kernel, ns, pgoff, pages)
        recovery = False
        if map_len == -EHWPOISON and rw == WRITE:
            map_len = dax_direct_access(kernel, ns, pgoff, pages, DAX_RECOVERY_WRITE)
            recovery = map_len > 0
        if map_len < 0:
            ret = -EIO if map_len == -EHWPOISON else map_len
            break
        map_len = min((map_len << PAGE_SHIFT) - offset, end - pos)
        kaddr = ns.hpa(pos)
        if recovery:
            xfer = pmem_recovery_write(kernel, ns, pgoff, pos, map_len, it)
        elif rw == WRITE:
            xfer = _copy_from_iter_flushcache(kernel, ns, pos, map_len, it)
        else:
            xfer = copy_mc_to_iter(kernel, kaddr, map_len, it)
        pos, done = pos + xfer, done + xfer
        if xfer == 0:
            ret = -EFAULT
        if xfer < map_len:
            break
    result = done if done else ret
    _emit(kernel, f"pmem.{rw}", ns, path="dax", offset=end - length, length=length, ret=result)
    return result


def dax_read(kernel: Kernel, ns: PmemNamespace, pos: int, dst: int, length: int) -> int:
    """read(2) of a DAX file mapped 1:1 on the namespace, into a kernel buffer at `dst`."""
    return dax_iomap_rw(kernel, ns, pos, KvecIter.single(dst, length), READ)


def dax_write(kernel: Kernel, ns: PmemNamespace, pos: int, src: int, length: int) -> int:
    """write(2) of a DAX file mapped 1:1 on the namespace, from a kernel buffer at `src`."""
    return dax_iomap_rw(kernel, ns, pos, KvecIter.single(src, length), WRITE)


def _copy_from_iter_flushcache(kernel: Kernel, ns: PmemNamespace, pos: int, n: int, it: KvecIter) -> int:
    copied = 0
    while n and it.count:
        addr, left = it.current()
        step = min(n, left)
        _write_flushcache(kernel, ns, pos, addr, step)
        it.advance(step)
        copied, pos, n = copied + step, pos + step, n - step
    return copied


def pmem_recovery_write(kernel: Kernel, ns: PmemNamespace, pgoff: int, pos: int, n: int, it: KvecIter) -> int:
    """pmem_recovery_write(): over bad blocks only a page-aligned, page-sized write can recover (clear the poison,
    then write); anything else writes nothing (0). A range with no bad block is a plain write."""
    offset = pos & (PAGE_SIZE - 1)
    span = -(-(offset + n) // PAGE_SIZE) << PAGE_SHIFT
    if not ns.is_bad((pgoff << PAGE_SHIFT) >> SECTOR_SHIFT, span >> SECTOR_SHIFT):
        return _copy_from_iter_flushcache(kernel, ns, pos, n, it)
    if offset or n & (PAGE_SIZE - 1):
        _emit(kernel, "pmem.dax", ns, op="recovery_write", pgoff=pgoff, length=n, ret=0, reason="unaligned")
        return 0
    cleared = nvdimm_clear_poison(kernel, ns, ns.hpa(pos), span)
    if cleared < span:
        _emit(kernel, "pmem.dax", ns, op="recovery_write", pgoff=pgoff, length=n, ret=0, reason="clear")
        return 0
    ret = _copy_from_iter_flushcache(kernel, ns, pos, n, it)
    _emit(kernel, "pmem.dax", ns, op="recovery_write", pgoff=pgoff, length=n, ret=ret, reason=None)
    return ret


# --- address range scrub, as acpi_nfit drives it -----------------------------------------------------------------
def ars_scrub(kernel: Kernel, ns: PmemNamespace, max_rounds: int = 1024) -> list[ArsRecord]:
    """Scrub the namespace: start ARS, let simulated time pass until it completes, and continue from the restart
    address after an overflow (ars_continue). The records join the region's bad ranges as they arrive. Returns
    every record, in address order of discovery."""
    backend, clock = ns.backend, kernel.plat.clock
    address, length = ns.base, ns.size
    records: list[ArsRecord] = []
    for _ in range(max_rounds):
        started = backend.ars_start(address, length)
        while backend.ars_status().status == NFIT_ARS_STATUS_BUSY:
            clock.advance(max(1, started["scrub_time"]))
        if started["status"]:
            continue  # somebody else's scrub was running; it has finished now
        status = backend.ars_status()
        records += status.records
        if status.status != NFIT_ARS_STATUS_INTR or not status.overflow:
            return records
        address, length = status.restart_address, status.restart_length
    raise ConfigError(f"{ns.name}: ARS did not complete within {max_rounds} continuations")
