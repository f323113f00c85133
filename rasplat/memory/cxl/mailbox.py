"""The primary mailbox of a Type-3 device: MMIO registers and the command set behind them.

Register block (Linux drivers/cxl/cxl.h, "CXL 2.0 8.2.8.4 Mailbox Registers"):

    0x00  Mailbox Capabilities  u32  [4:0] payload size as log2 (8..20), bit 6 background-complete IRQ capable,
                                     [10:7] interrupt message number
    0x04  Mailbox Control       u32  bit 0 doorbell, bit 2 background-complete interrupt enable
    0x08  Command               u64  [15:0] opcode, [36:16] payload length (in; the device writes the out length)
    0x10  Mailbox Status        u64  bit 0 background operation running, [47:32] return code
    0x18  Background Status     u64  [15:0] opcode, [22:16] percent complete, [47:32] return code
    0x20  Command Payload       payload_size bytes

The host fills the payload, writes Command, sets the doorbell; the device runs the command at once (the
doorbell reads back clear), leaving the return code in Status and the output in the payload area.
`execute(opcode, payload)` runs the same command code from Python without touching the registers.

Payload layouts, opcodes and return codes: reference memory-ras.md §1.1–§1.4 and Implications B1–B3.
Every command validates its whole input before it changes anything, so a malformed payload changes nothing.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from construct import Array, Bytes, Int8ul, Int16ul, Int24ul, Int32ul, Int64ul, Padding, Struct, this

from ...bus import AccessFault
from ...errors import ConfigError
from .codes import Opcode, RetCode
from .events import RECORD_SIZE, HealthInfo
from .poison import LINE, Source

if TYPE_CHECKING:
    from .type3 import Type3Device

CAPS, CTRL, CMD, STATUS, BG_STATUS, PAYLOAD = 0x00, 0x04, 0x08, 0x10, 0x18, 0x20
CTRL_DOORBELL = 1 << 0
CTRL_BG_IRQ = 1 << 2
CAP_BG_IRQ = 1 << 6
CAP_MSGNUM_SHIFT = 7
STATUS_BG = 1 << 0
CMD_LEN_SHIFT = 16
CMD_LEN_MASK = (1 << 21) - 1
MIN_PAYLOAD, MAX_PAYLOAD = 1 << 8, 1 << 20

# Command Effects Log bits (QEMU include/hw/cxl/cxl_mailbox.h)
EFFECT_CONFIG_CHANGE = 1 << 1
EFFECT_DATA_CHANGE = 1 << 2
EFFECT_POLICY_CHANGE = 1 << 3
EFFECT_LOG_CHANGE = 1 << 4
EFFECT_BACKGROUND = 1 << 6
CEL_UUID = uuid.UUID("0da9c0b5-bf41-4b78-8f79-96b1623b3f17")

# Scan Media and Sanitize run for max(1 ms, 0.5 us per 64 bytes) (QEMU, §2.2).
MIN_BACKGROUND_NS = 1_000_000
NS_PER_LINE = 500
SCAN_FLAG_NO_EVENT_LOG = 1 << 0  # [spec-recall]

# --- payloads ----------------------------------------------------------------------------------------------------
Identify = Struct(
    "fw_revision" / Bytes(16),
    "total_capacity" / Int64ul,  # the four capacities are in 256 MiB units
    "volatile_capacity" / Int64ul,
    "persistent_capacity" / Int64ul,
    "partition_align" / Int64ul,
    "info_event_log_size" / Int16ul,
    "warning_event_log_size" / Int16ul,
    "failure_event_log_size" / Int16ul,
    "fatal_event_log_size" / Int16ul,
    "lsa_size" / Int32ul,
    "poison_list_max_mer" / Int24ul,
    "inject_poison_limit" / Int16ul,
    "poison_caps" / Int8ul,
    "qos_telemetry_caps" / Int8ul,
)
POISON_CAPS_INJECTS_PERSISTENT = 1 << 0  # [spec-recall]: bit meanings are unverified in the reference (§1.2)
POISON_CAPS_SCANS_FOR_POISON = 1 << 1  # [spec-recall]

Timestamp = Struct("timestamp" / Int64ul)
DpaRange = Struct("dpa" / Int64ul, "length" / Int64ul)  # Get Poison List / Get Scan Media Capabilities input
Dpa = Struct("dpa" / Int64ul)
ClearPoisonIn = Struct("dpa" / Int64ul, "data" / Bytes(64))
ScanMediaIn = Struct("dpa" / Int64ul, "length" / Int64ul, "flags" / Int8ul)
ScanMediaCapsOut = Struct("estimated_runtime_ms" / Int32ul)
MediaErrorRecord = Struct("address" / Int64ul, "length" / Int32ul, Padding(4))
PoisonListOut = Struct(
    "flags" / Int8ul,  # bit 0 More, bit 1 Overflow, bit 2 Scan Media in progress
    Padding(1),
    "overflow_timestamp" / Int64ul,
    "count" / Int16ul,
    Padding(20),
    "records" / Array(this.count, MediaErrorRecord),
)
ScanMediaResultsOut = Struct(
    "restart_dpa" / Int64ul,
    "restart_length" / Int64ul,
    "flags" / Int8ul,  # bit 0 More, bit 1 Scan Stopped Prematurely [spec-recall]
    Padding(1),
    "count" / Int16ul,
    Padding(12),
    "records" / Array(this.count, MediaErrorRecord),
)
GetEventRecordsOut = Struct(
    "flags" / Int8ul,  # bit 0 Overflow, bit 1 More Event Records
    Padding(1),
    "overflow_error_count" / Int16ul,
    "first_overflow_timestamp" / Int64ul,
    "last_overflow_timestamp" / Int64ul,
    "record_count" / Int16ul,
    Padding(10),
    "records" / Array(this.record_count, Bytes(RECORD_SIZE)),
)
ClearEventRecordsIn = Struct(
    "event_log" / Int8ul,
    "clear_flags" / Int8ul,  # bit 0 Clear All [spec-recall]
    "nr_handles" / Int8ul,
    Padding(3),
    "handles" / Array(this.nr_handles, Int16ul),
)
EventInterruptPolicy = Struct("info" / Int8ul, "warning" / Int8ul, "failure" / Int8ul, "fatal" / Int8ul)
SupportedLogsOut = Struct(
    "entries" / Int16ul, Padding(6), "logs" / Array(this.entries, Struct("uuid" / Bytes(16), "size" / Int32ul))
)
GetLogIn = Struct("uuid" / Bytes(16), "offset" / Int32ul, "length" / Int32ul)
CelEntry = Struct("opcode" / Int16ul, "effect" / Int16ul)

POISON_OUT_HEADER = 32
EVENTS_OUT_HEADER = 32
MORE, OVERFLOW, SCANNING = 1 << 0, 1 << 1, 1 << 2
EVENT_OVERFLOW, EVENT_MORE = 1 << 0, 1 << 1
FW_REVISION = b"rasplat 0.1".ljust(16, b"\0")

Handler = Callable[[bytes], "tuple[RetCode, bytes]"]


@dataclass(frozen=True)
class Command:
    opcode: Opcode
    handler: Handler
    in_len: int | None  # None: variable, the handler checks it
    effect: int = 0
    media: bool = False  # refused with Media Disabled while a sanitize runs (QEMU cxl_process_cci_message)

    @property
    def background(self) -> bool:
        return bool(self.effect & EFFECT_BACKGROUND)


@dataclass
class Background:
    opcode: int
    start_ns: int
    runtime_ns: int
    args: tuple = ()  # what finishing needs (Scan Media: start, end, event_log), plain data for checkpoints


class Mailbox:
    """`size` is the MMIO footprint: 0x20 + payload_size. Map it with kind="mmio"."""

    def __init__(self, device: Type3Device, payload_size: int = 2048, vector: int = 0) -> None:
        if payload_size & (payload_size - 1) or not MIN_PAYLOAD <= payload_size <= MAX_PAYLOAD:
            raise ConfigError(f"CXL mailbox: payload size {payload_size} must be a power of two from 256 B to 1 MiB")
        if not 0 <= vector < 16:
            raise ConfigError(f"CXL mailbox: interrupt message number {vector} must be 0..15")
        self.device = device
        self.payload_size = payload_size
        self.vector = vector
        self.size = PAYLOAD + payload_size
        # registers
        self.control = 0
        self.command = 0
        self.return_code = 0
        self.payload = bytearray(payload_size)
        # background operation: the running one, and what the Background Status register shows after it
        self.background: Background | None = None
        self.bg_last: tuple[int, int] | None = None  # (opcode, return code)
        # Get Poison List keeps its place between calls (§1.3): (query start, query end, next DPA)
        self.poison_cursor: tuple[int, int, int] | None = None
        c = Command
        self.commands: dict[int, Command] = {
            cmd.opcode: cmd
            for cmd in (
                c(Opcode.GET_EVENT_RECORDS, self._get_event_records, 1, media=True),
                c(Opcode.CLEAR_EVENT_RECORDS, self._clear_event_records, None, EFFECT_LOG_CHANGE),
                c(Opcode.GET_EVENT_INTERRUPT_POLICY, self._get_event_interrupt_policy, 0),
                c(Opcode.SET_EVENT_INTERRUPT_POLICY, self._set_event_interrupt_policy, None, EFFECT_CONFIG_CHANGE),
                c(Opcode.GET_TIMESTAMP, self._get_timestamp, 0),
                c(Opcode.SET_TIMESTAMP, self._set_timestamp, 8, EFFECT_POLICY_CHANGE),
                c(Opcode.GET_SUPPORTED_LOGS, self._get_supported_logs, 0),
                c(Opcode.GET_LOG, self._get_log, GetLogIn.sizeof(), media=True),
                c(Opcode.IDENTIFY_MEMORY_DEVICE, self._identify, 0),
                c(Opcode.GET_HEALTH_INFO, self._get_health_info, 0),
                c(Opcode.GET_POISON_LIST, self._get_poison_list, DpaRange.sizeof(), media=True),
                c(Opcode.INJECT_POISON, self._inject_poison, Dpa.sizeof(), EFFECT_DATA_CHANGE, media=True),
                c(Opcode.CLEAR_POISON, self._clear_poison, ClearPoisonIn.sizeof(), EFFECT_DATA_CHANGE, media=True),
                c(Opcode.GET_SCAN_MEDIA_CAPABILITIES, self._get_scan_media_caps, DpaRange.sizeof(), media=True),
                c(Opcode.SCAN_MEDIA, self._scan_media, ScanMediaIn.sizeof(), EFFECT_BACKGROUND, media=True),
                c(Opcode.GET_SCAN_MEDIA_RESULTS, self._get_scan_media_results, 0, media=True),
                c(Opcode.SANITIZE, self._sanitize, 0, EFFECT_DATA_CHANGE | EFFECT_BACKGROUND, media=True),
            )
        }

    # --- the Python API ----------------------------------------------------------------------------------------
    def execute(self, opcode: int, payload: bytes = b"") -> tuple[int, bytes]:
        """Run one command; returns (return code, output payload)."""
        if len(payload) > self.payload_size:
            rc, out = RetCode.INVALID_PAYLOAD_LENGTH, b""
        else:
            rc, out = self._process(opcode, bytes(payload))
        self.device.trace("cxl.mbox", opcode=opcode, name=_name(opcode), rc=int(rc), rc_name=_rc_name(rc))
        return int(rc), out

    def _process(self, opcode: int, payload: bytes) -> tuple[RetCode, bytes]:
        cmd = self.commands.get(opcode)
        if cmd is None:
            return RetCode.UNSUPPORTED, b""
        if cmd.in_len is not None and len(payload) != cmd.in_len:
            return RetCode.INVALID_PAYLOAD_LENGTH, b""
        if cmd.background and self.background is not None:  # one background command at a time
            return RetCode.BUSY, b""
        if cmd.media and self.device.media_disabled:
            return RetCode.MEDIA_DISABLED, b""
        rc, out = cmd.handler(payload)
        assert len(out) <= self.payload_size, f"{cmd.opcode.name} built {len(out)} bytes"
        return rc, out

    @property
    def scan_running(self) -> bool:
        return self.background is not None and self.background.opcode == Opcode.SCAN_MEDIA

    # --- background commands -------------------------------------------------------------------------------------
    def _start_background(self, opcode: int, lines: int, args: tuple = ()) -> tuple[RetCode, bytes]:
        runtime = max(MIN_BACKGROUND_NS, lines * NS_PER_LINE)
        self.background = Background(opcode, self.device.clock.now(), runtime, args)
        self.bg_last = None
        self._background_timer()
        self.device.trace("cxl.mbox.bg", opcode=opcode, name=_name(opcode), state="started", runtime_ns=runtime)
        return RetCode.BACKGROUND_COMMAND_STARTED, b""

    def _background_timer(self) -> None:
        bg = self.background
        assert bg is not None
        self.device.clock.at(bg.start_ns + bg.runtime_ns, self._background_done, tag=f"{self.device.name}:mbox-bg")

    def _background_done(self, now: int) -> None:
        bg = self.background
        if bg is None:
            return
        if bg.opcode == Opcode.SCAN_MEDIA:
            self.device.scan_media(*bg.args)
        elif bg.opcode == Opcode.SANITIZE:
            self.device.sanitize_media()
        self.background = None
        self.bg_last = (bg.opcode, RetCode.SUCCESS)
        self.device.trace("cxl.mbox.bg", opcode=bg.opcode, name=_name(bg.opcode), state="done", rc=0)
        if self.control & CTRL_BG_IRQ and self.device.on_mailbox_interrupt is not None:
            self.device.on_mailbox_interrupt(self.vector)

    # --- events -------------------------------------------------------------------------------------------------
    def _get_event_records(self, payload: bytes) -> tuple[RetCode, bytes]:
        log = payload[0]
        if log > 3:  # no Dynamic Capacity log on this device
            return RetCode.INVALID_INPUT, b""
        got = self.device.event_logs.get(log, (self.payload_size - EVENTS_OUT_HEADER) // RECORD_SIZE)
        flags = (EVENT_OVERFLOW if got.overflow else 0) | (EVENT_MORE if got.more else 0)
        return RetCode.SUCCESS, GetEventRecordsOut.build(
            dict(
                flags=flags,
                overflow_error_count=got.overflow_count,
                first_overflow_timestamp=got.first_overflow_ts,
                last_overflow_timestamp=got.last_overflow_ts,
                record_count=len(got.records),
                records=got.records,
            )
        )

    def _clear_event_records(self, payload: bytes) -> tuple[RetCode, bytes]:
        if len(payload) < 6 or len(payload) != 6 + 2 * payload[2]:
            return RetCode.INVALID_PAYLOAD_LENGTH, b""
        req = ClearEventRecordsIn.parse(payload)
        if req.event_log > 3:
            return RetCode.INVALID_INPUT, b""
        return self.device.event_logs.clear(req.event_log, list(req.handles), bool(req.clear_flags & 1)), b""

    def _get_event_interrupt_policy(self, payload: bytes) -> tuple[RetCode, bytes]:
        return RetCode.SUCCESS, bytes(self.device.event_logs.policy[:4])

    def _set_event_interrupt_policy(self, payload: bytes) -> tuple[RetCode, bytes]:
        # Four bytes, or five with the DCD log's setting; this device has no DCD log, so that byte must be 0.
        if len(payload) not in (4, 5):
            return RetCode.INVALID_PAYLOAD_LENGTH, b""
        if any(b & 3 == 3 for b in payload[:4]) or (len(payload) == 5 and payload[4]):
            return RetCode.INVALID_INPUT, b""
        self.device.event_logs.policy[:4] = payload[:4]
        return RetCode.SUCCESS, b""

    # --- timestamp, logs, identify, health -----------------------------------------------------------------------
    def _get_timestamp(self, payload: bytes) -> tuple[RetCode, bytes]:
        return RetCode.SUCCESS, Timestamp.build(dict(timestamp=self.device.timestamp()))

    def _set_timestamp(self, payload: bytes) -> tuple[RetCode, bytes]:
        self.device.set_timestamp(Timestamp.parse(payload).timestamp)
        return RetCode.SUCCESS, b""

    def cel(self) -> bytes:
        """The Command Effects Log: how Linux (cxl_walk_cel) learns which commands exist."""
        return b"".join(CelEntry.build(dict(opcode=op, effect=c.effect)) for op, c in sorted(self.commands.items()))

    def _get_supported_logs(self, payload: bytes) -> tuple[RetCode, bytes]:
        return RetCode.SUCCESS, SupportedLogsOut.build(
            dict(entries=1, logs=[dict(uuid=CEL_UUID.bytes, size=len(self.cel()))])
        )

    def _get_log(self, payload: bytes) -> tuple[RetCode, bytes]:
        req = GetLogIn.parse(payload)
        if req.uuid != CEL_UUID.bytes:
            return RetCode.UNSUPPORTED, b""
        cel = self.cel()
        if req.offset + req.length > len(cel) or req.length > self.payload_size:
            return RetCode.INVALID_INPUT, b""
        return RetCode.SUCCESS, cel[req.offset : req.offset + req.length]

    def _identify(self, payload: bytes) -> tuple[RetCode, bytes]:
        d = self.device
        unit = 256 << 20
        caps = [s.capacity for s in d.event_logs.logs]
        return RetCode.SUCCESS, Identify.build(
            dict(
                fw_revision=FW_REVISION,
                total_capacity=d.capacity // unit,
                volatile_capacity=d.volatile_size // unit,
                persistent_capacity=d.persistent_size // unit,
                partition_align=0,
                info_event_log_size=caps[0],
                warning_event_log_size=caps[1],
                failure_event_log_size=caps[2],
                fatal_event_log_size=caps[3],
                lsa_size=0,
                poison_list_max_mer=d.poison.max_records,
                inject_poison_limit=d.inject_limit,
                poison_caps=POISON_CAPS_INJECTS_PERSISTENT | POISON_CAPS_SCANS_FOR_POISON,
                qos_telemetry_caps=0,
            )
        )

    def _get_health_info(self, payload: bytes) -> tuple[RetCode, bytes]:
        return RetCode.SUCCESS, HealthInfo.build(self.device.health)

    # --- poison ---------------------------------------------------------------------------------------------------
    def _check_range(self, dpa: int, length: int) -> RetCode | None:
        """Invalid Input for a DPA not 64-byte aligned, Invalid Physical Address past the capacity (B1)."""
        if dpa % LINE:
            return RetCode.INVALID_INPUT
        if dpa + length > self.device.capacity:
            return RetCode.INVALID_PHYSICAL_ADDRESS
        return None

    def _get_poison_list(self, payload: bytes) -> tuple[RetCode, bytes]:
        req = DpaRange.parse(payload)
        start, end = req.dpa, req.dpa + req.length * LINE
        bad = self._check_range(start, end - start)
        if bad is not None:
            return bad, b""
        d = self.device
        # Resume a paged read of the same range; any other query starts afresh (the host has no index, §1.3).
        cursor = start
        if self.poison_cursor is not None and self.poison_cursor[:2] == (start, end):
            cursor = self.poison_cursor[2]
        per_page = (self.payload_size - POISON_OUT_HEADER) // MediaErrorRecord.sizeof()
        window = d.poison.window(start, end, cursor)
        page, more = window[:per_page], len(window) > per_page
        self.poison_cursor = (start, end, page[-1][0] + page[-1][1] * LINE) if more else None
        flags = (
            (MORE if more else 0) | (OVERFLOW if d.poison.overflowed else 0) | (SCANNING if self.scan_running else 0)
        )
        records = [dict(address=dpa | int(source), length=lines) for dpa, lines, source in page]
        return RetCode.SUCCESS, PoisonListOut.build(
            dict(
                flags=flags,
                overflow_timestamp=d.poison.overflow_ts if d.poison.overflowed else 0,
                count=len(records),
                records=records,
            )
        )

    def _inject_poison(self, payload: bytes) -> tuple[RetCode, bytes]:
        dpa = Dpa.parse(payload).dpa
        bad = self._check_range(dpa, LINE)
        if bad is not None:
            return bad, b""
        d = self.device
        if d.poison.covering(dpa) is not None:  # already listed: not an error, nothing changes (§1.3)
            return RetCode.SUCCESS, b""
        if self.scan_running:
            # The list is frozen during a scan; QEMU answers Success and drops the injection ("spec is
            # ambiguous"). Busy tells the host to retry instead of silently losing it.
            return RetCode.BUSY, b""
        if len(d.poison) >= d.poison.max_records or (d.inject_limit and d.poison.injected_count() >= d.inject_limit):
            return RetCode.INJECT_POISON_LIMIT_REACHED, b""
        d.add_poison(dpa, 1, Source.INJECTED)
        return RetCode.SUCCESS, b""

    def _clear_poison(self, payload: bytes) -> tuple[RetCode, bytes]:
        req = ClearPoisonIn.parse(payload)
        bad = self._check_range(req.dpa, LINE)
        if bad is not None:
            return bad, b""
        if self.scan_running:
            return RetCode.BUSY, b""
        self.device.clear_poison(req.dpa, req.data)  # clearing a clean line is not an error (§1.3)
        return RetCode.SUCCESS, b""

    def _get_scan_media_caps(self, payload: bytes) -> tuple[RetCode, bytes]:
        req = DpaRange.parse(payload)
        bad = self._check_range(req.dpa, req.length * LINE)
        if bad is not None:
            return bad, b""
        ms = max(MIN_BACKGROUND_NS, req.length * NS_PER_LINE) / 1_000_000
        return RetCode.SUCCESS, ScanMediaCapsOut.build(dict(estimated_runtime_ms=min(math.ceil(ms), 0xFFFFFFFF)))

    def _scan_media(self, payload: bytes) -> tuple[RetCode, bytes]:
        req = ScanMediaIn.parse(payload)
        bad = self._check_range(req.dpa, req.length * LINE)
        if bad is not None:
            return bad, b""
        start, end, log = req.dpa, req.dpa + req.length * LINE, not req.flags & SCAN_FLAG_NO_EVENT_LOG
        self.device.scan_results = None  # a new scan discards earlier results
        return self._start_background(Opcode.SCAN_MEDIA, req.length, (start, end, log))

    def _get_scan_media_results(self, payload: bytes) -> tuple[RetCode, bytes]:
        d = self.device
        if self.scan_running:
            return RetCode.BUSY, b""
        if d.scan_results is None:  # QEMU: Unsupported until a scan has run
            return RetCode.UNSUPPORTED, b""
        per_page = (self.payload_size - POISON_OUT_HEADER) // MediaErrorRecord.sizeof()
        page = [d.scan_results.popleft() for _ in range(min(per_page, len(d.scan_results)))]  # consumed as returned
        records = [dict(address=dpa | int(source), length=lines) for dpa, lines, source in page]
        return RetCode.SUCCESS, ScanMediaResultsOut.build(
            dict(
                restart_dpa=0,
                restart_length=0,
                flags=MORE if d.scan_results else 0,
                count=len(records),
                records=records,
            )
        )

    def _sanitize(self, payload: bytes) -> tuple[RetCode, bytes]:
        d = self.device
        d.media_disabled = True
        return self._start_background(Opcode.SANITIZE, d.capacity // LINE)

    # --- checkpoints -----------------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The registers and payload, the running background command (its timer is re-armed from start and
        runtime) and what Background Status and Get Poison List remember."""
        bg = self.background
        return {
            "control": self.control, "command": self.command, "return_code": self.return_code,
            "payload": bytes(self.payload), "bg_last": self.bg_last, "poison_cursor": self.poison_cursor,
            "background": None if bg is None else [bg.opcode, bg.start_ns, bg.runtime_ns, list(bg.args)],
        }  # fmt: skip

    def restore(self, state: dict) -> None:
        self.control, self.command, self.return_code = state["control"], state["command"], state["return_code"]
        self.payload[:] = state["payload"]
        self.bg_last = tuple(state["bg_last"]) if state["bg_last"] is not None else None
        self.poison_cursor = tuple(state["poison_cursor"]) if state["poison_cursor"] is not None else None
        bg = state["background"]
        self.background = None if bg is None else Background(bg[0], bg[1], bg[2], tuple(bg[3]))
        if self.background is not None:
            self._background_timer()

    # --- MMIO -------------------------------------------------------------------------------------------------------
    def _registers(self) -> bytes:
        caps = (self.payload_size.bit_length() - 1) | CAP_BG_IRQ | self.vector << CAP_MSGNUM_SHIFT
        status = (STATUS_BG if self.background is not None else 0) | self.return_code << 32
        return b"".join(
            (
                caps.to_bytes(4, "little"),
                self.control.to_bytes(4, "little"),
                self.command.to_bytes(8, "little"),
                status.to_bytes(8, "little"),
                self.background_status().to_bytes(8, "little"),
            )
        )

    def background_status(self) -> int:
        bg = self.background
        if bg is not None:
            elapsed = self.device.clock.now() - bg.start_ns
            percent = min(99, 100 * elapsed // bg.runtime_ns)
            return bg.opcode | percent << 16
        if self.bg_last is not None:
            opcode, rc = self.bg_last
            return opcode | 100 << 16 | rc << 32
        return 0

    def load(self, off: int, size: int) -> int:
        if off < 0 or off + size > self.size:
            raise AccessFault
        data = (self._registers() + bytes(self.payload[: max(0, off + size - PAYLOAD)]))[off : off + size]
        return int.from_bytes(data, "little")

    def store(self, off: int, size: int, value: int) -> None:
        if off < 0 or off + size > self.size:
            raise AccessFault
        data = value.to_bytes(size, "little")
        if off + size > PAYLOAD:
            lo = max(off, PAYLOAD)
            self.payload[lo - PAYLOAD : off + size - PAYLOAD] = data[lo - off :]
        if off >= PAYLOAD:
            return
        regs = bytearray(self._registers())
        regs[off : min(off + size, PAYLOAD)] = data[: PAYLOAD - off]
        if off < CMD + 8 and off + size > CMD:
            self.command = int.from_bytes(regs[CMD : CMD + 8], "little")
        if off < CTRL + 4 and off + size > CTRL:
            control = int.from_bytes(regs[CTRL : CTRL + 4], "little")
            self.control = control & CTRL_BG_IRQ  # the doorbell never reads back set: commands finish at once
            if control & CTRL_DOORBELL:
                self._doorbell()
        # Capabilities, Status and Background Status are read-only.

    def _doorbell(self) -> None:
        opcode = self.command & 0xFFFF
        length = self.command >> CMD_LEN_SHIFT & CMD_LEN_MASK
        if length > self.payload_size:
            rc, out = RetCode.INVALID_PAYLOAD_LENGTH, b""
        else:
            rc, out = self._process(opcode, bytes(self.payload[:length]))
        self.payload[: len(out)] = out
        self.command = opcode | len(out) << CMD_LEN_SHIFT
        self.return_code = int(rc)
        self.device.trace("cxl.mbox", opcode=opcode, name=_name(opcode), rc=int(rc), rc_name=_rc_name(rc), mmio=True)


def _name(opcode: int) -> str:
    try:
        return Opcode(opcode).name
    except ValueError:
        return f"{opcode:#06x}"


def _rc_name(rc: int) -> str:
    try:
        return RetCode(rc).name
    except ValueError:
        return f"{rc:#x}"
