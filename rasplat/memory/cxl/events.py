"""CXL event records (128 bytes each) and the device's four event logs.

Layouts: reference memory-ras.md §1.5 (UUIDs, big-endian), §1.6 (common header), §1.7 General Media,
§1.8 DRAM, §1.9 Memory Module, all r3.2 shapes; `r31_compat=True` refuses the r3.2-only fields so a record
matches what QEMU builds. Log behaviour: §1.4, §2.3 and Implications B3 (capacity, handles, overflow,
oldest-first clear, the interrupt on the empty-to-non-empty edge).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from construct import Array, Bytes, Int8ul, Int16sl, Int16ul, Int24ul, Int32ul, Int64ul, Padding, Struct

from ...errors import ConfigError
from .codes import RetCode

RECORD_SIZE = 128
RECORD_DATA_SIZE = 80  # what Linux's cxl_generic_event dumps


class Log(IntEnum):
    INFORMATIONAL = 0
    WARNING = 1
    FAILURE = 2
    FATAL = 3


LOG_NAMES = {0: "Informational", 1: "Warning", 2: "Failure", 3: "Fatal", 4: "Dynamic Capacity"}

# §1.5. Linux builds these with UUID_INIT (RFC 4122 byte order): .bytes, never .bytes_le.
GENERAL_MEDIA_UUID = uuid.UUID("fbcd0a77-c260-417f-85a9-088b1621eba6")
DRAM_UUID = uuid.UUID("601dcbb3-9c06-4eab-b8af-4e9bfb5c9624")
MEMORY_MODULE_UUID = uuid.UUID("fe927475-dd59-4339-a586-79bab113b774")
MEMORY_SPARING_UUID = uuid.UUID("e71f3a40-2d29-4092-8a39-4d1c966c7c65")
DYNAMIC_CAPACITY_UUID = uuid.UUID("ca95afa7-f183-4018-8c2f-95268e101a2a")

# Header flags (§1.6): bits[1:0] severity [spec-recall], then these.
FLAG_PERMANENT = 1 << 2
FLAG_MAINT_NEEDED = 1 << 3
FLAG_PERF_DEGRADED = 1 << 4
FLAG_HW_REPLACE = 1 << 5
FLAG_MAINT_OP_SUBCLASS_VALID = 1 << 6
FLAG_LD_ID_VALID = 1 << 7
FLAG_HEAD_ID_VALID = 1 << 8

# General Media / DRAM: Physical Address low bits and Memory Event Descriptor (§1.7).
DPA_VOLATILE = 1 << 0
DPA_NOT_REPAIRABLE = 1 << 1  # r3.2
DPA_FLAGS_MASK = 0x3F
DESC_UNCORRECTABLE = 1 << 0
DESC_THRESHOLD = 1 << 1
DESC_POISON_LIST_OVERFLOW = 1 << 2


class GmerType(IntEnum):
    ECC_ERROR = 0
    INVALID_ADDRESS = 1
    DATA_PATH_ERROR = 2
    TE_STATE_VIOLATION = 3
    SCRUB_MEDIA_ECC_ERROR = 4
    AP_CME_COUNTER_EXPIRE = 5
    CKID_VIOLATION = 6


class DerType(IntEnum):
    """DRAM event types: numbered differently from GmerType (§1.8, r3.1 Table 8-46)."""

    ECC_ERROR = 0
    SCRUB_MEDIA_ECC_ERROR = 1
    INVALID_ADDRESS = 2
    DATA_PATH_ERROR = 3
    TE_STATE_VIOLATION = 4
    AP_CME_COUNTER_EXPIRE = 5
    CKID_VIOLATION = 6


class Transaction(IntEnum):
    UNKNOWN = 0
    HOST_READ = 1
    HOST_WRITE = 2
    HOST_SCAN_MEDIA = 3
    HOST_INJECT_POISON = 4
    INTERNAL_MEDIA_SCRUB = 5
    INTERNAL_MEDIA_MANAGEMENT = 6
    INTERNAL_MEDIA_ECS = 7
    MEDIA_INITIALIZATION = 8


# Validity flags (§1.7, §1.8, §1.9).
GMER_VALID_CHANNEL, GMER_VALID_RANK, GMER_VALID_DEVICE = 1 << 0, 1 << 1, 1 << 2
GMER_VALID_COMPONENT, GMER_VALID_PLDM = 1 << 3, 1 << 4
DER_VALID_CHANNEL, DER_VALID_RANK, DER_VALID_NIBBLE, DER_VALID_BANK_GROUP = 1 << 0, 1 << 1, 1 << 2, 1 << 3
DER_VALID_BANK, DER_VALID_ROW, DER_VALID_COLUMN, DER_VALID_CORRECTION_MASK = 1 << 4, 1 << 5, 1 << 6, 1 << 7
DER_VALID_COMPONENT, DER_VALID_PLDM, DER_VALID_SUB_CHANNEL = 1 << 8, 1 << 9, 1 << 10
MMER_VALID_COMPONENT, MMER_VALID_PLDM = 1 << 0, 1 << 1

# --- layouts (offsets in the comments are from the start of the 128-byte record) ------------------------------
RecordHeader = Struct(
    "uuid" / Bytes(16),  # 0x00
    "length" / Int8ul,  # 0x10, always 0x80
    "flags" / Int24ul,  # 0x11
    "handle" / Int16ul,  # 0x14
    "related_handle" / Int16ul,  # 0x16
    "timestamp" / Int64ul,  # 0x18
    "maint_op_class" / Int8ul,  # 0x20
    "maint_op_sub_class" / Int8ul,  # 0x21
    "ld_id" / Int16ul,  # 0x22
    "head_id" / Int8ul,  # 0x24
    Padding(11),  # 0x25
)

GeneralMediaBody = Struct(
    "phys_addr" / Int64ul,  # 0x30
    "descriptor" / Int8ul,  # 0x38
    "type" / Int8ul,  # 0x39
    "transaction_type" / Int8ul,  # 0x3A
    "validity_flags" / Int16ul,  # 0x3B
    "channel" / Int8ul,  # 0x3D
    "rank" / Int8ul,  # 0x3E
    "device" / Int24ul,  # 0x3F
    "component_id" / Bytes(16),  # 0x42
    "cme_threshold_ev_flags" / Int8ul,  # 0x52
    "cme_count" / Int24ul,  # 0x53
    "sub_type" / Int8ul,  # 0x56
    Padding(41),  # 0x57
)

DramBody = Struct(
    "phys_addr" / Int64ul,  # 0x30
    "descriptor" / Int8ul,  # 0x38
    "type" / Int8ul,  # 0x39
    "transaction_type" / Int8ul,  # 0x3A
    "validity_flags" / Int16ul,  # 0x3B
    "channel" / Int8ul,  # 0x3D
    "rank" / Int8ul,  # 0x3E
    "nibble_mask" / Int24ul,  # 0x3F
    "bank_group" / Int8ul,  # 0x42
    "bank" / Int8ul,  # 0x43
    "row" / Int24ul,  # 0x44
    "column" / Int16ul,  # 0x47
    "correction_mask" / Array(4, Int64ul),  # 0x49
    "component_id" / Bytes(16),  # 0x69
    "sub_channel" / Int8ul,  # 0x79
    "cme_threshold_ev_flags" / Int8ul,  # 0x7A
    "cvme_count" / Int24ul,  # 0x7B
    "sub_type" / Int8ul,  # 0x7E
    Padding(1),  # 0x7F
)

HealthInfo = Struct(  # the 18-byte Get Health Info block (§1.9)
    "health_status" / Int8ul,
    "media_status" / Int8ul,
    "additional_status" / Int8ul,
    "life_used" / Int8ul,
    "device_temp" / Int16sl,
    "dirty_shutdown_cnt" / Int32ul,
    "cor_vol_err_cnt" / Int32ul,
    "cor_per_err_cnt" / Int32ul,
)

MemoryModuleBody = Struct(
    "event_type" / Int8ul,  # 0x30
    "health" / HealthInfo,  # 0x31
    "validity_flags" / Int16ul,  # 0x43
    "component_id" / Bytes(16),  # 0x45
    "sub_type" / Int8ul,  # 0x55
    Padding(42),  # 0x56
)

GeneralMediaRecord = Struct("hdr" / RecordHeader, "body" / GeneralMediaBody)
DramRecord = Struct("hdr" / RecordHeader, "body" / DramBody)
MemoryModuleRecord = Struct("hdr" / RecordHeader, "body" / MemoryModuleBody)
GenericRecord = Struct("hdr" / RecordHeader, "data" / Bytes(RECORD_DATA_SIZE))

_BODIES = {
    GENERAL_MEDIA_UUID.bytes: ("general_media", GeneralMediaRecord),
    DRAM_UUID.bytes: ("dram", DramRecord),
    MEMORY_MODULE_UUID.bytes: ("memory_module", MemoryModuleRecord),
}


def _header(
    record_uuid: uuid.UUID,
    flags: int,
    maint_op_class: int,
    maint_op_sub_class: int,
    ld_id: int | None,
    head_id: int | None,
) -> dict:
    if not 0 <= flags < 1 << 24:
        raise ConfigError(f"CXL event record: header flags {flags:#x} do not fit 24 bits")
    if ld_id is not None:
        flags |= FLAG_LD_ID_VALID
    if head_id is not None:
        flags |= FLAG_HEAD_ID_VALID
    if maint_op_sub_class:
        flags |= FLAG_MAINT_OP_SUBCLASS_VALID
    # Handle and timestamp are the device's to write when the record enters a log.
    return dict(
        uuid=record_uuid.bytes,
        length=RECORD_SIZE,
        flags=flags,
        handle=0,
        related_handle=0,
        timestamp=0,
        maint_op_class=maint_op_class,
        maint_op_sub_class=maint_op_sub_class,
        ld_id=ld_id or 0,
        head_id=head_id or 0,
    )


def _component(component_id: bytes | None) -> bytes:
    if component_id is None:
        return bytes(16)
    if len(component_id) > 16:
        raise ConfigError(f"CXL event record: component ID is {len(component_id)} bytes, at most 16")
    return bytes(component_id).ljust(16, b"\0")


def _check_threshold(kind: str, descriptor: int, type_: int, ap_cme: int, count: int, count_name: str) -> None:
    """The invariants Linux cxl_event_trace_record checks (§1.7): a threshold AP-CME record carries a count,
    and only threshold records may have the AP-CME type."""
    if descriptor & DESC_THRESHOLD:
        if type_ == ap_cme and count == 0:
            raise ConfigError(f"CXL {kind} record: a threshold AP-CME-expiration record needs a non-zero {count_name}")
    elif type_ == ap_cme:
        raise ConfigError(f"CXL {kind} record: type AP-CME counter expiration requires the Threshold descriptor bit")


def _r31(kind: str, **fields: int | bytes | None) -> None:
    used = [name for name, value in fields.items() if value]
    if used:
        raise ConfigError(f"CXL {kind} record: {', '.join(used)} are r3.2 fields; r31_compat records cannot carry them")


def general_media_record(
    *,
    dpa: int,
    volatile: bool = False,
    not_repairable: bool = False,
    descriptor: int = 0,
    type: int = 0,
    transaction_type: int = 0,
    channel: int | None = None,
    rank: int | None = None,
    device: int | None = None,
    component_id: bytes | None = None,
    pldm: bool = False,
    cme_threshold_ev_flags: int = 0,
    cme_count: int = 0,
    sub_type: int = 0,
    flags: int = 0,
    maint_op_class: int = 0,
    maint_op_sub_class: int = 0,
    ld_id: int | None = None,
    head_id: int | None = None,
    r31_compat: bool = False,
) -> bytes:
    """A General Media Event Record (§1.7). Optional location fields set their validity bits, as QEMU does."""
    if dpa % 64 or dpa < 0:
        raise ConfigError(f"CXL general media record: DPA {dpa:#x} is not 64-byte aligned")
    _check_threshold("general media", descriptor, type, GmerType.AP_CME_COUNTER_EXPIRE, cme_count, "CME count")
    if r31_compat:
        _r31(
            "general media",
            not_repairable=not_repairable,
            pldm=pldm,
            cme_threshold_ev_flags=cme_threshold_ev_flags,
            cme_count=cme_count,
            sub_type=sub_type,
            maint_op_sub_class=maint_op_sub_class,
        )
    validity = (
        (GMER_VALID_CHANNEL if channel is not None else 0)
        | (GMER_VALID_RANK if rank is not None else 0)
        | (GMER_VALID_DEVICE if device is not None else 0)
        | (GMER_VALID_COMPONENT if component_id is not None else 0)
        | (GMER_VALID_PLDM if pldm else 0)
    )
    body = dict(
        phys_addr=dpa | (DPA_VOLATILE if volatile else 0) | (DPA_NOT_REPAIRABLE if not_repairable else 0),
        descriptor=descriptor,
        type=type,
        transaction_type=transaction_type,
        validity_flags=validity,
        channel=channel or 0,
        rank=rank or 0,
        device=device or 0,
        component_id=_component(component_id),
        cme_threshold_ev_flags=cme_threshold_ev_flags,
        cme_count=cme_count,
        sub_type=sub_type,
    )
    hdr = _header(GENERAL_MEDIA_UUID, flags, maint_op_class, maint_op_sub_class, ld_id, head_id)
    return GeneralMediaRecord.build(dict(hdr=hdr, body=body))


def dram_record(
    *,
    dpa: int,
    volatile: bool = False,
    not_repairable: bool = False,
    descriptor: int = 0,
    type: int = 0,
    transaction_type: int = 0,
    channel: int | None = None,
    rank: int | None = None,
    nibble_mask: int | None = None,
    bank_group: int | None = None,
    bank: int | None = None,
    row: int | None = None,
    column: int | None = None,
    correction_mask: Sequence[int] | None = None,
    component_id: bytes | None = None,
    pldm: bool = False,
    sub_channel: int | None = None,
    cme_threshold_ev_flags: int = 0,
    cvme_count: int = 0,
    sub_type: int = 0,
    flags: int = 0,
    maint_op_class: int = 0,
    maint_op_sub_class: int = 0,
    ld_id: int | None = None,
    head_id: int | None = None,
    r31_compat: bool = False,
) -> bytes:
    """A DRAM Event Record (§1.8). `type` uses the DRAM numbering (DerType), not the General Media one."""
    if dpa % 64 or dpa < 0:
        raise ConfigError(f"CXL DRAM record: DPA {dpa:#x} is not 64-byte aligned")
    _check_threshold("DRAM", descriptor, type, DerType.AP_CME_COUNTER_EXPIRE, cvme_count, "CVME count")
    if r31_compat:  # QEMU's CXLEventDram stops after the correction mask and sets validity bits 0-7 only
        _r31(
            "DRAM",
            not_repairable=not_repairable,
            component_id=component_id,
            pldm=pldm,
            sub_channel=sub_channel,
            cme_threshold_ev_flags=cme_threshold_ev_flags,
            cvme_count=cvme_count,
            sub_type=sub_type,
            maint_op_sub_class=maint_op_sub_class,
        )
    mask = list(correction_mask or ())
    if len(mask) > 4:
        raise ConfigError(f"CXL DRAM record: correction mask has {len(mask)} words, at most 4")
    optional = (
        (channel, DER_VALID_CHANNEL),
        (rank, DER_VALID_RANK),
        (nibble_mask, DER_VALID_NIBBLE),
        (bank_group, DER_VALID_BANK_GROUP),
        (bank, DER_VALID_BANK),
        (row, DER_VALID_ROW),
        (column, DER_VALID_COLUMN),
        (correction_mask, DER_VALID_CORRECTION_MASK),
        (component_id, DER_VALID_COMPONENT),
        (sub_channel, DER_VALID_SUB_CHANNEL),
    )
    validity = sum(bit for value, bit in optional if value is not None) | (DER_VALID_PLDM if pldm else 0)
    body = dict(
        phys_addr=dpa | (DPA_VOLATILE if volatile else 0) | (DPA_NOT_REPAIRABLE if not_repairable else 0),
        descriptor=descriptor,
        type=type,
        transaction_type=transaction_type,
        validity_flags=validity,
        channel=channel or 0,
        rank=rank or 0,
        nibble_mask=nibble_mask or 0,
        bank_group=bank_group or 0,
        bank=bank or 0,
        row=row or 0,
        column=column or 0,
        correction_mask=mask + [0] * (4 - len(mask)),
        component_id=_component(component_id),
        sub_channel=sub_channel or 0,
        cme_threshold_ev_flags=cme_threshold_ev_flags,
        cvme_count=cvme_count,
        sub_type=sub_type,
    )
    hdr = _header(DRAM_UUID, flags, maint_op_class, maint_op_sub_class, ld_id, head_id)
    return DramRecord.build(dict(hdr=hdr, body=body))


def memory_module_record(
    *,
    event_type: int,
    health_status: int = 0,
    media_status: int = 0,
    additional_status: int = 0,
    life_used: int = 0,
    device_temp: int = 0,
    dirty_shutdown_cnt: int = 0,
    cor_vol_err_cnt: int = 0,
    cor_per_err_cnt: int = 0,
    component_id: bytes | None = None,
    pldm: bool = False,
    sub_type: int = 0,
    flags: int = 0,
    maint_op_class: int = 0,
    maint_op_sub_class: int = 0,
    ld_id: int | None = None,
    head_id: int | None = None,
    r31_compat: bool = False,
) -> bytes:
    """A Memory Module Event Record (§1.9) with its embedded Device Health Info block."""
    if r31_compat:
        _r31(
            "memory module",
            component_id=component_id,
            pldm=pldm,
            sub_type=sub_type,
            maint_op_sub_class=maint_op_sub_class,
        )
    validity = (MMER_VALID_COMPONENT if component_id is not None else 0) | (MMER_VALID_PLDM if pldm else 0)
    health = dict(
        health_status=health_status,
        media_status=media_status,
        additional_status=additional_status,
        life_used=life_used,
        device_temp=device_temp,
        dirty_shutdown_cnt=dirty_shutdown_cnt,
        cor_vol_err_cnt=cor_vol_err_cnt,
        cor_per_err_cnt=cor_per_err_cnt,
    )
    body = dict(
        event_type=event_type,
        health=health,
        validity_flags=validity,
        component_id=_component(component_id),
        sub_type=sub_type,
    )
    hdr = _header(MEMORY_MODULE_UUID, flags, maint_op_class, maint_op_sub_class, ld_id, head_id)
    return MemoryModuleRecord.build(dict(hdr=hdr, body=body))


def _plain(container: object) -> object:
    """construct Containers → plain dicts/lists (no private `_io` keys)."""
    if isinstance(container, dict):
        return {k: _plain(v) for k, v in container.items() if not k.startswith("_")}
    if isinstance(container, list):
        return [_plain(v) for v in container]
    return container


def parse_record(raw: bytes) -> dict:
    """A 128-byte record → {"kind", "uuid", "hdr": {...}, "body": {...}} ("generic" records carry "data")."""
    if len(raw) != RECORD_SIZE:
        raise ConfigError(f"CXL event record: {len(raw)} bytes, records are {RECORD_SIZE}")
    kind, layout = _BODIES.get(bytes(raw[:16]), ("generic", GenericRecord))
    parsed = _plain(layout.parse(bytes(raw)))
    assert isinstance(parsed, dict)
    parsed["kind"] = kind
    parsed["uuid"] = str(uuid.UUID(bytes=bytes(raw[:16])))
    return parsed


# --- the logs ----------------------------------------------------------------------------------------------------
class InterruptSetting(NamedTuple):
    """One byte of the Event Interrupt Policy (§1.4): bits[1:0] mode, bits[7:4] message number."""

    mode: int  # 0 none, 1 MSI/MSI-X, 2 firmware interrupt (EFN VDM), 3 reserved
    vector: int

    @classmethod
    def decode(cls, byte: int) -> InterruptSetting:
        return cls(byte & 3, byte >> 4 & 0xF)


INT_NONE, INT_MSI, INT_FW = 0, 1, 2


@dataclass
class EventLogState:
    capacity: int
    records: deque[bytes]
    next_handle: int = 1
    overflow_count: int = 0
    first_overflow_ts: int = 0
    last_overflow_ts: int = 0


class GetResult(NamedTuple):
    more: bool
    overflow: bool
    overflow_count: int
    first_overflow_ts: int
    last_overflow_ts: int
    records: list[bytes]


class EventLogs:
    """The Informational, Warning, Failure and Fatal event logs of one device.

    `timestamp()` is the device clock (Set Timestamp base + elapsed); `notify(log, setting)` is called on the
    empty-to-non-empty edge of a log whose policy mode is MSI or firmware interrupt; `trace(kind, **fields)`
    reports observable steps to the platform event stream.
    """

    def __init__(
        self,
        capacity: int | Sequence[int] = 8,
        *,
        timestamp: Callable[[], int],
        notify: Callable[[int, InterruptSetting], None] | None = None,
        trace: Callable[..., object] | None = None,
    ) -> None:
        caps = [capacity] * 4 if isinstance(capacity, int) else list(capacity)
        if len(caps) != 4 or any(not 1 <= c <= 0xFFFF for c in caps):
            raise ConfigError(f"CXL event logs: capacity {capacity!r} must be 1..65535 (or four such values)")
        self.logs = [EventLogState(c, deque()) for c in caps]
        self.timestamp = timestamp
        self.notify = notify
        self.trace = trace or (lambda kind, **fields: None)
        self.policy = bytearray(5)  # info, warn, failure, fatal, DCD: all "no interrupt" until the host sets them

    def _log(self, log: int) -> EventLogState:
        if not 0 <= log < 4:
            raise ConfigError(f"CXL event logs: no log {log} (0 informational .. 3 fatal)")
        return self.logs[log]

    @property
    def status(self) -> int:
        """The Event Status register: bit n set while log n holds records."""
        return sum(1 << n for n, s in enumerate(self.logs) if s.records)

    def records(self, log: int) -> list[bytes]:
        return list(self._log(log).records)

    def add(self, log: int, record: bytes) -> int | None:
        """Insert a record, writing its handle, timestamp and severity. Returns the handle, or None when the log
        was full: the record is dropped and the overflow count and timestamps move (§2.3)."""
        state = self._log(log)
        if len(record) != RECORD_SIZE:
            raise ConfigError(f"CXL event logs: record is {len(record)} bytes, must be {RECORD_SIZE}")
        now = self.timestamp()
        if len(state.records) >= state.capacity:
            if state.overflow_count == 0:
                state.first_overflow_ts = now
            state.overflow_count = min(state.overflow_count + 1, 0xFFFF)
            state.last_overflow_ts = now
            self.trace("cxl.event.overflow", log=LOG_NAMES[log], count=state.overflow_count)
            return None
        handle = state.next_handle
        state.next_handle = handle % 0xFFFF + 1  # 16-bit, never 0
        raw = bytearray(record)
        flags = int.from_bytes(raw[0x11:0x14], "little") & ~3 | log  # the severity is the log's
        raw[0x11:0x14] = flags.to_bytes(3, "little")
        raw[0x14:0x16] = handle.to_bytes(2, "little")
        raw[0x18:0x20] = now.to_bytes(8, "little")
        was_empty = not state.records
        state.records.append(bytes(raw))
        self.trace("cxl.event", log=LOG_NAMES[log], handle=handle, uuid=str(uuid.UUID(bytes=bytes(raw[:16]))))
        if was_empty:
            setting = InterruptSetting.decode(self.policy[log])
            if setting.mode in (INT_MSI, INT_FW):
                self.trace("cxl.event.irq", log=LOG_NAMES[log], mode=setting.mode, vector=setting.vector)
                if self.notify is not None:
                    self.notify(log, setting)
        return handle

    def snapshot(self) -> dict:
        logs = [[list(s.records), s.next_handle, s.overflow_count, s.first_overflow_ts, s.last_overflow_ts]
                for s in self.logs]  # fmt: skip
        return {"logs": logs, "policy": bytes(self.policy)}

    def restore(self, state: dict) -> None:
        for log, (records, *counters) in zip(self.logs, state["logs"], strict=True):
            log.records = deque(records)
            log.next_handle, log.overflow_count, log.first_overflow_ts, log.last_overflow_ts = counters
        self.policy[:] = state["policy"]

    def get(self, log: int, max_records: int) -> GetResult:
        state = self._log(log)
        out = list(state.records)[:max_records]
        return GetResult(
            len(state.records) > len(out),
            state.overflow_count > 0,
            state.overflow_count,
            state.first_overflow_ts,
            state.last_overflow_ts,
            out,
        )

    def clear(self, log: int, handles: Sequence[int], clear_all: bool = False) -> RetCode:
        """Clear Event Records: handles must name the oldest records, oldest first; otherwise nothing is cleared
        and the answer is Invalid Handle (CXL r3.1 §8.2.9.2.3 as quoted by QEMU; QEMU answers Invalid Input)."""
        state = self._log(log)
        if clear_all:
            # Clear All is only for a log that overflowed [spec-recall], and names no handles.
            if handles or not state.overflow_count:
                return RetCode.INVALID_INPUT
            state.records.clear()
        else:
            head = [int.from_bytes(r[0x14:0x16], "little") for r in list(state.records)[: len(handles)]]
            if list(handles) != head:
                return RetCode.INVALID_HANDLE
            for _ in handles:
                state.records.popleft()
        if handles or clear_all:
            # QEMU resets the overflow state once the head goes: the host has now seen it.
            state.overflow_count = state.first_overflow_ts = state.last_overflow_ts = 0
            self.trace("cxl.event.clear", log=LOG_NAMES[log], handles=list(handles), all=clear_all)
        return RetCode.SUCCESS
