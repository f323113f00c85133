"""Persistent memory behind a DAX-capable region (an NVDIMM, a CXL persistent partition): data that survives
the process, media errors, badblocks, Address Range Scrub (ARS), Clear Error and ndctl-style error injection.

Facts come from `../shared/reference/memory-ras.md` §3.2 (Linux `drivers/nvdimm`, `drivers/acpi/nfit`,
`include/uapi/linux/ndctl.h`); QEMU's NVDIMM has none of this (its root _DSM supports only function 0).

Durability
----------
Three copies of the data, in the order a store reaches them:
- the working copy: what loads see (CPU caches plus media). 4 KiB pages as in RAM, filled from the durable
  image when first touched; stores and host writes land here and mark their page dirty.
- the durable image: what survives a power loss. The backing file, mapped with mmap (MAP_SHARED), holding
  exactly `size` raw bytes (a namespace image any tool can read); anonymous memory when there is no path
  (durable within the process, see `crash()`); none at all when `volatile`.
- the journal, `<path>.journal`: a redo log that makes each persist atomic.

`persist(off, size)` models flush + fence: it gathers the written lines of the range that differ from the durable
image (64-byte granules, as CLWB writes lines back) into one record (extents + data + CRC-32), appends the record to
the journal, copies the extents into the mapped file, and empties the journal. Opening a file replays every complete
record whose CRC matches, in order, drops a torn tail, then empties the journal. Clear Error writes the media
through the same path.

Invariants (each holds at every instruction, so a SIGKILL anywhere keeps them):
1. The durable image changes only by applying a journal record; a store never reaches it.
2. A record is applied only once it is whole in the journal, and the journal is emptied only after the record
   is applied. So reopening after a kill yields exactly the state after the last persist whose record was
   complete: every persist is all-or-nothing, persists keep their order, and no unpersisted byte ever appears.
3. Replay is idempotent (records carry absolute offsets and data), so a kill during recovery is repaired by
   the next open.
4. The error state (`<path>.badblocks`, JSON) is replaced atomically (temporary file + rename) on every change.
A kill loses exactly the writes not yet persisted. `fsync=True` also fsyncs each journal record and msyncs the
file before emptying the journal, extending the guarantee from process death to a host crash or power loss;
the default covers process death and costs no disk flushes. The file is locked (flock) while open: two live
backends over one file would each believe they own the media.

Media errors, bad ranges and badblocks
--------------------------------------
- Media errors: the 64-byte lines a load consumes (`poison`, RAM's set, so the hot path pays what RAM pays).
  Injected as a latent line (`inject("poison")`), a byte range (`inject("pmem-badblock", length=...)`) or
  512-byte blocks (`inject_error`). Stores do not consume poison (Linux's nsio_rw_bytes writes over bad sectors
  even when clearing them failed); a line stays bad until Clear Error or the uninjection of an injected error.
- Known bad ranges: the byte ranges the host has been told about, Linux's nvdimm-bus badrange list. A consumed
  line adds its 64 bytes (`nfit_handle_mce`), ARS adds its records, a known `pmem-badblock` and a notified
  `inject_error` add theirs; Clear Error forgets what it cleared (trimming or splitting entries). An add at a
  start already listed keeps one entry: Linux replaces its length, the model keeps the longer one, because its
  badblocks are recomputed from the list where Linux's accumulate (so it never drops a sector Linux still holds).
  The list is persisted with the media errors: a restart knows its bad blocks, as Linux does from the firmware's
  ARS results at boot.
- Badblocks: the known ranges projected onto 512-byte sectors of a window (a namespace), clamped to the window,
  start rounded down and end rounded up (`badblocks_populate`, `__add_badblock_range`): one bad line marks one
  whole sector bad.

ARS and Clear Error (the ACPI NFIT root _DSM functions, addresses are system physical addresses)
------------------------------------------------------------------------------------------------
`ars_cap` reports `clear_err_unit` and `max_ars_out`. `ars_start` returns at once with an estimated scrub time;
the scrub runs on the Clock at `ars_bytes_per_s` and, when that time has passed, reports every media error in
the range as records {handle, err_address, length} (contiguous bad lines merge). At most
(max_ars_out - 48) // 24 records fit the status buffer; beyond that the scrub stops at the first error that
does not fit: extended status 3 (interrupted), the overflow flag, and restart_address/restart_length naming the
unscrubbed rest (Linux continues from there). Records join the known bad ranges. `clear_error` refuses ranges
not aligned to `clear_err_unit`, clears the media errors, forgets the bad ranges and leaves the range zeroed.
Linux does not count on a clear keeping the data (its write paths clear, then write); the model takes the harsher
case, so a path that would read the old data back after a clear shows. Error injection (`inject_error`,
`uninject_error`, `injected_errors`) works in 512-byte blocks from the start of the region, as
`ndctl inject-error` does from the start of its namespace.

Reports go to `events` (`pmem.persist`, `pmem.crash`, `pmem.recover`, `pmem.badblocks`, `pmem.ars`, `pmem.clear`,
`pmem.inject_error`). Errors the device finds itself, the new ranges an ARS reports, go to `error_sink(dict)` for
the region's RERI bank, one call per range: {severity: "UED", ec: 21 (scrub-detected), addr (SPA of the range),
ait: 1, tt: 0, scrub: True, grain: 64, length, region, access: "scrub", count: 1, source: "pmem.ars"}. A hart
consuming a bad line is not reported here: the trap's `poison.consume` event carries it (with `line` and
`sector`), and the platform's RAS router logs that as the UEC, as for every memory.
"""

from __future__ import annotations

import fcntl
import gc
import json
import math
import mmap
import os
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..bus import HardwareError
from ..clock import NS_PER_S, Clock
from ..errors import ConfigError
from ..events import EventLog
from .ram import LINE_SHIFT, LINE_SIZE, PAGE_SHIFT, PAGE_SIZE, RAM

if TYPE_CHECKING:
    from ..devicetree.build import BuildContext
    from ..devicetree.tree import Node

SECTOR_SHIFT = 9
SECTOR_SIZE = 1 << SECTOR_SHIFT
LINES_PER_SECTOR = SECTOR_SIZE // LINE_SIZE

