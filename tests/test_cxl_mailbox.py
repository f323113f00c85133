"""CXL mailbox: every return code, malformed payloads that change nothing, background commands, sanitize, and the
MMIO doorbell protocol agreeing with the Python API."""

from __future__ import annotations

import uuid

import pytest

from rasplat.bus import Bus, HardwareError
from rasplat.clock import Clock
from rasplat.errors import ConfigError
from rasplat.events import EventLog
from rasplat.memory.cxl import CXLRegion, Log, MailboxDriver, Opcode, RetCode, Type3Device, window_target
from rasplat.memory.cxl.events import general_media_record
from rasplat.memory.cxl.mailbox import (
    BG_STATUS,
    CEL_UUID,
    CMD,
    CTRL,
    PAYLOAD,
    STATUS,
    CelEntry,
    ClearEventRecordsIn,
    ClearPoisonIn,
    DpaRange,
    GetLogIn,
    Identify,
    ScanMediaIn,
    SupportedLogsOut,
)
from rasplat.memory.cxl.regs import MAILBOX_OFFSET

MiB = 1 << 20
CAP = 256 * MiB
MBOX = 0x2000_0000


def q(*values: int) -> bytes:
    return b"".join(v.to_bytes(8, "little") for v in values)


def device(**kw: object) -> Type3Device:
    return Type3Device("mem0", clock=Clock(), events=EventLog(), **kw)  # type: ignore[arg-type]


def busy_device() -> Type3Device:
    """A device with some of everything: poison, records, a policy, a timestamp."""
    dev = device(payload_size=512, event_log_capacity=4)
    dev.mailbox.execute(Opcode.SET_TIMESTAMP, q(77))
    dev.mailbox.execute(Opcode.SET_EVENT_INTERRUPT_POLICY, bytes([0x11, 0x21, 0x31, 0x41]))
    for dpa in (0x40, 0x1000, 0x2000):
        dev.mailbox.execute(Opcode.INJECT_POISON, q(dpa))
    dev.add_poison(0x3000, 3, "internal")
    dev.media.write_bytes(0x100, b"data" * 16)
    dev.add_event(Log.FATAL, general_media_record(dpa=0x40))
    return dev


def state(dev: Type3Device) -> tuple:
    p, el, bg = dev.poison, dev.event_logs, dev.mailbox.background
    return (
        [(r.dpa, r.lines, r.source) for r in p.records], dict(p.unlisted), p.overflowed, p.overflow_ts,
        sorted(dev.media.poison), dev.media.read_bytes(0, 0x10000), sorted(dev.media.pages),
        [(list(s.records), s.next_handle, s.overflow_count) for s in el.logs], bytes(el.policy), dev.timestamp(),
        dev.mailbox.poison_cursor, dev.scan_results, bg and (bg.opcode, bg.start_ns, bg.runtime_ns), dev.media_disabled,
    )  # fmt: skip


