"""A CXL Type-3 memory expander: DPA space, poison, HDM decoders, and the memory window the bus maps.

The DPA space is one sparse RAM: the volatile partition at DPA 0, the persistent one after it (Identify
reports both in 256 MiB units). The RAM's poison set is the *media* truth: a load of a poisoned line raises
`HardwareError`, so a hart consuming poison through CXL.mem takes the hardware-error path. QEMU's device
returns the stale data instead (reference memory-ras.md §2.4); this one returns poison (Implications B5).
The poison *list* (poison.py) is what the device reports through the mailbox.

    dev = Type3Device("mem0", volatile_size=256 << 20, clock=plat.clock, events=plat.events)
    region = CXLRegion([dev], hpa_base=0x1_0000_0000, size=256 << 20)
    plat.bus.map("cxl0", region.hpa_base, region.size, window_target(region))
    plat.bus.map("cxl0-mbox", 0x2000_0000, dev.mailbox.size, dev.mailbox, kind="mmio")
"""

from __future__ import annotations

import uuid as uuidlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from ...bus import HardwareError
from ...clock import Clock
from ...errors import ConfigError
from ...events import EventLog
from ..ram import RAM
from .codes import Opcode, RetCode
from .events import (
    DESC_POISON_LIST_OVERFLOW,
    DESC_UNCORRECTABLE,
    EventLogs,
    GmerType,
    InterruptSetting,
    Log,
    Transaction,
    general_media_record,
)
from .hdm import HDM_ALIGN, HDMDecoder, HDMRegion
from .mailbox import Mailbox
from .poison import LINE, PoisonList, Source, source_name
from .ras import RasCapability
from .regs import DeviceRegisters

# What a newly known poisoned line's creation event says, by source. Injected: descriptor 0, type 0,
# transaction "Host Inject Poison" (Implications B2). The others are device-detected uncorrectable errors.
CREATION_EVENT = {
    Source.INJECTED: (0, Transaction.HOST_INJECT_POISON),
    Source.INTERNAL: (DESC_UNCORRECTABLE, Transaction.INTERNAL_MEDIA_MANAGEMENT),
    Source.EXTERNAL: (DESC_UNCORRECTABLE, Transaction.HOST_WRITE),
    Source.VENDOR: (DESC_UNCORRECTABLE, Transaction.UNKNOWN),
    Source.UNKNOWN: (DESC_UNCORRECTABLE, Transaction.UNKNOWN),
}
PARTITIONS = ("volatile", "persistent")


def _source(source: str | int) -> Source:
    if isinstance(source, str):
        try:
            return Source[source.upper()]
        except KeyError:
            raise ConfigError(f"CXL poison: unknown source {source!r} (injected, internal, external, vendor)") from None
    return Source(source)


