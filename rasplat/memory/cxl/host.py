"""The host side: what Linux's cxl driver does with a Type-3 device, for the kernel model.

- `MailboxDriver`: the doorbell protocol over the bus (drivers/cxl/pci.c `__cxl_pci_mbox_send_cmd`): fill the
  payload, write Command, ring, wait for the doorbell to clear, read Status, the output length and payload.
- `CXLHost`: drains event logs (Fatal, Fail, Warn, Info; Get Event Records, trace, Clear, until a Get returns
  no records) and pages the poison list (Get Poison List while More is set, at most `poison_list_max_mer`
  records) as `drivers/cxl/core/mbox.c` does, producing dicts shaped like the trace events and rasdaemon's
  tables (`cxl_poison_event`, `cxl_general_media_event`, `cxl_dram_event`, `cxl_memory_module_event`), reference
  memory-ras.md §3.1. No CXL event path calls memory_failure() in Linux; these are reports only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from construct import Struct

from ...errors import ConfigError, RasplatError
from ...events import EventLog
from .codes import Opcode, RetCode
from .events import LOG_NAMES, Log, parse_record
from .mailbox import (
    CMD,
    CMD_LEN_MASK,
    CMD_LEN_SHIFT,
    CTRL,
    CTRL_DOORBELL,
    MORE,
    PAYLOAD,
    STATUS,
    ClearEventRecordsIn,
    ClearPoisonIn,
    Dpa,
    DpaRange,
    GetEventRecordsOut,
    Identify,
    PoisonListOut,
    Timestamp,
)
from .poison import LINE, source_name

if TYPE_CHECKING:
    from ...bus import Bus
    from .type3 import Type3Device

ULLONG_MAX = (1 << 64) - 1  # Linux's "no HPA" in the cxl trace events
NULL_UUID = "00000000-0000-0000-0000-000000000000"
CLEAR_EVENT_MAX_HANDLES = 255  # Linux CXL_CLEAR_EVENT_MAX_HANDLES: nr_handles is a u8
DRAIN_ORDER = (Log.FATAL, Log.FAILURE, Log.WARNING, Log.INFORMATIONAL)


class MailboxError(RasplatError):
    """A mailbox command the host needed came back with an error return code."""

    def __init__(self, opcode: int, rc: int) -> None:
        try:
            name, rc_name = Opcode(opcode).name, RetCode(rc).name
        except ValueError:
            name, rc_name = f"{opcode:#06x}", f"{rc:#x}"
        super().__init__(f"CXL mailbox: {name} returned {rc_name} ({rc:#x})")
        self.opcode, self.rc = opcode, rc


class MailboxLike(Protocol):
    payload_size: int

    def execute(self, opcode: int, payload: bytes = b"") -> tuple[int, bytes]: ...


class MailboxDriver:
    """Drives a mailbox mapped at `base` on `bus` through its registers, exactly as a host would."""

    def __init__(self, bus: Bus, base: int, poll_limit: int = 1000) -> None:
        self.bus, self.base, self.poll_limit = bus, base, poll_limit
        self.payload_size = 1 << (self._read(0, 4) & 0x1F)

    def _read(self, off: int, size: int) -> int:
        return int.from_bytes(self.bus.read(self.base + off, size), "little")

    def _write(self, off: int, size: int, value: int) -> None:
        self.bus.write(self.base + off, value.to_bytes(size, "little"))

    def execute(self, opcode: int, payload: bytes = b"") -> tuple[int, bytes]:
        if len(payload) > self.payload_size:
            raise ConfigError(
                f"CXL mailbox driver: {len(payload)}-byte payload exceeds the {self.payload_size}-byte area"
            )
        if self._read(CTRL, 4) & CTRL_DOORBELL:
            raise ConfigError("CXL mailbox driver: the doorbell is still set (mailbox busy)")
        for i in range(0, len(payload), 8):  # MMIO takes naturally aligned 1/2/4/8-byte accesses
            chunk = payload[i : i + 8]
            for j, n in _split(len(chunk)):
                self.bus.write(self.base + PAYLOAD + i + j, chunk[j : j + n])
        self._write(CMD, 8, opcode | len(payload) << CMD_LEN_SHIFT)
        self._write(CTRL, 4, self._read(CTRL, 4) | CTRL_DOORBELL)
        for _ in range(self.poll_limit):
            if not self._read(CTRL, 4) & CTRL_DOORBELL:
                break
        else:
            raise ConfigError("CXL mailbox driver: the doorbell never cleared")
        rc = self._read(STATUS, 8) >> 32 & 0xFFFF
        length = self._read(CMD, 8) >> CMD_LEN_SHIFT & CMD_LEN_MASK
        out = bytearray()
        for i in range(0, length, 8):
            for j, n in _split(min(8, length - i)):
                out += self.bus.read(self.base + PAYLOAD + i + j, n)
        return rc, bytes(out)


def _split(n: int) -> list[tuple[int, int]]:
    """Split n ≤ 8 bytes at an 8-aligned offset into naturally aligned pieces: (offset, size)."""
    out, off = [], 0
    for size in (8, 4, 2, 1):
        while n - off >= size:
            out.append((off, size))
            off += size
    return out


class CXLHost:
    """The driver's view of one device. `mailbox` defaults to the device's Python API; pass a MailboxDriver
    to go through MMIO. Trace dicts are returned and, with `events`, emitted under the trace-event name."""

    def __init__(
        self,
        device: Type3Device,
        mailbox: MailboxLike | None = None,
        events: EventLog | None = None,
        now: Callable[[], int] | None = None,
    ) -> None:
        self.device = device
        self.mailbox = mailbox if mailbox is not None else device.mailbox
        self.events = events
        self.now = now or device.clock.now
        self.identity: dict | None = None

    # --- commands ---------------------------------------------------------------------------------------------
    def command(self, opcode: int, payload: bytes = b"", ok: tuple[int, ...] = (RetCode.SUCCESS,)) -> bytes:
        rc, out = self.mailbox.execute(opcode, payload)
        if rc not in ok:
            raise MailboxError(opcode, rc)
        return out

    def _parse(self, layout: Struct, data: bytes) -> dict:
        parsed = layout.parse(data)
        return {k: v for k, v in parsed.items() if not k.startswith("_")}

    def identify(self) -> dict:
        self.identity = self._parse(Identify, self.command(Opcode.IDENTIFY_MEMORY_DEVICE))
        return self.identity

    def probe(self, realtime_ns: int | None = None, vectors: tuple[int, int, int, int] | None = None) -> dict:
        """cxl_pci_probe in brief: Identify, Set Timestamp, and (with `vectors`) MSI event interrupts per log."""
        ident = self.identify()
        self.command(
            Opcode.SET_TIMESTAMP, Timestamp.build(dict(timestamp=self.now() if realtime_ns is None else realtime_ns))
        )
        if vectors is not None:
            self.set_event_interrupts(vectors)
        return ident

    def set_event_interrupts(self, vectors: tuple[int, int, int, int], mode: int = 1) -> None:
        """Set Event Interrupt Policy: each log signals `mode` (1 MSI/MSI-X) with its message number."""
        if len(vectors) != 4 or any(not 0 <= v < 16 for v in vectors):
            raise ConfigError(f"CXL host: event interrupt vectors {vectors} must be four numbers 0..15")
        self.command(Opcode.SET_EVENT_INTERRUPT_POLICY, bytes(mode | v << 4 for v in vectors))

    # --- events --------------------------------------------------------------------------------------------------
    def drain_events(self, status: int | None = None) -> list[dict]:
        """The event-interrupt handler (cxl_mem_get_event_records): drain every log whose Event Status bit is set
        (all four when status is None), Fatal first."""
        out: list[dict] = []
        for log in DRAIN_ORDER:
            if status is None or status >> log & 1:
                out += self.drain_log(log)
        return out

    def drain_log(self, log: int) -> list[dict]:
        out: list[dict] = []
        max_handles = min((self.mailbox.payload_size - 6) // 2, CLEAR_EVENT_MAX_HANDLES)
        while True:
            got = GetEventRecordsOut.parse(self.command(Opcode.GET_EVENT_RECORDS, bytes([log])))
            if not got.record_count:
                break
            for raw in got.records:
                out.append(self._emit(*self._event_trace(log, raw)))
            if got.flags & 1:
                out.append(
                    self._emit(
                        "cxl_overflow",
                        self._base()
                        | dict(
                            log=LOG_NAMES[log],
                            count=got.overflow_error_count,
                            first_ts=got.first_overflow_timestamp,
                            last_ts=got.last_overflow_timestamp,
                        ),
                    )
                )
            handles = [int.from_bytes(raw[0x14:0x16], "little") for raw in got.records]
            for i in range(0, len(handles), max_handles):
                batch = handles[i : i + max_handles]
                self.command(
                    Opcode.CLEAR_EVENT_RECORDS,
                    ClearEventRecordsIn.build(dict(event_log=log, clear_flags=0, nr_handles=len(batch), handles=batch)),
                )
        return out

    def _base(self) -> dict:
        return dict(timestamp=self.now(), memdev=self.device.name, host=self.device.host, serial=self.device.serial)

    def _emit(self, kind: str, fields: dict) -> dict:
        if self.events is not None:
            self.events.emit(kind, **fields)
        return fields

    def _region_fields(self, dpa: int) -> dict:
        region, hpa = self.device.dpa_to_hpa(dpa)
        if region is None or hpa is None:
            return dict(hpa=ULLONG_MAX, region="", region_uuid=NULL_UUID, hpa_alias0=ULLONG_MAX)
        return dict(hpa=hpa, region=region.name, region_uuid=region.uuid, hpa_alias0=ULLONG_MAX)

    def _event_trace(self, log: int, raw: bytes) -> tuple[str, dict]:
        rec = parse_record(bytes(raw))
        h = rec["hdr"]
        fields = self._base() | dict(
            log_type=LOG_NAMES[log],
            hdr_uuid=rec["uuid"],
            hdr_flags=h["flags"],
            hdr_handle=h["handle"],
            hdr_related_handle=h["related_handle"],
            hdr_ts=h["timestamp"],
            hdr_length=h["length"],
            hdr_maint_op_class=h["maint_op_class"],
            hdr_maint_op_sub_class=h["maint_op_sub_class"],
            hdr_ld_id=h["ld_id"],
            hdr_head_id=h["head_id"],
        )
        kind = rec["kind"]
        if kind == "generic":
            return "cxl_generic_event", fields | dict(data=rec["data"])
        b = rec["body"]
        comp = b["component_id"]
        pldm = dict(pldm_entity_id=comp[1:7], pldm_resource_id=comp[7:11])
        if kind == "memory_module":
            hi = b["health"]
            return "cxl_memory_module", fields | dict(
                event_type=b["event_type"],
                health_status=hi["health_status"],
                media_status=hi["media_status"],
                life_used=hi["life_used"],
                dirty_shutdown_cnt=hi["dirty_shutdown_cnt"],
                cor_vol_err_cnt=hi["cor_vol_err_cnt"],
                cor_per_err_cnt=hi["cor_per_err_cnt"],
                device_temp=hi["device_temp"],
                add_status=hi["additional_status"],
                event_sub_type=b["sub_type"],
                comp_id=comp,
                **pldm,
            )
        dpa = b["phys_addr"] & ~0x3F
        media = dict(
            dpa=dpa,
            dpa_flags=b["phys_addr"] & 0x3F,
            descriptor=b["descriptor"],
            type=b["type"],
            transaction_type=b["transaction_type"],
            channel=b["channel"],
            rank=b["rank"],
        )
        if kind == "general_media":
            return "cxl_general_media", fields | media | dict(
                device=b["device"],
                comp_id=comp,
                **self._region_fields(dpa),
                **pldm,
                sub_type=b["sub_type"],
                cme_threshold_ev_flags=b["cme_threshold_ev_flags"],
                cme_count=b["cme_count"],
            )
        return "cxl_dram", fields | media | dict(
            nibble_mask=b["nibble_mask"],
            bank_group=b["bank_group"],
            bank=b["bank"],
            row=b["row"],
            column=b["column"],
            cor_mask=b"".join(w.to_bytes(8, "little") for w in b["correction_mask"]),
            comp_id=comp,
            **self._region_fields(dpa),
            **pldm,
            sub_type=b["sub_type"],
            sub_channel=b["sub_channel"],
            cme_threshold_ev_flags=b["cme_threshold_ev_flags"],
            cvme_count=b["cvme_count"],
        )

    # --- poison --------------------------------------------------------------------------------------------------
    def get_poison(self, offset: int | None = None, length: int | None = None) -> list[dict]:
        """Read the poison list (cxl_mem_get_poison). Without a range, each non-empty partition in turn, as
        cxl_get_poison_by_memdev does. Stops when More clears or after poison_list_max_mer records."""
        if offset is None or length is None:
            ranges = [self.device.partition(p) for p in ("volatile", "persistent")]
            spans = [(a, b - a) for a, b in ranges if b > a]
        else:
            spans = [(offset, length)]
        max_errors = (self.identity or self.identify())["poison_list_max_mer"]
        out: list[dict] = []
        for start, size in spans:
            seen = 0
            while True:
                po = PoisonListOut.parse(
                    self.command(Opcode.GET_POISON_LIST, DpaRange.build(dict(dpa=start, length=size // LINE)))
                )
                for r in po.records:
                    out.append(
                        self._poison_trace(
                            "List", r.address & ~0x3F, r.length, r.address & 7, po.flags, po.overflow_timestamp
                        )
                    )
                seen += po.count
                if not po.flags & MORE or seen >= max_errors:  # guard against a device that never clears More
                    break
        return out

    def _poison_trace(self, trace_type: str, dpa: int, lines: int, source: int, flags: int, overflow_ts: int) -> dict:
        return self._emit(
            "cxl_poison",
            self._base()
            | dict(
                trace_type=trace_type,
                **self._region_fields(dpa),
                dpa=dpa,
                dpa_length=lines * LINE,
                source=source_name(source),
                flags=flags,
                overflow_ts=overflow_ts,
            ),
        )

    def _validate_dpa(self, dpa: int) -> None:
        """cxl_validate_poison_dpa: inside the device's DPA space and 64-byte aligned."""
        if dpa % LINE or not 0 <= dpa < self.device.capacity:
            raise ConfigError(f"CXL host: DPA {dpa:#x} is not a 64-byte aligned address inside {self.device.name}")

    def inject_poison(self, dpa: int) -> dict:
        """debugfs inject_poison: Inject Poison, then a cxl_poison trace of type Inject (source Unknown, as
        Linux synthesizes the record)."""
        self._validate_dpa(dpa)
        self.command(Opcode.INJECT_POISON, Dpa.build(dict(dpa=dpa)))
        return self._poison_trace("Inject", dpa, 1, 0, 0, 0)

    def clear_poison(self, dpa: int, data: bytes = bytes(LINE)) -> dict:
        """debugfs clear_poison: Clear Poison writing zeros (or `data`), then a cxl_poison trace of type Clear."""
        self._validate_dpa(dpa)
        self.command(Opcode.CLEAR_POISON, ClearPoisonIn.build(dict(dpa=dpa, data=data)))
        return self._poison_trace("Clear", dpa, 1, 0, 0, 0)