BAD_HANDLE = ClearEventRecordsIn.build(dict(event_log=Log.FATAL, clear_flags=0, nr_handles=1, handles=[2]))
MALFORMED = [
    # (what, opcode, payload, expected return code)
    ("unknown opcode", 0x1234, b"", RetCode.UNSUPPORTED),
    ("unknown opcode with payload", 0x4306, q(0), RetCode.UNSUPPORTED),
    ("identify with input", Opcode.IDENTIFY_MEMORY_DEVICE, b"\0", RetCode.INVALID_PAYLOAD_LENGTH),
    ("get timestamp with input", Opcode.GET_TIMESTAMP, b"\0", RetCode.INVALID_PAYLOAD_LENGTH),
    ("set timestamp short", Opcode.SET_TIMESTAMP, q(1)[:7], RetCode.INVALID_PAYLOAD_LENGTH),
    ("set timestamp long", Opcode.SET_TIMESTAMP, q(1) + b"\0", RetCode.INVALID_PAYLOAD_LENGTH),
    ("get events no log", Opcode.GET_EVENT_RECORDS, b"", RetCode.INVALID_PAYLOAD_LENGTH),
    ("get events log 5", Opcode.GET_EVENT_RECORDS, b"\x05", RetCode.INVALID_INPUT),
    ("clear events short", Opcode.CLEAR_EVENT_RECORDS, b"\x03\x00\x01", RetCode.INVALID_PAYLOAD_LENGTH),
    ("clear events count mismatch", Opcode.CLEAR_EVENT_RECORDS, bytes([3, 0, 2, 0, 0, 0, 1, 0]),
     RetCode.INVALID_PAYLOAD_LENGTH),
    ("clear events log 9", Opcode.CLEAR_EVENT_RECORDS, bytes([9, 0, 1, 0, 0, 0, 1, 0]), RetCode.INVALID_INPUT),
    ("clear events not oldest", Opcode.CLEAR_EVENT_RECORDS, BAD_HANDLE, RetCode.INVALID_HANDLE),
    ("clear all without overflow", Opcode.CLEAR_EVENT_RECORDS, bytes([3, 1, 0, 0, 0, 0]), RetCode.INVALID_INPUT),
    ("set policy short", Opcode.SET_EVENT_INTERRUPT_POLICY, b"\x01\x01\x01", RetCode.INVALID_PAYLOAD_LENGTH),
    ("set policy long", Opcode.SET_EVENT_INTERRUPT_POLICY, bytes(6), RetCode.INVALID_PAYLOAD_LENGTH),
    ("set policy reserved mode", Opcode.SET_EVENT_INTERRUPT_POLICY, b"\x01\x03\x01\x01", RetCode.INVALID_INPUT),
    ("set policy DCD", Opcode.SET_EVENT_INTERRUPT_POLICY, b"\x01\x01\x01\x01\x01", RetCode.INVALID_INPUT),
    ("get log short", Opcode.GET_LOG, bytes(0x17), RetCode.INVALID_PAYLOAD_LENGTH),
    ("get log unknown uuid", Opcode.GET_LOG, GetLogIn.build(dict(uuid=bytes(16), offset=0, length=4)),
     RetCode.UNSUPPORTED),
    ("get log past the end", Opcode.GET_LOG, GetLogIn.build(dict(uuid=CEL_UUID.bytes, offset=4, length=4096)),
     RetCode.INVALID_INPUT),
    ("poison list short", Opcode.GET_POISON_LIST, q(0), RetCode.INVALID_PAYLOAD_LENGTH),
    ("poison list long", Opcode.GET_POISON_LIST, q(0, 1) + b"\0", RetCode.INVALID_PAYLOAD_LENGTH),
    ("poison list misaligned", Opcode.GET_POISON_LIST, q(0x20, 4), RetCode.INVALID_INPUT),
    ("poison list past capacity", Opcode.GET_POISON_LIST, q(CAP - 64, 2), RetCode.INVALID_PHYSICAL_ADDRESS),
    ("inject short", Opcode.INJECT_POISON, q(0x40)[:4], RetCode.INVALID_PAYLOAD_LENGTH),
    ("inject long", Opcode.INJECT_POISON, q(0x40, 0), RetCode.INVALID_PAYLOAD_LENGTH),
    ("inject misaligned", Opcode.INJECT_POISON, q(0x41), RetCode.INVALID_INPUT),
    ("inject at capacity", Opcode.INJECT_POISON, q(CAP), RetCode.INVALID_PHYSICAL_ADDRESS),
    ("inject far away", Opcode.INJECT_POISON, q(1 << 63), RetCode.INVALID_PHYSICAL_ADDRESS),
    ("clear without data", Opcode.CLEAR_POISON, q(0x1000), RetCode.INVALID_PAYLOAD_LENGTH),
    ("clear short data", Opcode.CLEAR_POISON, q(0x1000) + bytes(63), RetCode.INVALID_PAYLOAD_LENGTH),
    ("clear misaligned", Opcode.CLEAR_POISON, q(0x1008) + bytes(64), RetCode.INVALID_INPUT),
    ("clear past capacity", Opcode.CLEAR_POISON, q(CAP) + bytes(64), RetCode.INVALID_PHYSICAL_ADDRESS),
    ("scan caps misaligned", Opcode.GET_SCAN_MEDIA_CAPABILITIES, q(1, 1), RetCode.INVALID_INPUT),
    ("scan caps past capacity", Opcode.GET_SCAN_MEDIA_CAPABILITIES, q(0, CAP // 64 + 1),
     RetCode.INVALID_PHYSICAL_ADDRESS),
    ("scan short", Opcode.SCAN_MEDIA, q(0, 1), RetCode.INVALID_PAYLOAD_LENGTH),
    ("scan misaligned", Opcode.SCAN_MEDIA, q(0x10, 1) + b"\0", RetCode.INVALID_INPUT),
    ("scan past capacity", Opcode.SCAN_MEDIA, q(CAP, 1) + b"\0", RetCode.INVALID_PHYSICAL_ADDRESS),
    ("scan results with input", Opcode.GET_SCAN_MEDIA_RESULTS, b"\0", RetCode.INVALID_PAYLOAD_LENGTH),
    ("scan results before any scan", Opcode.GET_SCAN_MEDIA_RESULTS, b"", RetCode.UNSUPPORTED),
    ("sanitize with input", Opcode.SANITIZE, b"\0", RetCode.INVALID_PAYLOAD_LENGTH),
    ("payload larger than the mailbox", Opcode.INJECT_POISON, bytes(513), RetCode.INVALID_PAYLOAD_LENGTH),
]  # fmt: skip


@pytest.mark.parametrize("what, opcode, payload, rc", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_error_codes_and_malformed_payloads_change_nothing(what: str, opcode: int, payload: bytes, rc: int) -> None:
    dev = busy_device()
    before = state(dev)
    got, out = dev.mailbox.execute(opcode, payload)
    assert (got, out) == (rc, b"")
    assert state(dev) == before


def test_inject_limits() -> None:
    dev = device(poison_max=3)
    assert [dev.mailbox.execute(Opcode.INJECT_POISON, q(i * 64))[0] for i in range(4)] == [0, 0, 0, 0x10]
    dev = device(poison_max=16, inject_limit=2)
    assert [dev.mailbox.execute(Opcode.INJECT_POISON, q(i * 64))[0] for i in range(3)] == [0, 0, 0x10]
    dev.add_poison(0x1000, 1, "internal")  # the injection limit does not stop device-detected errors
    assert len(dev.poison) == 3


def test_identify_reports_capacities_logs_and_poison_fields() -> None:
    dev = device(volatile_size=2 * CAP, persistent_size=CAP, poison_max=1000, inject_limit=5,
                 event_log_capacity=[16, 8, 4, 2])  # fmt: skip
    rc, out = dev.mailbox.execute(Opcode.IDENTIFY_MEMORY_DEVICE)
    ident = Identify.parse(out)
    assert rc == 0 and len(out) == 0x43
    assert (ident.total_capacity, ident.volatile_capacity, ident.persistent_capacity) == (3, 2, 1)
    assert (ident.info_event_log_size, ident.fatal_event_log_size) == (16, 2)
    assert (ident.poison_list_max_mer, ident.inject_poison_limit, ident.poison_caps) == (1000, 5, 0b11)
    rc, out = dev.mailbox.execute(Opcode.GET_HEALTH_INFO)
    assert rc == 0 and len(out) == 18


def test_timestamp_runs_from_the_value_the_host_set() -> None:
    dev = device()
    assert dev.mailbox.execute(Opcode.GET_TIMESTAMP) == (0, q(0))  # QEMU: 0 until set
    dev.mailbox.execute(Opcode.SET_TIMESTAMP, q(1_700_000_000_000_000_000))
    dev.clock.advance(ns=12345)
    assert dev.mailbox.execute(Opcode.GET_TIMESTAMP) == (0, q(1_700_000_000_000_012_345))


def test_command_effects_log_lists_every_command() -> None:
    dev = device()
    logs = SupportedLogsOut.parse(dev.mailbox.execute(Opcode.GET_SUPPORTED_LOGS)[1])
    assert logs.entries == 1 and uuid.UUID(bytes=logs.logs[0].uuid) == CEL_UUID
    size = logs.logs[0].size
    rc, cel = dev.mailbox.execute(Opcode.GET_LOG, GetLogIn.build(dict(uuid=CEL_UUID.bytes, offset=0, length=size)))
    entries = {e.opcode: e.effect for e in (CelEntry.parse(cel[i : i + 4]) for i in range(0, size, 4))}
    assert rc == 0 and set(entries) == set(Opcode)
    assert entries[Opcode.SCAN_MEDIA] & 1 << 6 and not entries[Opcode.GET_POISON_LIST]


def test_scan_media_is_a_background_command_with_busy_for_a_second() -> None:
    irqs: list[int] = []
    dev = device(mailbox_vector=7, on_mailbox_interrupt=irqs.append)
    rc, out = dev.mailbox.execute(Opcode.GET_SCAN_MEDIA_CAPABILITIES, q(0, CAP // 64))
    assert rc == 0 and int.from_bytes(out, "little") == 2098  # 4 Mi lines x 0.5 us, rounded up to ms
    dev.mailbox.control = 1 << 2  # background-complete interrupt enabled
    scan = ScanMediaIn.build(dict(dpa=0, length=CAP // 64, flags=0))
    assert dev.mailbox.execute(Opcode.SCAN_MEDIA, scan)[0] == RetCode.BACKGROUND_COMMAND_STARTED
    assert dev.mailbox.execute(Opcode.SCAN_MEDIA, scan)[0] == RetCode.BUSY
    assert dev.mailbox.execute(Opcode.SANITIZE)[0] == RetCode.BUSY
    assert dev.mailbox.execute(Opcode.GET_SCAN_MEDIA_RESULTS)[0] == RetCode.BUSY
    clear = ClearPoisonIn.build(dict(dpa=0, data=bytes(64)))
    assert dev.mailbox.execute(Opcode.CLEAR_POISON, clear)[0] == RetCode.BUSY
    dev.clock.advance(seconds=1)
    assert dev.mailbox.background_status() == Opcode.SCAN_MEDIA | 47 << 16
    assert irqs == []
    dev.clock.advance(seconds=2)
    assert dev.mailbox.background_status() == Opcode.SCAN_MEDIA | 100 << 16 and irqs == [7]
    assert dev.mailbox.execute(Opcode.GET_SCAN_MEDIA_RESULTS)[0] == RetCode.SUCCESS


def test_sanitize_disables_media_then_wipes_data_and_poison() -> None:
    dev = busy_device()
    region = CXLRegion([dev], 0x1_0000_0000, CAP)
    target = window_target(region)
    assert dev.mailbox.execute(Opcode.SANITIZE)[0] == RetCode.BACKGROUND_COMMAND_STARTED
    assert dev.registers.memdev_status() >> 2 & 3 == 3  # media disabled
    for opcode, payload in [
        (Opcode.GET_POISON_LIST, q(0, 1)), (Opcode.INJECT_POISON, q(0)), (Opcode.CLEAR_POISON, q(0) + bytes(64)),
        (Opcode.GET_EVENT_RECORDS, b"\0"), (Opcode.GET_SCAN_MEDIA_CAPABILITIES, q(0, 1)),
        (Opcode.GET_SCAN_MEDIA_RESULTS, b""),
    ]:  # fmt: skip
        assert dev.mailbox.execute(opcode, payload)[0] == RetCode.MEDIA_DISABLED, Opcode(opcode).name
    assert dev.mailbox.execute(Opcode.IDENTIFY_MEMORY_DEVICE)[0] == RetCode.SUCCESS
    with pytest.raises(HardwareError):
        target.load(0x100, 8)
    target.store(0x200, 8, 0xFFFF)  # dropped
    dev.clock.advance(seconds=10)
    assert not dev.media_disabled and dev.registers.memdev_status() >> 2 & 3 == 1
    assert target.load(0x100, 8) == 0 and target.load(0x200, 8) == 0 and dev.media.resident_bytes == 0
    assert not dev.media.poison and len(dev.poison) == 0
    assert dev.mailbox.execute(Opcode.INJECT_POISON, q(0))[0] == RetCode.SUCCESS


def test_payload_size_is_configurable_and_encoded() -> None:
    for size in (256, 2048, 1 << 20):
        dev = device(payload_size=size)
        assert dev.mailbox.load(0, 4) & 0x1F == size.bit_length() - 1 and dev.mailbox.size == 0x20 + size
    for size in (128, 300, 1 << 21):
        with pytest.raises(ConfigError, match="payload size"):
            device(payload_size=size)


def mapped(dev: Type3Device) -> tuple[Bus, MailboxDriver]:
    bus = Bus()
    bus.map("mbox", MBOX, dev.mailbox.size, dev.mailbox, kind="mmio")
    return bus, MailboxDriver(bus, MBOX)


def test_mmio_doorbell_gives_the_python_api_results() -> None:
    a, b = busy_device(), busy_device()
    _, driver = mapped(a)
    assert driver.payload_size == 512
    script = [(op, payload) for _, op, payload, _ in MALFORMED if len(payload) <= 512] + [
        (Opcode.IDENTIFY_MEMORY_DEVICE, b""), (Opcode.GET_TIMESTAMP, b""), (Opcode.GET_POISON_LIST, q(0, CAP // 64)),
        (Opcode.INJECT_POISON, q(0x5000)), (Opcode.GET_EVENT_RECORDS, b"\x00"), (Opcode.GET_EVENT_RECORDS, b"\x03"),
        (Opcode.CLEAR_EVENT_RECORDS, ClearEventRecordsIn.build(dict(event_log=3, clear_flags=0, nr_handles=1,
                                                                     handles=[1]))),
        (Opcode.GET_EVENT_INTERRUPT_POLICY, b""), (Opcode.CLEAR_POISON, q(0x3040) + bytes(range(64))),
        (Opcode.GET_POISON_LIST, q(0x3000, 4)), (Opcode.SCAN_MEDIA, q(0, 64) + b"\0"),
        (Opcode.GET_SCAN_MEDIA_RESULTS, b""), (Opcode.GET_SUPPORTED_LOGS, b""),
    ]  # fmt: skip
    for opcode, payload in script:
        assert driver.execute(opcode, payload) == b.mailbox.execute(opcode, payload), Opcode(opcode).name
    assert state(a) == state(b)


def test_mmio_registers() -> None:
    dev = device()
    bus, _ = mapped(dev)
    # a command too long for the payload area, set up by hand
    bus.write(MBOX + CMD, (Opcode.INJECT_POISON | 4096 << 16).to_bytes(8, "little"))
    bus.write(MBOX + CTRL, (1).to_bytes(4, "little"))
    assert int.from_bytes(bus.read(MBOX + CTRL, 4), "little") & 1 == 0  # the doorbell clears
    assert int.from_bytes(bus.read(MBOX + STATUS, 8), "little") >> 32 == RetCode.INVALID_PAYLOAD_LENGTH
    # Identify through the registers: output length lands in the Command register
    bus.write(MBOX + CMD, int(Opcode.IDENTIFY_MEMORY_DEVICE).to_bytes(8, "little"))
    bus.write(MBOX + CTRL, (1).to_bytes(4, "little"))
    assert int.from_bytes(bus.read(MBOX + CMD, 8), "little") >> 16 == 0x43
    assert int.from_bytes(bus.read(MBOX + PAYLOAD + 0x10, 8), "little") == 1  # total capacity, 256 MiB units
    # background status through the registers, and read-only registers stay put
    for i, word in enumerate((0, CAP // 64, 0)):
        bus.write(MBOX + PAYLOAD + 8 * i, q(word))
    bus.write(MBOX + CMD, (Opcode.SCAN_MEDIA | 17 << 16).to_bytes(8, "little"))
    bus.write(MBOX + CTRL, (1).to_bytes(4, "little"))
    status = int.from_bytes(bus.read(MBOX + STATUS, 8), "little")
    assert status & 1 and status >> 32 == RetCode.BACKGROUND_COMMAND_STARTED
    bus.write(MBOX + STATUS, bytes(8))
    bus.write(MBOX + BG_STATUS, bytes(8))
    assert int.from_bytes(bus.read(MBOX + BG_STATUS, 8), "little") == Opcode.SCAN_MEDIA
    dev.clock.advance(seconds=5)
    assert int.from_bytes(bus.read(MBOX + STATUS, 8), "little") & 1 == 0
    assert int.from_bytes(bus.read(MBOX + BG_STATUS, 8), "little") >> 16 & 0x7F == 100


def test_device_register_block_leads_a_driver_to_the_mailbox() -> None:
    dev = device()
    bus = Bus()
    bus.map("regs", MBOX, dev.registers.size, dev.registers, kind="mmio")

    def rd(off: int, size: int) -> int:
        return int.from_bytes(bus.read(MBOX + off, size), "little")

    count = rd(0, 8) >> 32 & 0xFFFF
    caps = {rd(0x10 * i, 4) & 0xFFFF: (rd(0x10 * i + 4, 4), rd(0x10 * i + 8, 4)) for i in range(1, count + 1)}
    assert set(caps) == {0x0001, 0x0002, 0x4000} and caps[0x0002] == (MAILBOX_OFFSET, dev.mailbox.size)
    driver = MailboxDriver(bus, MBOX + caps[0x0002][0])
    rc, out = driver.execute(Opcode.INJECT_POISON, q(0x40))
    assert (rc, out) == (0, b"")
    assert rd(caps[0x0001][0], 4) == 1 << Log.INFORMATIONAL  # Event Status: the creation event is waiting
    assert rd(caps[0x4000][0], 8) == 1 << 2 | 1 << 4  # media ready, mailbox ready
    assert DpaRange.sizeof() == 16