# include/uapi/linux/ndctl.h: ARS scan types (ARS_CAP status bits 16+, ARS_START type) and ARS_START flags
ND_ARS_VOLATILE, ND_ARS_PERSISTENT = 1, 2
ND_ARS_RETURN_PREV_DATA = 1 << 1
# drivers/acpi/nfit/nfit.h: ARS status words and flags
NFIT_ARS_STATUS_DONE, NFIT_ARS_STATUS_BUSY = 0, 1 << 16
NFIT_ARS_STATUS_NONE, NFIT_ARS_STATUS_INTR = 2 << 16, 3 << 16
NFIT_ARS_START_BUSY = 6
NFIT_ARS_F_OVERFLOW = 1
# struct nd_cmd_ars_status: 48 bytes of header (status .. num_records), then 24-byte records;
# out_length counts from the out_length field, so it is 44 + 24 * num_records.
ARS_STATUS_HEADER, ARS_RECORD_SIZE, ARS_OUT_LENGTH_BASE = 48, 24, 44
DEFAULT_MAX_ARS_OUT = 4096
DEFAULT_ARS_BYTES_PER_S = 1 << 30

# RERI fields of the reports (see rasplat/reri.py)
EC_MEMORY_SCRUB = 21  # system memory scrubbing-detected error
AIT_SPA = 1
TT_UNSPECIFIED = 0

_ERRORS_FORMAT = "rasplat-pmem-errors"
_ERRORS_VERSION = 1
_REC_MAGIC = b"RPJ1"
_REC_HEAD = struct.Struct("<4sIQ")  # magic, extent count, body length
_EXTENT = struct.Struct("<QQ")  # offset, length (then the data)
_CRC = struct.Struct("<I")
_ZERO = memoryview(bytes(PAGE_SIZE))  # read-only: what a never-written volatile page loads
_ZERO_VIEWS = [None, _ZERO, _ZERO.cast("H"), None, _ZERO.cast("I"), None, None, None, _ZERO.cast("Q")]

Range = tuple[int, int]  # (start, length)


# --- records ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ArsRecord:
    """struct nd_ars_record: one error range found by a scrub (err_address is a system physical address)."""

    handle: int
    err_address: int
    length: int

    def as_dict(self) -> dict[str, int]:
        return {"handle": self.handle, "err_address": self.err_address, "length": self.length}


@dataclass(frozen=True, slots=True)
class ArsStatus:
    """struct nd_cmd_ars_status, as Query ARS Status returns it."""

    status: int
    address: int = 0
    length: int = 0
    restart_address: int = 0
    restart_length: int = 0
    type: int = 0
    flags: int = 0
    records: tuple[ArsRecord, ...] = ()

    @property
    def num_records(self) -> int:
        return len(self.records)

    @property
    def out_length(self) -> int:
        return ARS_OUT_LENGTH_BASE + ARS_RECORD_SIZE * len(self.records)

    @property
    def overflow(self) -> bool:
        return bool(self.flags & NFIT_ARS_F_OVERFLOW)

    @property
    def state(self) -> str:
        names = {NFIT_ARS_STATUS_DONE: "done", NFIT_ARS_STATUS_BUSY: "busy", NFIT_ARS_STATUS_NONE: "none",
                 NFIT_ARS_STATUS_INTR: "interrupted"}  # fmt: skip
        return names.get(self.status, f"{self.status:#x}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "state": self.state, "out_length": self.out_length, "address": self.address,
            "length": self.length, "restart_address": self.restart_address, "restart_length": self.restart_length,
            "type": self.type, "flags": self.flags, "overflow": self.overflow, "num_records": self.num_records,
            "records": [r.as_dict() for r in self.records],
        }  # fmt: skip


@dataclass(slots=True)
class _ArsRun:
    address: int  # SPA
    length: int
    type: int
    generation: int
    result: ArsStatus | None = None  # None while the scrub runs
    due: int = 0  # when the running scrub completes


# --- range helpers -----------------------------------------------------------------------------------------------
def _line_runs(lines: Iterable[int]) -> list[Range]:
    """Sorted line numbers -> (first line, count) runs."""
    runs: list[list[int]] = []
    for line in sorted(lines):
        if runs and runs[-1][0] + runs[-1][1] == line:
            runs[-1][1] += 1
        else:
            runs.append([line, 1])
    return [(a, n) for a, n in runs]