class Type3Device:
    """One Type-3 memory device.

    Callbacks (attributes, settable after construction):
      on_event_interrupt(log, setting)  a log went from empty to non-empty and its policy asks for an interrupt;
                                        setting is InterruptSetting(mode 1 MSI / 2 firmware, vector)
      on_mailbox_interrupt(vector)      a background command completed with its interrupt enabled
      on_ras_interrupt(kind, severity)  and error_sink(fields): see ras.RasCapability
    """

    def __init__(
        self,
        name: str = "mem0",
        *,
        volatile_size: int = HDM_ALIGN,
        persistent_size: int = 0,
        clock: Clock | None = None,
        events: EventLog | None = None,
        serial: int = 0,
        host: str | None = None,
        poison_max: int = 256,
        inject_limit: int = 0,
        event_log_capacity: int | Sequence[int] = 8,
        poison_event_log: int = Log.INFORMATIONAL,
        payload_size: int = 2048,
        mailbox_vector: int = 0,
        decoder_count: int = 4,
        full_line_write_clears: bool = False,
        on_event_interrupt: Callable[[int, InterruptSetting], None] | None = None,
        on_mailbox_interrupt: Callable[[int], None] | None = None,
        on_ras_interrupt: Callable[[str, str], None] | None = None,
        error_sink: Callable[[dict], None] | None = None,
    ) -> None:
        for what, size in (("volatile", volatile_size), ("persistent", persistent_size)):
            if size < 0 or size % HDM_ALIGN:
                raise ConfigError(f"CXL {name}: {what} size {size:#x} is not a multiple of 256 MiB")
        if volatile_size + persistent_size == 0:
            raise ConfigError(f"CXL {name}: needs some capacity (volatile_size + persistent_size is 0)")
        if not 0 <= inject_limit <= 0xFFFF:
            raise ConfigError(f"CXL {name}: inject_limit {inject_limit} must be 0 (no separate limit) .. 65535")
        if poison_event_log not in range(4):
            raise ConfigError(f"CXL {name}: poison_event_log {poison_event_log} must be a log number 0..3")
        self.name = name
        self.serial = serial
        self.host = host or f"cxl_mem.{serial}"
        self.volatile_size, self.persistent_size = volatile_size, persistent_size
        self.capacity = volatile_size + persistent_size
        self.clock = clock if clock is not None else Clock()
        self.events = events if events is not None else EventLog()
        self.media = RAM(self.capacity, name=f"{name}.media")
        self.poison = PoisonList(poison_max)
        self.inject_limit = inject_limit
        self.poison_event_log = poison_event_log
        self.full_line_write_clears = full_line_write_clears
        self.decoder_count = decoder_count
        self.decoders: list[HDMDecoder] = []
        self.decoder_regions: list[CXLRegion | None] = []
        self.on_event_interrupt = on_event_interrupt
        self.on_mailbox_interrupt = on_mailbox_interrupt
        self.event_logs = EventLogs(
            event_log_capacity, timestamp=self.timestamp, notify=self._event_interrupt, trace=self.trace
        )
        self.ras = RasCapability(name, on_ras_interrupt=on_ras_interrupt, error_sink=error_sink, trace=self.trace)
        self.mailbox = Mailbox(self, payload_size, vector=mailbox_vector)
        self.registers = DeviceRegisters(self)
        self.health = dict(
            health_status=0,
            media_status=0,
            additional_status=0,
            life_used=0,
            device_temp=25,
            dirty_shutdown_cnt=0,
            cor_vol_err_cnt=0,
            cor_per_err_cnt=0,
        )
        self.scan_results: deque[tuple[int, int, Source]] | None = None
        self.media_disabled = False  # during Sanitize
        self._ts_base: int | None = None
        self._ts_set_at = 0

    def __repr__(self) -> str:
        vol, pers = self.volatile_size >> 20, self.persistent_size >> 20
        return f"<Type3Device {self.name} {vol} MiB volatile, {pers} MiB persistent>"

    # --- plumbing -----------------------------------------------------------------------------------------------
    def trace(self, kind: str, **fields: object) -> None:
        self.events.emit(kind, **{"device": self.name, **fields})

    def _event_interrupt(self, log: int, setting: InterruptSetting) -> None:
        if self.on_event_interrupt is not None:
            self.on_event_interrupt(log, setting)

    @property
    def on_ras_interrupt(self) -> Callable[[str, str], None] | None:
        return self.ras.on_ras_interrupt

    @on_ras_interrupt.setter
    def on_ras_interrupt(self, callback: Callable[[str, str], None] | None) -> None:
        self.ras.on_ras_interrupt = callback

    @property
    def error_sink(self) -> Callable[[dict], None] | None:
        return self.ras.error_sink

    @error_sink.setter
    def error_sink(self, callback: Callable[[dict], None] | None) -> None:
        self.ras.error_sink = callback

    def timestamp(self) -> int:
        """The device clock in ns: 0 until Set Timestamp (as QEMU), then the host's value plus elapsed time."""
        if self._ts_base is None:
            return 0
        return self._ts_base + self.clock.now() - self._ts_set_at

    def set_timestamp(self, ns: int) -> None:
        self._ts_base, self._ts_set_at = ns, self.clock.now()

    def is_volatile(self, dpa: int) -> bool:
        return dpa < self.volatile_size

    def partition(self, name: str) -> tuple[int, int]:
        """[start, end) DPA of the "volatile" or "persistent" partition."""
        if name == "volatile":
            return 0, self.volatile_size
        if name == "persistent":
            return self.volatile_size, self.capacity
        raise ConfigError(f"CXL {self.name}: no partition {name!r} (volatile, persistent)")

    def _check_dpa(self, dpa: int, lines: int = 1) -> None:
        if dpa % LINE or dpa < 0 or lines < 1 or dpa + lines * LINE > self.capacity:
            raise ConfigError(
                f"CXL {self.name}: DPA range {dpa:#x} + {lines} lines must be 64-byte aligned inside {self.capacity:#x}"
            )

    # --- checkpoints -------------------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Media (data and poison), the poison list, event logs, RAS capability, mailbox (with a running background
        command), health, scan results and the timestamp base. The HDM decoders come from the device tree; they
        are listed so a restore can check that nothing was committed after the platform was built."""
        scan = None if self.scan_results is None else [[d, n, int(src)] for d, n, src in self.scan_results]
        return {
            "media": self.media.snapshot(), "poison": self.poison.snapshot(), "event_logs": self.event_logs.snapshot(),
            "ras": self.ras.snapshot(), "mailbox": self.mailbox.snapshot(), "health": dict(self.health),
            "scan_results": scan, "media_disabled": self.media_disabled, "ts": [self._ts_base, self._ts_set_at],
            "decoders": self._decoder_list(),
        }  # fmt: skip

    def restore(self, state: dict) -> None:
        if state["decoders"] != self._decoder_list():
            raise ConfigError(f"CXL {self.name}: decoders committed after the platform was built cannot be restored")
        self.media.restore(state["media"])
        self.poison.restore(state["poison"])
        self.event_logs.restore(state["event_logs"])
        self.ras.restore(state["ras"])
        self.mailbox.restore(state["mailbox"])
        self.health.clear()
        self.health.update(state["health"])
        scan = state["scan_results"]
        self.scan_results = None if scan is None else deque((d, n, Source(src)) for d, n, src in scan)
        self.media_disabled = state["media_disabled"]
        self._ts_base, self._ts_set_at = state["ts"]

    def _decoder_list(self) -> list[list[int]]:
        return [[d.hpa_base, d.size, d.ways, d.granularity, d.position, d.dpa_base, d.dpa_skip] for d in self.decoders]

    # --- HDM decoders ------------------------------------------------------------------------------------------
    def plan_decoder(
        self,
        hpa_base: int,
        size: int,
        ways: int = 1,
        granularity: int = 256,
        position: int = 0,
        *,
        partition: str = "volatile",
        dpa_skip: int | None = None,
    ) -> HDMDecoder:
        """The decoder `commit_decoder` would commit next, validated but not committed. DPA is allocated after
        the last committed decoder; by default the skip moves the range to the start of `partition`."""
        if len(self.decoders) >= self.decoder_count:
            raise ConfigError(f"CXL {self.name}: all {self.decoder_count} HDM decoders are committed")
        part_start, part_end = self.partition(partition)
        dpa_base = self.decoders[-1].dpa_end if self.decoders else 0
        if dpa_skip is None:
            dpa_skip = max(0, part_start - dpa_base)
        decoder = HDMDecoder(hpa_base, size, ways, granularity, position, dpa_base, dpa_skip)
        if not part_start <= decoder.dpa_start or decoder.dpa_end > part_end:
            raise ConfigError(
                f"CXL {self.name}: decoder DPA range [{decoder.dpa_start:#x}, {decoder.dpa_end:#x}) does not fit the "
                f"{partition} partition [{part_start:#x}, {part_end:#x})"
            )
        return decoder

    def commit_decoder(
        self,
        hpa_base: int,
        size: int,
        ways: int = 1,
        granularity: int = 256,
        position: int = 0,
        *,
        partition: str = "volatile",
        dpa_skip: int | None = None,
        region: CXLRegion | None = None,
    ) -> HDMDecoder:
        decoder = self.plan_decoder(hpa_base, size, ways, granularity, position, partition=partition, dpa_skip=dpa_skip)
        self.decoders.append(decoder)
        self.decoder_regions.append(region)
        self.trace(
            "cxl.hdm.commit",
            hpa_base=hpa_base,
            size=size,
            ways=ways,
            granularity=granularity,
            position=position,
            dpa_start=decoder.dpa_start,
            dpa_size=decoder.dpa_size,
        )
        return decoder

    def dpa_to_hpa(self, dpa: int) -> tuple[CXLRegion | None, int | None]:
        """(region, HPA) of a DPA through the committed decoders; (None, None) when no decoder maps it."""
        for decoder, region in zip(self.decoders, self.decoder_regions, strict=True):
            if decoder.contains_dpa(dpa):
                return region, decoder.dpa_to_hpa(dpa)
        return None, None

    # --- poison ---------------------------------------------------------------------------------------------------
    def add_poison(
        self,
        dpa: int,
        lines: int = 1,
        source: Source | str = Source.INTERNAL,
        *,
        listed: bool = True,
        event: bool = True,
        log: int | None = None,
        transaction: int | None = None,
    ) -> dict:
        """Poison [dpa, dpa + 64*lines) on the media.

        listed=True: the device knows (detected, injected, received): the lines join the poison list, and a
        poison-creation General Media event goes to `log` (default: the device's poison_event_log,
        Informational) unless event=False. listed=False: a latent media defect nobody has seen yet; only a
        read (which gets poison) or a Scan Media finds it."""
        self._check_dpa(dpa, lines)
        source = _source(source)
        for line in range(dpa, dpa + lines * LINE, LINE):
            self.media.poison.add(line // LINE)
        result = dict(device=self.name, dpa=dpa, lines=lines, source=source_name(source), listed=0, aside=0)
        if not listed:
            self.trace("cxl.poison.add", dpa=dpa, lines=lines, source=source_name(source), latent=True)
            return result
        was_overflowed = self.poison.overflowed
        new, aside = self.poison.add(dpa, lines, source, self.timestamp())
        result.update(listed=len(new), aside=len(aside))
        self.trace(
            "cxl.poison.add", dpa=dpa, lines=lines, source=source_name(source), listed=len(new), aside=len(aside)
        )
        target_log = self.poison_event_log if log is None else log
        if event and new:
            descriptor, default_transaction = CREATION_EVENT[source]
            self._media_event(
                new[0], target_log, descriptor, default_transaction if transaction is None else transaction
            )
        if event and aside and not was_overflowed:
            # The General Media descriptor has a bit for exactly this (§1.7 bit 2).
            self._media_event(
                aside[0],
                target_log,
                DESC_UNCORRECTABLE | DESC_POISON_LIST_OVERFLOW,
                Transaction.INTERNAL_MEDIA_MANAGEMENT if transaction is None else transaction,
            )
        return result

    def _media_event(self, dpa: int, log: int, descriptor: int, transaction: int) -> int | None:
        record = general_media_record(
            dpa=dpa,
            volatile=self.is_volatile(dpa),
            descriptor=descriptor,
            type=GmerType.ECC_ERROR,
            transaction_type=transaction,
        )
        return self.event_logs.add(log, record)

    def add_event(self, log: int, record: bytes) -> int | None:
        """Put a built record (events.general_media_record, dram_record, memory_module_record) into a log, as
        QEMU's cxl-inject-*-event commands do. Returns the handle, or None if the log overflowed."""
        return self.event_logs.add(log, record)

    def clear_poison(self, dpa: int, data: bytes | None = None) -> bool:
        """Clear the line at `dpa` on the media and in the list (splitting a longer record), then write `data`
        (64 bytes) if given, as Clear Poison does. Returns whether the line was poisoned or listed."""
        self._check_dpa(dpa)
        if data is not None and len(data) != LINE:
            raise ConfigError(f"CXL {self.name}: clear-poison data is {len(data)} bytes, must be 64")
        in_media = dpa // LINE in self.media.poison
        self.media.poison.discard(dpa // LINE)
        in_list = self.poison.remove_line(dpa, self.timestamp())
        if data is not None:
            self.media.write_bytes(dpa, data)
        self.trace("cxl.poison.clear", dpa=dpa, was_poisoned=in_media, was_listed=in_list)
        return in_media or in_list

    def write_media(self, dpa: int, data: bytes) -> None:
        """Host-path write (a window's write_bytes). A write covering whole lines clears their poison only when
        the device is configured to (full_line_write_clears) [spec-recall]; otherwise poison stays."""
        self.media.write_bytes(dpa, data)
        if self.full_line_write_clears and self.media.poison:
            first = -(-dpa // LINE) * LINE
            for line in range(first, dpa + len(data) - LINE + 1, LINE):
                if line // LINE in self.media.poison or self.poison.is_known(line):
                    self.clear_poison(line)

    # --- background work (the mailbox starts these; the clock finishes them) ----------------------------------------
    def scan_media(self, start: int, end: int, event_log: bool = True) -> None:
        """Finish a Scan Media of [start, end): report every poisoned line found, put set-aside and newly found
        lines back into the list where there is room, and clear the overflow once nothing is set aside (only a
        scan may clear it, §2.2). Newly found latent lines get a General Media event unless event_log=False."""
        now = self.timestamp()
        found = sorted(line * LINE for line in self.media.poison if start <= line * LINE < end)
        results: list[list] = []  # [dpa, lines, source] runs
        for dpa in found:
            rec = self.poison.covering(dpa)
            source = rec.source if rec is not None else self.poison.unlisted.get(dpa)
            if source is None:  # latent: this scan discovered it
                source = Source.INTERNAL
                if event_log:
                    self._media_event(dpa, self.poison_event_log, DESC_UNCORRECTABLE, Transaction.HOST_SCAN_MEDIA)
            if rec is None:
                self.poison.add(dpa, 1, source, now)
            if results and results[-1][0] + results[-1][1] * LINE == dpa and results[-1][2] == source:
                results[-1][1] += 1
            else:
                results.append([dpa, 1, source])
        if self.poison.overflowed and not self.poison.unlisted:
            self.poison.overflowed, self.poison.overflow_ts = False, 0
        self.scan_results = deque((dpa, lines, source) for dpa, lines, source in results)
        self.trace("cxl.scan.done", start=start, end=end, found=len(found), overflowed=self.poison.overflowed)

    def sanitize_media(self) -> None:
        """Finish a Sanitize: every line rewritten, so all data and all poison are gone."""
        RAM.__init__(self.media, self.capacity, self.media.name)  # reset in place: window targets hold this RAM
        self.poison.clear()
        self.scan_results = None
        self.mailbox.poison_cursor = None
        self.media_disabled = False
        self.trace("cxl.sanitize.done")


class CXLRegion:
    """An HPA window interleaved across `devices` (position = index), committing one HDM decoder on each."""

    checkpoint_stateless = True  # built from the device tree; the decoders are its devices'

    def __init__(
        self,
        devices: Sequence[Type3Device],
        hpa_base: int,
        size: int,
        *,
        granularity: int = 256,
        name: str = "region0",
        partition: str = "volatile",
        uuid: str | None = None,
    ) -> None:
        if not devices:
            raise ConfigError(f"CXL {name}: needs at least one device")
        if len({id(d) for d in devices}) != len(devices):
            raise ConfigError(f"CXL {name}: a device appears twice in {[d.name for d in devices]}")
        ways = len(devices)
        # Plan every decoder first so a bad parameter leaves no device half-configured.
        for pos, dev in enumerate(devices):
            dev.plan_decoder(hpa_base, size, ways, granularity, pos, partition=partition)
        decoders = [
            dev.commit_decoder(hpa_base, size, ways, granularity, pos, partition=partition, region=self)
            for pos, dev in enumerate(devices)
        ]
        self.devices = tuple(devices)
        self.hdm = HDMRegion(decoders)
        self.name = name
        self.hpa_base, self.size, self.ways, self.granularity = hpa_base, size, ways, granularity
        self.partition = partition
        # Linux reports a null UUID for RAM regions; a pmem region has its own.
        self.uuid = uuid or (
            str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"rasplat:{name}"))
            if partition == "persistent"
            else "00000000-0000-0000-0000-000000000000"
        )

    @property
    def end(self) -> int:
        return self.hpa_base + self.size

    def locate(self, hpa: int) -> tuple[Type3Device, int]:
        """HPA → (device, DPA)."""
        pos, dpa = self.hdm.locate(hpa)
        return self.devices[pos], dpa

    def hpa(self, device: Type3Device, dpa: int) -> int:
        return self.hdm.hpa(self.devices.index(device), dpa)

    def __repr__(self) -> str:
        return f"<CXLRegion {self.name} [{self.hpa_base:#x}, {self.end:#x}) {self.ways}-way {self.granularity} B>"


def window_target(region: CXLRegion) -> WindowTarget:
    """The bus target for a region's HPA window (map it at region.hpa_base with region.size)."""
    return WindowTarget(region)


class WindowTarget:
    """The CXL.mem window: bus offsets (HPA - region base) decoded to (device, DPA).

    Implements the memory-backend protocol (rasplat.memory.base). Poison bites: a load or store touching a
    poisoned line raises HardwareError. An access that straddles a granule boundary is split across devices.
    """

    checkpoint_stateless = True  # a view: the state is its devices' media

    inject_kinds: tuple[str, ...] = ("poison", "cxl-poison")

    def __init__(self, region: CXLRegion) -> None:
        self.region = region
        self.size = region.size
        self._shift = region.hdm.eig + 8
        self._hpa_base = region.hpa_base
        self._single = region.ways == 1
        self._dev0 = region.devices[0]
        self._media0 = self._dev0.media
        self._base0 = region.hdm.decoders[0].dpa_start

    # --- decode -------------------------------------------------------------------------------------------------
    def _locate(self, off: int) -> tuple[Type3Device, int]:
        if self._single:
            return self._dev0, self._base0 + off
        return self.region.locate(self._hpa_base + off)

    def _pieces(self, off: int, size: int) -> Iterator[tuple[Type3Device, int, int, int]]:
        """(device, DPA, length, window offset) for each granule-bounded piece of [off, off+size)."""
        if self._single:
            yield self._dev0, self._base0 + off, size, off
            return
        end = off + size
        while off < end:
            n = min(end, ((off >> self._shift) + 1) << self._shift) - off
            dev, dpa = self._locate(off)
            yield dev, dpa, n, off
            off += n

    def _check(self, off: int, size: int) -> None:
        if off < 0 or size < 0 or off + size > self.size:
            raise ConfigError(
                f"CXL {self.region.name}: range [{off:#x}, +{size:#x}) is outside the {self.size:#x}-byte window"
            )

    # --- hot path -------------------------------------------------------------------------------------------------
    def load(self, off: int, size: int) -> int:
        if self._single:
            if self._dev0.media_disabled:
                raise HardwareError
            return self._media0.load(self._base0 + off, size)
        if off >> self._shift == (off + size - 1) >> self._shift:
            dev, dpa = self.region.locate(self._hpa_base + off)
            if dev.media_disabled:
                raise HardwareError
            return dev.media.load(dpa, size)
        data = b""
        for dev, dpa, n, _ in self._pieces(off, size):
            if dev.media_disabled or dev.media.poisoned_lines(dpa, n):
                raise HardwareError
            data += dev.media.read_bytes(dpa, n)
        return int.from_bytes(data, "little")

    def store(self, off: int, size: int, value: int) -> None:
        if self._single:
            if not self._dev0.media_disabled:  # writes to disabled media are dropped
                self._media0.store(self._base0 + off, size, value)
            return
        if off >> self._shift == (off + size - 1) >> self._shift:
            dev, dpa = self.region.locate(self._hpa_base + off)
            if not dev.media_disabled:
                dev.media.store(dpa, size, value)
            return
        pieces = list(self._pieces(off, size))
        if any(dev.media.poisoned_lines(dpa, n) for dev, dpa, n, _ in pieces):
            raise HardwareError  # the partial line would be read-modified-written: nothing is stored
        data = value.to_bytes(size, "little")
        for dev, dpa, n, o in pieces:
            if not dev.media_disabled:
                dev.media.write_bytes(dpa, data[o - off : o - off + n])

    # --- host path --------------------------------------------------------------------------------------------------
    def read_bytes(self, off: int, size: int) -> bytes:
        self._check(off, size)
        return b"".join(dev.media.read_bytes(dpa, n) for dev, dpa, n, _ in self._pieces(off, size))

    def write_bytes(self, off: int, data: bytes) -> None:
        self._check(off, len(data))
        for dev, dpa, n, o in self._pieces(off, len(data)):
            dev.write_media(dpa, data[o - off : o - off + n])

    def poisoned_lines(self, off: int, size: int) -> list[int]:
        """Window offsets of the poisoned lines [off, off+size) touches, in address order."""
        if size <= 0:
            return []
        total = sum(len(dev.media.poison) for dev in self.region.devices)
        if not total:
            return []
        if (size >> self._shift) > total:  # a long range: map each poisoned line back instead of walking granules
            out = []
            for dev, decoder in zip(self.region.devices, self.region.hdm.decoders, strict=True):
                for line in dev.media.poison:
                    if decoder.contains_dpa(line * LINE):
                        hpa_off = decoder.dpa_to_hpa(line * LINE) - self._hpa_base
                        if off - LINE < hpa_off < off + size:
                            out.append(hpa_off)
            return sorted(out)
        return [
            o + line - dpa for dev, dpa, n, o in self._pieces(off, size) for line in dev.media.poisoned_lines(dpa, n)
        ]

    # --- errors -------------------------------------------------------------------------------------------------------
    def inject(self, kind: str, off: int, **params: object) -> dict:
        """kind "poison": a media error on the line holding `off`, source Internal unless `source=` says
        otherwise (external, vendor, injected); `detected=False` leaves it latent (not listed, no event).
        kind "cxl-poison": exactly what mailbox Inject Poison does (source Injected, creation event, limits)."""
        if kind not in self.inject_kinds:
            raise ConfigError(
                f"CXL {self.region.name}: cannot inject {kind!r} (supports: {', '.join(self.inject_kinds)})"
            )
        self._check(off, 1)
        dev, dpa = self._locate(off)
        dpa &= ~(LINE - 1)
        line = off & ~(LINE - 1)
        if kind == "cxl-poison":
            if params:
                raise ConfigError(
                    f"CXL {self.region.name}: inject 'cxl-poison' takes no parameters, got {sorted(params)}"
                )
            rc, _ = dev.mailbox.execute(Opcode.INJECT_POISON, dpa.to_bytes(8, "little"))
            if rc != RetCode.SUCCESS:
                raise ConfigError(f"CXL {dev.name}: Inject Poison at DPA {dpa:#x} failed: {RetCode(rc).name}")
            return {"line": line, "device": dev.name, "dpa": dpa}
        unknown = set(params) - {"source", "detected"}
        if unknown:
            raise ConfigError(
                f"CXL {self.region.name}: inject 'poison' takes source= and detected=, got {sorted(unknown)}"
            )
        source = params.get("source", "internal")
        assert isinstance(source, str | int)
        dev.add_poison(dpa, 1, source, listed=bool(params.get("detected", True)))
        return {"line": line, "device": dev.name, "dpa": dpa}

    def clear_poison(self, off: int) -> bool:
        self._check(off, 1)
        dev, dpa = self._locate(off)
        return dev.clear_poison(dpa & ~(LINE - 1))

    def consumed(self, off: int, size: int, access: str) -> dict:
        """Extra fields for the `poison.consume` event: which device line the hart consumed."""
        lines = self.poisoned_lines(off, size)
        line = lines[0] if lines else off & ~(LINE - 1)
        dev, dpa = self._locate(line)
        return {"line": line, "device": dev.name, "dpa": dpa, "media_disabled": dev.media_disabled}