def _merge(intervals: Iterable[Range]) -> list[Range]:
    """(start, end) half-open intervals -> sorted, merged (start, end) intervals."""
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def project_badblocks(ranges: Iterable[Range], start: int, size: int) -> list[Range]:
    """Byte ranges -> the (sector, count) badblocks of the window [start, start+size), sectors relative to
    `start`: each range is clamped to the window, then its start is rounded down and its end up to 512 bytes
    (drivers/nvdimm/badrange.c badblocks_populate + __add_badblock_range); runs are merged."""
    end = start + size
    sectors = []
    for s, n in ranges:
        lo, hi = max(s, start), min(s + n, end)
        if lo < hi:
            sectors.append(((lo - start) >> SECTOR_SHIFT, -(-(hi - start) // SECTOR_SIZE)))
    return [(a, b - a) for a, b in _merge(sectors)]


# --- the backend -------------------------------------------------------------------------------------------------
class Pmem(RAM):
    """Persistent memory for a `pmem-region`. See the module docstring for durability and the error model.

    `path`: the backing file (created with `size` bytes if missing or empty; an existing file must have exactly
    `size` bytes). None keeps the durable image in anonymous memory. `volatile=True` has no durable image at all
    (a volatile region: `persist` does nothing, `crash` loses everything). `base` is the system physical address
    of offset 0: ARS, Clear Error and the reports speak SPAs, as the ACPI functions do. `handle` is the NFIT
    device handle ARS records carry. `clear_err_unit` must be a power of two of at least 64 bytes;
    `max_ars_out` (bytes of the ARS status buffer) must hold at least one record. ARS needs `clock`."""

    inject_kinds: tuple[str, ...] = ("poison", "pmem-badblock")

    def __init__(
        self,
        size: int,
        path: str | os.PathLike | None = None,
        *,
        name: str = "pmem",
        base: int = 0,
        events: EventLog | None = None,
        clock: Clock | None = None,
        volatile: bool = False,
        clear_err_unit: int = 512,
        max_ars_out: int = DEFAULT_MAX_ARS_OUT,
        ars_bytes_per_s: int = DEFAULT_ARS_BYTES_PER_S,
        handle: int = 0,
        fsync: bool = False,
        error_sink: Callable[[dict], None] | None = None,
    ) -> None:
        super().__init__(size, name)
        if volatile and path is not None:
            raise ConfigError(f"{name}: a volatile region has no backing file (got path {os.fspath(path)!r})")
        if not isinstance(clear_err_unit, int) or clear_err_unit < LINE_SIZE or clear_err_unit & (clear_err_unit - 1):
            raise ConfigError(f"{name}: clear_err_unit must be a power of two >= {LINE_SIZE}, got {clear_err_unit!r}")
        if not isinstance(max_ars_out, int) or max_ars_out < ARS_STATUS_HEADER + ARS_RECORD_SIZE:
            raise ConfigError(
                f"{name}: max_ars_out must be at least {ARS_STATUS_HEADER + ARS_RECORD_SIZE} bytes (the status "
                f"header and one record), got {max_ars_out!r}"
            )
        if not isinstance(ars_bytes_per_s, int) or ars_bytes_per_s <= 0:
            raise ConfigError(f"{name}: ars_bytes_per_s must be a positive integer, got {ars_bytes_per_s!r}")
        self.base = base
        self.events = events
        self.clock = clock
        self.volatile = volatile
        self.clear_err_unit = clear_err_unit
        self.max_ars_out = max_ars_out
        self.ars_bytes_per_s = ars_bytes_per_s
        self.handle = handle
        self.fsync = fsync
        self.error_sink = error_sink
        self.path: Path | None = Path(path) if path is not None else None
        self._dirty: set[int] = set()  # working-copy pages written since they were last persisted
        self._badrange: list[list[int]] = []  # [start, length] region offsets, in the order they were learnt
        self._injected: set[int] = set()  # 512-byte blocks with an injected error
        self._ars: _ArsRun | None = None
        self._ars_generation = 0
        self._durable_pages: set[int] = set()  # pages of an anonymous durable image ever written (checkpoints)
        self._fd: int | None = None
        self._journal_fd: int | None = None
        self._durable: mmap.mmap | None = None
        self.recovered: dict[str, int] = {"records": 0, "torn_bytes": 0}
        if self.path is not None:
            self._open_file()
        elif not volatile:
            self._durable = mmap.mmap(-1, size)

    # --- files -------------------------------------------------------------------------------------------------
    @property
    def journal_path(self) -> Path | None:
        return self.path.with_name(self.path.name + ".journal") if self.path else None

    @property
    def errors_path(self) -> Path | None:
        return self.path.with_name(self.path.name + ".badblocks") if self.path else None

    def _open_file(self) -> None:
        assert self.path is not None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ConfigError(f"{self.name}: {self.path}: cannot open the backing file ({e.strerror})") from None
        try:
            self._lock(fd)
            have = os.fstat(fd).st_size
            fresh = have == 0
            if fresh:
                os.ftruncate(fd, self.size)  # sparse: untouched media costs no disk
            elif have != self.size:
                raise ConfigError(
                    f"{self.name}: {self.path}: the backing file holds {have:#x} bytes, the region is {self.size:#x}"
                )
            self._durable = mmap.mmap(fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            assert self.journal_path is not None and self.errors_path is not None
            if fresh:  # sidecars left by an older image of another size or content are not this media's
                for stale in (self.journal_path, self.errors_path):
                    stale.unlink(missing_ok=True)
            self._journal_fd = os.open(self.journal_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as e:
            self._abandon(fd)
            raise ConfigError(f"{self.name}: {self.path}: cannot set up the backing file ({e})") from None
        except BaseException:
            self._abandon(fd)
            raise
        self._fd = fd
        self._recover()
        self._load_errors()

    def _abandon(self, fd: int) -> None:
        if self._durable is not None:
            self._durable.close()
            self._durable = None
        os.close(fd)

    def _lock(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        gc.collect()  # an unreachable backend of this process may still hold the lock until collected
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"{self.name}: {self.path}: the backing file is in use by another pmem backend (this process or "
                "another); close() it first"
            ) from None

    def close(self) -> None:
        """Detach from the media without persisting (what is not persisted is lost, as at power off)."""
        self._ars_generation += 1  # a scrub in flight never completes
        if self._durable is not None:
            self._durable.close()
            self._durable = None
        for attr in ("_journal_fd", "_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                os.close(fd)  # closing the data file's descriptor releases the lock
                setattr(self, attr, None)

    def __del__(self) -> None:
        if hasattr(self, "_fd"):  # a backend dropped without close() must not keep the file locked
            self.close()

    @property
    def closed(self) -> bool:
        return self._durable is None and not self.volatile

    def __enter__(self) -> Pmem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self.closed:
            raise ConfigError(f"{self.name}: the backend is closed")

    # --- hot path ----------------------------------------------------------------------------------------------
    def load(self, off: int, size: int) -> int:
        poison = self.poison
        if poison and (off >> LINE_SHIFT in poison or (off + size - 1) >> LINE_SHIFT in poison):
            raise HardwareError
        if not off & (size - 1):
            views = self._views.get(off >> PAGE_SHIFT) or self._fill(off >> PAGE_SHIFT)
            return views[size][(off & (PAGE_SIZE - 1)) // size]
        return int.from_bytes(self.read_bytes(off, size), "little")

    def store(self, off: int, size: int, value: int) -> None:
        # No poison check: a store does not consume poison; the line stays bad until Clear Error.
        if not off & (size - 1):
            number = off >> PAGE_SHIFT
            views = self._views.get(number) or self._page(number)
            views[size][(off & (PAGE_SIZE - 1)) // size] = value
            self._dirty.add(number)
        else:
            self.write_bytes(off, value.to_bytes(size, "little"))

    def _page(self, number: int) -> list:
        """A working-copy page, filled from the durable image (RAM's write path allocates through this)."""
        views = super()._page(number)
        if self._durable is not None:
            start = number << PAGE_SHIFT
            self.pages[number][:] = self._durable[start : start + PAGE_SIZE]
        return views

    def _fill(self, number: int) -> list:
        """A load missed the working copy: page it in (a volatile page never written reads as zeros)."""
        if self._durable is not None:
            return self._page(number)
        self._check_open()
        return _ZERO_VIEWS

    # --- host path ---------------------------------------------------------------------------------------------
    def read_bytes(self, off: int, size: int) -> bytes:
        """The working copy (what a load would see, ignoring poison)."""
        self._check_range(off, size)
        durable = self._durable
        if durable is None or size == 0:
            self._check_open()
            return RAM.read_bytes(self, off, size)
        out = bytearray(durable[off : off + size])
        pages = self.pages
        if pages:
            first, last = off >> PAGE_SHIFT, (off + size - 1) >> PAGE_SHIFT
            numbers = range(first, last + 1) if last - first < len(pages) else sorted(pages)
            for number in numbers:
                page = pages.get(number)
                if page is None or not first <= number <= last:
                    continue
                start = number << PAGE_SHIFT
                lo, hi = max(off, start), min(off + size, start + PAGE_SIZE)
                out[lo - off : hi - off] = page[lo - start : hi - start]
        return bytes(out)

    def write_bytes(self, off: int, data: bytes) -> None:
        self._check_open()
        RAM.write_bytes(self, off, data)
        if data:
            self._dirty.update(range(off >> PAGE_SHIFT, ((off + len(data) - 1) >> PAGE_SHIFT) + 1))

    def durable_bytes(self, off: int, size: int) -> bytes:
        """The durable image: what a power loss now would leave (the working copy for a volatile region)."""
        self._check_range(off, size)
        if self._durable is None:
            return self.read_bytes(off, size)
        return bytes(self._durable[off : off + size])

    # --- durability --------------------------------------------------------------------------------------------
    @property
    def dirty_pages(self) -> int:
        """Working-copy pages holding writes not yet persisted."""
        return len(self._dirty)

    def persist(self, off: int | None = None, size: int | None = None) -> dict[str, int]:
        """Flush + fence [off, off+size) (the whole region when both are None): its written bytes become durable,
        atomically. Returns {extents, bytes}: what was committed (unchanged bytes are not rewritten)."""
        if (off is None) != (size is None):
            raise ConfigError(f"{self.name}: persist takes both off and size, or neither (got {off!r}, {size!r})")
        if off is None or size is None:
            off, size = 0, self.size
        self._check_range(off, size)
        self._check_open()
        if not self._dirty or size == 0:
            return {"extents": 0, "bytes": 0}
        end = off + size
        first, last = off >> PAGE_SHIFT, (end - 1) >> PAGE_SHIFT
        dirty = self._dirty
        numbers = range(first, last + 1) if last - first < len(dirty) else sorted(dirty)
        extents: list[tuple[int, bytearray]] = []
        for number in numbers:
            if number not in dirty or not first <= number <= last:
                continue
            start = number << PAGE_SHIFT
            lo, hi = max(off, start), min(end, start + PAGE_SIZE)
            if lo == start and hi == start + PAGE_SIZE:
                dirty.discard(number)  # a page persisted whole is clean; a partly persisted one stays dirty
            if self._durable is None:
                continue
            page, durable = self.pages[number], self._durable
            if page[lo - start : hi - start] == durable[lo:hi]:
                continue
            for a in _line_cuts(lo, hi):
                b = min(hi, (a | (LINE_SIZE - 1)) + 1)
                line = page[a - start : b - start]
                if line == durable[a:b]:
                    continue  # like CLWB, only lines that changed travel
                if extents and extents[-1][0] + len(extents[-1][1]) == a:
                    extents[-1][1].extend(line)
                else:
                    extents.append((a, bytearray(line)))
        if extents:
            self._commit(extents)
        committed = {"extents": len(extents), "bytes": sum(len(d) for _, d in extents)}
        self._emit("pmem.persist", offset=off, length=size, **committed)
        return committed

    def crash(self) -> dict[str, int]:
        """Power loss without a flush, then power on: every write not persisted is lost (a volatile region
        loses everything); media errors stay and a scrub in flight is abandoned."""
        self._check_open()
        lost = len(self._dirty) if self._durable is not None else len(self.pages)
        self.pages.clear()
        self._views.clear()
        self._dirty.clear()
        self._ars = None
        self._ars_generation += 1
        self._emit("pmem.crash", lost_pages=lost)
        return {"lost_pages": lost}

    def _commit(self, extents: list[tuple[int, bytes | bytearray]]) -> None:
        """Make extents durable, atomically (see the module docstring, invariants 1-3)."""
        if self._journal_fd is not None:
            self._journal_append(_encode_record(extents))
        self._apply(extents)
        if self._journal_fd is not None:
            self._journal_reset()

    def _journal_append(self, record: bytes) -> None:
        assert self._journal_fd is not None
        view = memoryview(record)
        while view:
            view = view[os.write(self._journal_fd, view) :]
        if self.fsync:
            os.fsync(self._journal_fd)

    def _apply(self, extents: list[tuple[int, bytes | bytearray]]) -> None:
        assert self._durable is not None
        for off, data in extents:
            self._durable[off : off + len(data)] = data
            if self.path is None:
                self._durable_pages.update(range(off >> PAGE_SHIFT, ((off + len(data) - 1) >> PAGE_SHIFT) + 1))

    def _journal_reset(self) -> None:
        assert self._journal_fd is not None and self._durable is not None
        if self.fsync:
            self._durable.flush()  # the applied record must be on disk before its journal copy goes
        os.ftruncate(self._journal_fd, 0)
        if self.fsync:
            os.fsync(self._journal_fd)

    def _recover(self) -> None:
        """Replay the journal's complete records in order; a torn tail is a persist that never happened."""
        assert self._journal_fd is not None
        journal = self._read_journal()
        pos = replayed = 0
        while True:
            parsed = _decode_record(journal, pos)
            if parsed is None:
                break
            extents, pos = parsed
            if any(off + len(data) > self.size for off, data in extents):
                break  # not a record of this media
            self._apply(extents)
            replayed += 1
        self.recovered = {"records": replayed, "torn_bytes": len(journal) - pos}
        if journal:
            self._journal_reset()
            self._emit("pmem.recover", **self.recovered)

    def _read_journal(self) -> bytes:
        assert self._journal_fd is not None
        chunks, pos = [], 0
        while chunk := os.pread(self._journal_fd, 1 << 20, pos):
            chunks.append(chunk)
            pos += len(chunk)
        return b"".join(chunks)

    # --- error state -------------------------------------------------------------------------------------------
    def media_errors(self) -> list[Range]:
        """The bad media as (offset, length) ranges of whole lines, merged."""
        return [(a << LINE_SHIFT, n << LINE_SHIFT) for a, n in _line_runs(self.poison)]

    def bad_ranges(self) -> list[Range]:
        """The known bad byte ranges (offset, length), in the order they were learnt (Linux's badrange list)."""
        return [(s, n) for s, n in self._badrange]

    def badblocks(self, off: int = 0, size: int | None = None) -> list[Range]:
        """(sector, count) runs of the window [off, off+size), sectors relative to `off` (what
        /sys/block/pmemN/badblocks shows for a namespace there)."""
        size = self.size - off if size is None else size
        self._check_range(off, size)
        return project_badblocks(self._badrange, off, size)

    def badblocks_check(self, sector: int, count: int, off: int = 0, size: int | None = None) -> int | None:
        """badblocks_check(): the first bad sector of [sector, sector+count) in the window, or None."""
        for s, n in self.badblocks(off, size):
            if s < sector + count and sector < s + n:
                return max(s, sector)
        return None

    def _badrange_add(self, start: int, length: int) -> bool:
        """nvdimm_bus_add_badrange(); True if the list changed."""
        for entry in self._badrange:
            if entry[0] == start:
                if entry[1] >= length:
                    return False
                entry[1] = length
                return True
        self._badrange.append([start, length])
        return True

    def _badrange_forget(self, start: int, length: int) -> bool:
        """badrange_forget(): cut [start, start+length) out of every entry (an entry may split in two)."""
        end = start + length
        kept: list[list[int]] = []
        split: list[list[int]] = []
        changed = False
        for s, n in self._badrange:
            e = s + n
            if e <= start or s >= end:
                kept.append([s, n])
                continue
            changed = True
            if s < start:
                kept.append([s, start - s])
            if e > end:
                (split if s < start else kept).append([end, e - end])
        self._badrange = kept + split  # Linux appends the right half of a split entry at the tail
        return changed

    def _errors_changed(self, source: str, badblocks_changed: bool, off: int, length: int) -> None:
        """Save the error state; when the badblocks may have changed, say so (a sysfs notify on "badblocks")."""
        self._save_errors()
        if badblocks_changed:
            self._emit("pmem.badblocks", source=source, addr=self.base + off, length=length,
                       badblocks=[list(b) for b in self.badblocks()])  # fmt: skip

    def _save_errors(self) -> None:
        target = self.errors_path
        if target is None:
            return
        state = {
            "format": _ERRORS_FORMAT, "version": _ERRORS_VERSION, "size": self.size,
            "media_errors": [list(r) for r in self.media_errors()],
            "badrange": [list(r) for r in self._badrange],
            "injected": [list(r) for r in self._injected_runs()],
            "badblocks": [list(r) for r in self.badblocks()],  # derived, for people; ignored on load
        }  # fmt: skip
        tmp = target.with_name(target.name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(state, f, indent=1)
            f.write("\n")
            if self.fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, target)
        if self.fsync:
            dirfd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)

    def _load_errors(self) -> None:
        source = self.errors_path
        if source is None or not source.exists():
            return
        try:
            state = json.loads(source.read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"{self.name}: {source}: cannot read the error state ({e})") from None

        def bad(what: str) -> ConfigError:
            return ConfigError(f"{self.name}: {source}: {what}")

        if not isinstance(state, dict) or state.get("format") != _ERRORS_FORMAT:
            raise bad(f"not a {_ERRORS_FORMAT} file")
        if state.get("version") != _ERRORS_VERSION:
            raise bad(f"version {state.get('version')!r} is not {_ERRORS_VERSION}")
        if state.get("size") != self.size:
            raise bad(f"size {state.get('size')!r} does not match the region size {self.size}")
        limits = {"media_errors": self.size, "badrange": self.size, "injected": self.size >> SECTOR_SHIFT}
        parsed: dict[str, list[Range]] = {}
        for key, limit in limits.items():
            value = state.get(key, [])
            if not isinstance(value, list):
                raise bad(f"{key}: expected a list of [start, length] pairs")
            for item in value:
                ok = isinstance(item, list) and len(item) == 2 and all(type(v) is int for v in item)
                if not ok or item[0] < 0 or item[1] <= 0 or item[0] + item[1] > limit:
                    raise bad(f"{key}: {item!r} is not a [start, length] pair inside 0..{limit:#x}")
            parsed[key] = [(a, n) for a, n in value]
        for off, n in parsed["media_errors"]:
            self.poison.update(range(off >> LINE_SHIFT, (off + n - 1 >> LINE_SHIFT) + 1))
        self._badrange = [[a, n] for a, n in parsed["badrange"]]
        for block, count in parsed["injected"]:
            self._injected.update(range(block, block + count))

    def _injected_runs(self) -> list[Range]:
        return _line_runs(self._injected)

    # --- RAM's error protocol ----------------------------------------------------------------------------------
    def inject(self, kind: str, off: int, **params: object) -> dict:
        """`poison`: one latent line (the host does not know it until ARS or a consumer finds it).
        `pmem-badblock`: media errors over [off, off+length) (length=512 by default), known to the host unless
        known=False (a range the platform's ARS reports at boot). Returns the `inject` event's fields."""
        self._check_open()
        if kind == "poison":
            fields = super().inject(kind, off, **params)
            self._save_errors()
            return fields
        if kind != "pmem-badblock":
            raise ConfigError(f"{self.name}: cannot inject {kind!r} (supports: {', '.join(self.inject_kinds)})")
        unknown = sorted(set(params) - {"length", "known"})
        if unknown:
            raise ConfigError(f"{self.name}: inject 'pmem-badblock' got unknown parameter(s) {unknown}")
        length = params.get("length", SECTOR_SIZE)
        known = params.get("known", True)
        if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
            raise ConfigError(f"{self.name}: inject 'pmem-badblock' length must be a positive integer, got {length!r}")
        if not isinstance(known, bool):
            raise ConfigError(f"{self.name}: inject 'pmem-badblock' known must be True or False, got {known!r}")
        self._check_range(off, length)
        first, last = off >> LINE_SHIFT, (off + length - 1) >> LINE_SHIFT
        self.poison.update(range(first, last + 1))
        changed = known and self._badrange_add(off, length)
        self._errors_changed("inject", changed, off, length)
        return {"line": first << LINE_SHIFT, "lines": last - first + 1,
                "sectors": [list(s) for s in project_badblocks([(off, length)], 0, self.size)]}  # fmt: skip

    def clear_poison(self, off: int) -> bool:
        """Clear the media error of one line (a debug hook below the firmware: the host's bad ranges stay)."""
        self._check_open()
        was = super().clear_poison(off)
        if was:
            self._save_errors()
        return was

    def consumed(self, off: int, size: int, access: str) -> dict:
        """A hart consumed poison: the line joins the known bad ranges, 64 bytes at the line, as
        nfit_handle_mce adds them (the RAS router logs the consumption itself from the event)."""
        lines = self.poisoned_lines(off, size)
        line = lines[0] if lines else off & ~(LINE_SIZE - 1)
        changed = self._badrange_add(line, LINE_SIZE)
        self._errors_changed("consume", changed, line, LINE_SIZE)
        return {"line": line, "sector": line >> SECTOR_SHIFT}

    # --- ndctl inject-error: 512-byte blocks, region-relative ---------------------------------------------------
    def _check_blocks(self, block: int, count: int, what: str) -> None:
        blocks = self.size >> SECTOR_SHIFT
        if not (isinstance(block, int) and isinstance(count, int) and block >= 0 and count > 0):
            raise ConfigError(f"{self.name}: {what} needs a block >= 0 and a count > 0, got {block!r}, {count!r}")
        if block + count > blocks:
            raise ConfigError(f"{self.name}: {what} blocks [{block}, +{count}) are outside 0..{blocks} (512-byte)")

    def inject_error(self, block: int, count: int = 1, *, notify: bool = True) -> dict:
        """ARS Error Inject over `count` 512-byte blocks from `block`: their media goes bad. With `notify` (ndctl's
        default) the host learns the range at once, as after the notification and scrub that follow; with
        notify=False (`--no-notify`) it stays latent until ARS or a consumer finds it."""
        self._check_open()
        self._check_blocks(block, count, "inject-error")
        start, length = block << SECTOR_SHIFT, count << SECTOR_SHIFT
        self.poison.update(range(start >> LINE_SHIFT, (start + length) >> LINE_SHIFT))
        self._injected.update(range(block, block + count))
        self._emit("pmem.inject_error", op="inject", block=block, count=count, notify=notify)
        changed = notify and self._badrange_add(start, length)
        self._errors_changed("inject_error", changed, start, length)
        return {"block": block, "count": count, "notify": notify}

    def uninject_error(self, block: int, count: int = 1) -> dict:
        """ARS Error Inject Clear: the injected errors of these blocks leave the media. The host's bad ranges stay
        (ndctl: --uninject does not clear the kernel's badblocks; only a write does)."""
        self._check_open()
        self._check_blocks(block, count, "uninject-error")
        hit = sorted(b for b in range(block, block + count) if b in self._injected)
        for b in hit:
            self._injected.discard(b)
            self.poison.difference_update(range(b * LINES_PER_SECTOR, (b + 1) * LINES_PER_SECTOR))
        self._emit("pmem.inject_error", op="uninject", block=block, count=count, uninjected=len(hit))
        self._save_errors()
        return {"block": block, "count": count, "uninjected": len(hit)}

    def injected_errors(self) -> list[dict[str, int]]:
        """ARS Error Inject Status: the injected ranges as (block, count), as `ndctl inject-error --status`."""
        return [{"block": b, "count": n} for b, n in self._injected_runs()]

    # --- ACPI NFIT root functions: ARS and Clear Error (SPAs) ----------------------------------------------------
    def _spa_range(self, address: int, length: int, what: str) -> int:
        """Check [address, address+length) lies in the region; returns its offset."""
        off = address - self.base
        if not isinstance(length, int) or length <= 0 or off < 0 or off + length > self.size:
            raise ConfigError(
                f"{self.name}: {what} of [{address:#x}, +{length:#x}) is outside the region "
                f"[{self.base:#x}, {self.base + self.size:#x})"
            )
        return off

    @property
    def ars_types(self) -> int:
        return ND_ARS_VOLATILE if self.volatile else ND_ARS_PERSISTENT

    @property
    def max_ars_records(self) -> int:
        return (self.max_ars_out - ARS_STATUS_HEADER) // ARS_RECORD_SIZE

    def ars_cap(self, address: int | None = None, length: int | None = None) -> dict[str, int]:
        """Query ARS Capabilities (nd_cmd_ars_cap) for a range (the whole region by default)."""
        address = self.base if address is None else address
        length = self.size - (address - self.base) if length is None else length
        self._spa_range(address, length, "ARS capabilities")
        return {"address": address, "length": length, "status": self.ars_types << 16,
                "max_ars_out": self.max_ars_out, "clear_err_unit": self.clear_err_unit, "flags": 0}  # fmt: skip

    def ars_start(self, address: int | None = None, length: int | None = None, *, type: int | None = None,
                  flags: int = 0) -> dict[str, int]:  # fmt: skip
        """Start ARS over a range (the whole region by default). Returns {status, scrub_time} (nd_cmd_ars_start):
        status 0 and the estimated seconds, or NFIT_ARS_START_BUSY while a scrub runs. With
        flags=ND_ARS_RETURN_PREV_DATA the results are the known bad ranges at once, without scrubbing."""
        self._check_open()
        if self.clock is None:
            raise ConfigError(f"{self.name}: address range scrub needs a clock (pass clock=...)")
        address = self.base if address is None else address
        length = self.size - (address - self.base) if length is None else length
        off = self._spa_range(address, length, "ARS")
        scan = self.ars_types if type is None else type
        if scan != self.ars_types:
            raise ConfigError(f"{self.name}: ARS type {scan} is not supported (this region supports {self.ars_types})")
        if self._ars is not None and self._ars.result is None:
            return {"status": NFIT_ARS_START_BUSY, "scrub_time": 0}
        self._ars_generation += 1
        run = self._ars = _ArsRun(address, length, scan, self._ars_generation)
        if flags & ND_ARS_RETURN_PREV_DATA:
            known = [(max(s, off), min(s + n, off + length)) for s, n in self._badrange]
            self._ars_finish(run, [(a, b - a) for a, b in _merge((a, b) for a, b in known if a < b)])
            return {"status": 0, "scrub_time": 0}
        ns = -(-length * NS_PER_S // self.ars_bytes_per_s)
        self._emit("pmem.ars", phase="start", address=address, length=length, type=scan, scrub_ns=ns)
        run.due = self.clock.now() + ns
        self._ars_timer(run)
        return {"status": 0, "scrub_time": max(1, math.ceil(ns / NS_PER_S))}

    def _ars_timer(self, run: _ArsRun) -> None:
        assert self.clock is not None
        self.clock.at(run.due, lambda _now, gen=run.generation: self._ars_complete(gen), tag=f"{self.name}:ars")

    def _ars_complete(self, generation: int) -> None:
        run = self._ars
        if run is None or run.generation != generation or generation != self._ars_generation or self.closed:
            return  # abandoned by a crash, a close or a newer scrub
        off = run.address - self.base
        first, last = off >> LINE_SHIFT, (off + run.length - 1) >> LINE_SHIFT
        lines = [ln for ln in self.poison if first <= ln <= last]
        found = []
        for line, n in _line_runs(lines):
            lo, hi = max(line << LINE_SHIFT, off), min((line + n) << LINE_SHIFT, off + run.length)
            found.append((lo, hi - lo))
        self._ars_finish(run, found)

    def _ars_finish(self, run: _ArsRun, found: list[Range]) -> None:
        """Publish a scrub's results; past the status buffer's capacity the scrub stopped (overflow)."""
        fits = found[: self.max_ars_records]
        status, flags, restart_address, restart_length = NFIT_ARS_STATUS_DONE, 0, 0, 0
        if len(found) > len(fits):
            stop = self.base + found[len(fits)][0]
            status, flags = NFIT_ARS_STATUS_INTR, NFIT_ARS_F_OVERFLOW
            restart_address, restart_length = stop, run.address + run.length - stop
        records = tuple(ArsRecord(self.handle, self.base + s, n) for s, n in fits)
        run.result = ArsStatus(status, run.address, run.length, restart_address, restart_length, run.type, flags,
                               records)  # fmt: skip
        new = [(s, n) for s, n in fits if self._badrange_add(s, n)]
        self._emit("pmem.ars", phase="done", **{k: v for k, v in run.result.as_dict().items() if k != "state"})
        if self.error_sink is not None:
            for s, n in new:  # found by the device itself, nobody consumed it: deferred
                self.error_sink({
                    "severity": "UED", "ec": EC_MEMORY_SCRUB, "addr": self.base + s, "ait": AIT_SPA,
                    "tt": TT_UNSPECIFIED, "scrub": True, "grain": LINE_SIZE, "length": n, "region": self.name,
                    "access": "scrub", "count": 1, "source": "pmem.ars",
                })  # fmt: skip
        self._errors_changed("ars", bool(new), run.address - self.base, run.length)

    def ars_status(self) -> ArsStatus:
        """Query ARS Status: NONE before any scrub, BUSY while one runs, then its results."""
        run = self._ars
        if run is None:
            return ArsStatus(NFIT_ARS_STATUS_NONE)
        if run.result is None:
            return ArsStatus(NFIT_ARS_STATUS_BUSY, run.address, run.length, type=run.type)
        return run.result

    def clear_error(self, address: int, length: int) -> dict[str, int]:
        """Clear Uncorrectable Error over [address, address+length) (SPAs). Both must be multiples of
        `clear_err_unit`, otherwise the command is refused (ConfigError naming the range). The media errors go,
        the range is forgotten by the host's bad ranges and reads back as zeros. Returns {status, cleared}."""
        self._check_open()
        unit = self.clear_err_unit
        if (address | length) & (unit - 1):
            raise ConfigError(
                f"{self.name}: Clear Error of [{address:#x}, +{length:#x}) refused: address and length must be "
                f"multiples of clear_err_unit ({unit} bytes)"
            )
        off = self._spa_range(address, length, "Clear Error")
        lines = range(off >> LINE_SHIFT, (off + length) >> LINE_SHIFT)
        poison = self.poison
        if len(lines) <= len(poison):
            bad = [ln for ln in lines if ln in poison]
        else:
            bad = [ln for ln in poison if ln in lines]
        poison.difference_update(bad)
        self._injected.difference_update(range(off >> SECTOR_SHIFT, (off + length) >> SECTOR_SHIFT))
        self._media_zero(off, length)
        changed = self._badrange_forget(off, length)
        self._emit("pmem.clear", address=address, length=length, cleared=length, lines=len(bad))
        self._errors_changed("clear", changed, off, length)
        return {"status": 0, "cleared": length}

    def _media_zero(self, off: int, length: int) -> None:
        """The cleared media holds zeros, in both the durable image and the working copy."""
        if self._durable is not None:
            durable = self._durable
            extents = [(a, bytes(n)) for a, n in _zero_extents(off, length) if durable[a : a + n] != bytes(n)]
            if extents:
                self._commit(extents)
        end = off + length
        for number in range(off >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
            page = self.pages.get(number)
            if page is not None:
                start = number << PAGE_SHIFT
                lo, hi = max(off, start), min(end, start + PAGE_SIZE)
                page[lo - start : hi - start] = bytes(hi - lo)

    # --- checkpoints -------------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The working copy (every resident page, and which ones are dirty), media errors, known bad ranges,
        injected blocks and a scrub in flight. A backing file is the durable image: it is not copied (a restore
        opens it again, so restore against the file as it was when the checkpoint was taken); an anonymous
        durable image lives and dies with the process, so its written pages are saved."""
        self._check_open()
        ars = None
        if self._ars is not None:
            run = self._ars
            result = None if run.result is None else {
                **{k: getattr(run.result, k) for k in ("status", "address", "length", "restart_address",
                                                      "restart_length", "type", "flags")},
                "records": [[r.handle, r.err_address, r.length] for r in run.result.records],
            }  # fmt: skip
            ars = {"address": run.address, "length": run.length, "type": run.type, "generation": run.generation,
                   "due": run.due, "result": result}  # fmt: skip
        durable = None
        if self.path is None and self._durable is not None:
            durable = [[n, self._durable[n << PAGE_SHIFT : (n + 1) << PAGE_SHIFT]] for n in sorted(self._durable_pages)]
        return {
            **super().snapshot(), "dirty": sorted(self._dirty), "badrange": [list(r) for r in self._badrange],
            "injected": sorted(self._injected), "ars": ars, "ars_generation": self._ars_generation,
            "durable": durable,
        }  # fmt: skip

    def restore(self, state: dict) -> None:
        self._check_open()
        anonymous = self.path is None and self._durable is not None
        if (state["durable"] is not None) != anonymous:
            raise ConfigError(f"{self.name}: the checkpoint and this region disagree on where its durable image lives")
        super().restore(state)
        self._dirty = set(state["dirty"])
        self._badrange = [[start, length] for start, length in state["badrange"]]
        self._injected = set(state["injected"])
        self._ars_generation = state["ars_generation"]
        for number, data in state["durable"] or ():
            assert self._durable is not None
            self._durable[number << PAGE_SHIFT : (number + 1) << PAGE_SHIFT] = data
            self._durable_pages.add(number)
        ars = state["ars"]
        self._ars = None
        if ars is not None:
            result = ars["result"]
            if result is not None:
                records = tuple(ArsRecord(*r) for r in result["records"])
                result = ArsStatus(**{**result, "records": records})
            self._ars = _ArsRun(ars["address"], ars["length"], ars["type"], ars["generation"], result, ars["due"])
            if result is None:
                self._ars_timer(self._ars)

    # --- reports -----------------------------------------------------------------------------------------------
    def _emit(self, kind: str, **fields: Any) -> None:
        if self.events is not None:
            self.events.emit(kind, region=self.name, **fields)

    def __repr__(self) -> str:
        where = "volatile" if self.volatile else str(self.path) if self.path else "anonymous"
        return f"<Pmem {self.name} {self.size:#x} bytes at {self.base:#x}, {where}>"


def _line_cuts(lo: int, hi: int) -> list[int]:
    """The starts of the pieces [lo, hi) splits into at 64-byte line boundaries."""
    return [lo, *range((lo | (LINE_SIZE - 1)) + 1, hi, LINE_SIZE)]


def _zero_extents(off: int, length: int, chunk: int = 1 << 20) -> list[Range]:
    """[off, off+length) in pieces of at most `chunk` bytes (a journal record never holds a huge zero run)."""
    return [(a, min(chunk, off + length - a)) for a in range(off, off + length, chunk)]


def _encode_record(extents: list[tuple[int, bytes | bytearray]]) -> bytes:
    body = b"".join(_EXTENT.pack(off, len(data)) + bytes(data) for off, data in extents)
    head = _REC_HEAD.pack(_REC_MAGIC, len(extents), len(body))
    return head + body + _CRC.pack(zlib.crc32(body, zlib.crc32(head)))


def _decode_record(journal: bytes, pos: int) -> tuple[list[tuple[int, bytes]], int] | None:
    """The record at `pos` and the position after it, or None for the end of the journal or a torn record."""
    if pos + _REC_HEAD.size > len(journal):
        return None
    magic, count, body_len = _REC_HEAD.unpack_from(journal, pos)
    end = pos + _REC_HEAD.size + body_len + _CRC.size
    if magic != _REC_MAGIC or end > len(journal):
        return None
    head = journal[pos : pos + _REC_HEAD.size]
    body = journal[pos + _REC_HEAD.size : end - _CRC.size]
    if _CRC.unpack_from(journal, end - _CRC.size)[0] != zlib.crc32(body, zlib.crc32(head)):
        return None
    extents, at = [], 0
    for _ in range(count):
        if at + _EXTENT.size > len(body):
            return None
        off, n = _EXTENT.unpack_from(body, at)
        at += _EXTENT.size
        extents.append((off, body[at : at + n]))
        at += n
    return (extents, end) if at == len(body) else None


# --- device tree --------------------------------------------------------------------------------------------------
def pmem_region(ctx: BuildContext, node: Node) -> None:
    """Factory for `pmem-region` nodes. Properties: `reg` (one or more ranges), `volatile` (boolean),
    `rasplat,backing-file` (one path per `reg` range, relative to the device tree's directory),
    `rasplat,clear-err-unit` and `rasplat,max-ars-out` (u32, ARS capabilities); `rasplat,reri-bank` as on memory
    nodes. Without a backing file a persistent region keeps its durable image in memory (it lasts as long as the
    platform)."""
    plat = ctx.platform
    ranges = node.reg()
    volatile = "volatile" in node
    files: list[str | None] = [None] * len(ranges)
    if "rasplat,backing-file" in node:
        if volatile:
            raise node.error("rasplat,backing-file", "a volatile region has no backing file")
        names = node.strings("rasplat,backing-file")
        if len(names) != len(ranges):
            raise node.error("rasplat,backing-file", f"{len(names)} paths for {len(ranges)} reg ranges (one each)")
        source = ctx.tree.source
        root = Path(source).parent if source and not source.startswith("<") else Path.cwd()
        files = [str(root / name) if name else None for name in names]
        if None in files:
            raise node.error("rasplat,backing-file", "an empty path")
    options: dict[str, int] = {}
    properties = (("rasplat,clear-err-unit", "clear_err_unit"), ("rasplat,max-ars-out", "max_ars_out"))
    for prop, key in properties:
        if prop in node:
            options[key] = node.u32(prop)
    for i, ((base, size), path) in enumerate(zip(ranges, files, strict=True)):
        name = node.path if i == 0 else f"{node.path}#{i}"
        try:
            # the router's sink logs into the bank a `rasplat,reri-bank` property attaches to this region
            sink = plat.ras.sink(name) if hasattr(plat, "ras") else None
            backend = Pmem(size, path, name=name, base=base, events=plat.events, clock=plat.clock,
                           volatile=volatile, error_sink=sink, **options)  # fmt: skip
        except ConfigError as e:
            message = str(e).removeprefix(f"{name}: ")
            prop = "rasplat,backing-file" if path else "reg"
            prop = next((p for p, key in properties if message.startswith(key)), prop)
            raise node.error(prop, message) from None
        ctx.map_memory(node, base, size, backend, i)
        plat.devices[name] = backend
    plat.description.setdefault("pmem", []).append(
        {"node": node.path, "reg": ranges, "volatile": volatile, "backing_files": files}
    )
