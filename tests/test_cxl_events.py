"""CXL event records and logs: layouts, big-endian UUIDs, handles, overflow, oldest-first clear, the interrupt edge,
and the host's drain."""

from __future__ import annotations

import pytest

from rasplat.clock import Clock
from rasplat.errors import ConfigError
from rasplat.events import EventLog
from rasplat.memory.cxl import (
    CXLHost,
    DerType,
    GmerType,
    InterruptSetting,
    Log,
    Opcode,
    RetCode,
    Type3Device,
    dram_record,
    general_media_record,
    memory_module_record,
    parse_record,
)
from rasplat.memory.cxl.events import DESC_THRESHOLD, DESC_UNCORRECTABLE, EventLogs
from rasplat.memory.cxl.mailbox import ClearEventRecordsIn, GetEventRecordsOut

GMER_UUID_BYTES = bytes.fromhex("fbcd0a77c260417f85a9088b1621eba6")
DER_UUID_BYTES = bytes.fromhex("601dcbb39c064eabb8af4e9bfb5c9624")
MMER_UUID_BYTES = bytes.fromhex("fe927475dd594339a58679bab113b774")


def u(raw: bytes, off: int, size: int) -> int:
    return int.from_bytes(raw[off : off + size], "little")


def test_general_media_layout() -> None:
    raw = general_media_record(
        dpa=0x1234_5640, volatile=True, not_repairable=True, descriptor=DESC_UNCORRECTABLE, type=GmerType.ECC_ERROR,
        transaction_type=4, channel=3, rank=2, device=0xABCDEF, component_id=b"comp", pldm=True,
        cme_threshold_ev_flags=1, cme_count=0x654321, sub_type=5, flags=1 << 3, ld_id=7, head_id=9,
    )  # fmt: skip
    assert len(raw) == 128 and raw[:16] == GMER_UUID_BYTES and raw[0x10] == 0x80
    assert u(raw, 0x11, 3) == 1 << 3 | 1 << 7 | 1 << 8  # maintenance needed + LD-ID and Head-ID valid
    assert u(raw, 0x22, 2) == 7 and raw[0x24] == 9
    assert u(raw, 0x30, 8) == 0x1234_5640 | 0b11
    assert (raw[0x38], raw[0x39], raw[0x3A]) == (1, 0, 4)
    assert u(raw, 0x3B, 2) == 0b11111  # channel, rank, device, component, PLDM
    assert (raw[0x3D], raw[0x3E], u(raw, 0x3F, 3)) == (3, 2, 0xABCDEF)
    assert raw[0x42:0x52] == b"comp".ljust(16, b"\0")
    assert (raw[0x52], u(raw, 0x53, 3), raw[0x56]) == (1, 0x654321, 5)
    assert raw[0x57:] == bytes(41)


def test_dram_layout_and_numbering() -> None:
    raw = dram_record(
        dpa=0x4000, descriptor=DESC_UNCORRECTABLE, type=DerType.SCRUB_MEDIA_ECC_ERROR, transaction_type=5, channel=1,
        rank=0, nibble_mask=0x800001, bank_group=2, bank=3, row=0x1FFFF, column=0x3FF, correction_mask=[1, 2, 3, 4],
        component_id=b"\x01dimm", sub_channel=1, cme_threshold_ev_flags=2, cvme_count=9, sub_type=1,
    )  # fmt: skip
    assert len(raw) == 128 and raw[:16] == DER_UUID_BYTES
    assert raw[0x39] == 1  # "Scrub Media ECC Error" is 1 in the DRAM numbering, 4 in the General Media one
    assert u(raw, 0x3B, 2) == 0b101_1111_1111  # bits 0-8 and 10 (no PLDM)
    assert (u(raw, 0x3F, 3), raw[0x42], raw[0x43], u(raw, 0x44, 3), u(raw, 0x47, 2)) == (0x800001, 2, 3, 0x1FFFF, 0x3FF)
    assert [u(raw, 0x49 + 8 * i, 8) for i in range(4)] == [1, 2, 3, 4]
    assert raw[0x69:0x79] == b"\x01dimm".ljust(16, b"\0")
    assert (raw[0x79], raw[0x7A], u(raw, 0x7B, 3), raw[0x7E], raw[0x7F]) == (1, 2, 9, 1, 0)


def test_memory_module_layout() -> None:
    raw = memory_module_record(
        event_type=3, health_status=0b1010, media_status=2, additional_status=0x13, life_used=77, device_temp=-5,
        dirty_shutdown_cnt=0x01020304, cor_vol_err_cnt=11, cor_per_err_cnt=12, component_id=b"x", sub_type=3,
    )  # fmt: skip
    assert len(raw) == 128 and raw[:16] == MMER_UUID_BYTES
    assert raw[0x30:0x35] == bytes([3, 0b1010, 2, 0x13, 77])
    assert raw[0x35:0x37] == (-5).to_bytes(2, "little", signed=True)
    assert (u(raw, 0x37, 4), u(raw, 0x3B, 4), u(raw, 0x3F, 4)) == (0x01020304, 11, 12)
    assert (u(raw, 0x43, 2), raw[0x45], raw[0x55]) == (1, ord("x"), 3)


def test_parse_round_trip_and_generic_records() -> None:
    raw = general_media_record(dpa=0x80, descriptor=DESC_THRESHOLD, type=GmerType.AP_CME_COUNTER_EXPIRE, cme_count=3)
    rec = parse_record(raw)
    assert rec["kind"] == "general_media" and rec["uuid"] == "fbcd0a77-c260-417f-85a9-088b1621eba6"
    assert rec["body"]["phys_addr"] == 0x80 and rec["body"]["cme_count"] == 3 and rec["hdr"]["length"] == 0x80
    other = bytes(range(16)) + raw[16:]
    assert parse_record(other)["kind"] == "generic" and len(parse_record(other)["data"]) == 80
    with pytest.raises(ConfigError, match="127 bytes"):
        parse_record(raw[:127])


def test_linux_invariants_and_r31_compat() -> None:
    with pytest.raises(ConfigError, match="non-zero CME count"):
        general_media_record(dpa=0, descriptor=DESC_THRESHOLD, type=GmerType.AP_CME_COUNTER_EXPIRE)
    with pytest.raises(ConfigError, match="requires the Threshold"):
        general_media_record(dpa=0, type=GmerType.AP_CME_COUNTER_EXPIRE, cme_count=1)
    with pytest.raises(ConfigError, match="non-zero CVME count"):
        dram_record(dpa=0, descriptor=DESC_THRESHOLD, type=DerType.AP_CME_COUNTER_EXPIRE)
    with pytest.raises(ConfigError, match="r3.2 fields"):
        general_media_record(dpa=0, sub_type=1, r31_compat=True)
    with pytest.raises(ConfigError, match="component_id"):
        dram_record(dpa=0, component_id=b"c", r31_compat=True)
    with pytest.raises(ConfigError, match="aligned"):
        general_media_record(dpa=0x41)
    # With the r3.2 fields zero, both shapes are the same 128 bytes (QEMU and Linux stay compatible).
    kw = dict(dpa=0x40, descriptor=1, transaction_type=1, channel=1, rank=2, bank=3, correction_mask=[5])
    assert dram_record(**kw, r31_compat=True) == dram_record(**kw)


class Logs(EventLogs):
    """Event logs with a hand-set clock, recording interrupts and trace kinds."""

    def __init__(self, capacity: int = 8) -> None:
        self.now = 1000
        self.irqs: list[tuple[int, InterruptSetting]] = []
        self.kinds: list[str] = []
        super().__init__(capacity, timestamp=lambda: self.now, notify=lambda log, s: self.irqs.append((log, s)),
                         trace=lambda kind, **f: self.kinds.append(kind))  # fmt: skip


def rec(dpa: int = 0) -> bytes:
    return general_media_record(dpa=dpa)


def handles(el: EventLogs, log: int) -> list[int]:
    return [u(r, 0x14, 2) for r in el.records(log)]


def test_handles_are_nonzero_increasing_and_written_with_time_and_severity() -> None:
    el = Logs()
    assert [el.add(Log.FAILURE, rec(i * 64)) for i in range(3)] == [1, 2, 3]
    r = el.records(Log.FAILURE)[0]
    assert u(r, 0x18, 8) == 1000 and u(r, 0x11, 3) & 3 == Log.FAILURE
    assert el.add(Log.INFORMATIONAL, rec()) == 1  # handles are per log
    state = el.logs[Log.FATAL]
    state.next_handle = 0xFFFF
    assert [el.add(Log.FATAL, rec()) for _ in range(2)] == [0xFFFF, 1]  # the wrap skips 0


def test_overflow_drops_new_records_and_counts_with_timestamps() -> None:
    el = Logs(capacity=3)
    for i in range(3):
        el.add(Log.WARNING, rec(i * 64))
    el.now = 2000
    assert el.add(Log.WARNING, rec(0x1000)) is None
    el.now = 3000
    assert el.add(Log.WARNING, rec(0x2000)) is None
    got = el.get(Log.WARNING, 15)
    assert got.overflow and (got.overflow_count, got.first_overflow_ts, got.last_overflow_ts) == (2, 2000, 3000)
    assert handles(el, Log.WARNING) == [1, 2, 3] and el.kinds.count("cxl.event.overflow") == 2
    assert el.clear(Log.WARNING, [1]) == RetCode.SUCCESS
    assert not el.get(Log.WARNING, 15).overflow  # clearing the head resets the overflow state (QEMU)


def test_clear_names_the_oldest_handles_in_order_or_nothing_is_cleared() -> None:
    el = Logs()
    for i in range(4):
        el.add(Log.INFORMATIONAL, rec(i * 64))
    for bad in ([2], [2, 1], [1, 3], [1, 2, 3, 4, 5], [9]):
        assert el.clear(Log.INFORMATIONAL, bad) == RetCode.INVALID_HANDLE
        assert handles(el, Log.INFORMATIONAL) == [1, 2, 3, 4]
    assert el.clear(Log.INFORMATIONAL, [1, 2]) == RetCode.SUCCESS
    assert handles(el, Log.INFORMATIONAL) == [3, 4]
    assert el.clear(Log.INFORMATIONAL, [], clear_all=True) == RetCode.INVALID_INPUT  # no overflow: no Clear All
    assert handles(el, Log.INFORMATIONAL) == [3, 4]


def test_clear_all_after_overflow() -> None:
    el = Logs(capacity=1)
    el.add(Log.FATAL, rec())
    el.add(Log.FATAL, rec(64))
    assert el.clear(Log.FATAL, [1], clear_all=True) == RetCode.INVALID_INPUT  # Clear All names no handles
    assert el.clear(Log.FATAL, [], clear_all=True) == RetCode.SUCCESS
    assert el.records(Log.FATAL) == [] and not el.get(Log.FATAL, 1).overflow


def test_interrupt_on_the_empty_to_non_empty_edge_only() -> None:
    el = Logs()
    irqs = el.irqs
    el.add(Log.INFORMATIONAL, rec())  # policy "none": no interrupt
    assert irqs == []
    el.clear(Log.INFORMATIONAL, [1])
    el.policy[Log.INFORMATIONAL] = 1 | 3 << 4  # MSI, vector 3
    el.policy[Log.FATAL] = 2 | 5 << 4  # firmware interrupt, vector 5
    for i in range(3):
        el.add(Log.INFORMATIONAL, rec(i * 64))
    assert irqs == [(Log.INFORMATIONAL, InterruptSetting(1, 3))]
    el.clear(Log.INFORMATIONAL, [2, 3])
    el.add(Log.INFORMATIONAL, rec())  # one record still there: no edge
    assert len(irqs) == 1
    el.clear(Log.INFORMATIONAL, [4, 5])
    el.add(Log.INFORMATIONAL, rec())
    el.add(Log.FATAL, rec())
    assert irqs[1:] == [(Log.INFORMATIONAL, InterruptSetting(1, 3)), (Log.FATAL, InterruptSetting(2, 5))]
    assert el.status == 1 << Log.INFORMATIONAL | 1 << Log.FATAL


def test_log_capacity_validation() -> None:
    with pytest.raises(ConfigError, match="capacity"):
        EventLogs(0, timestamp=lambda: 0)
    with pytest.raises(ConfigError, match="capacity"):
        EventLogs([8, 8, 8], timestamp=lambda: 0)
    assert [s.capacity for s in EventLogs([1, 2, 3, 4], timestamp=lambda: 0).logs] == [1, 2, 3, 4]


def device(**kw: object) -> Type3Device:
    return Type3Device("mem0", clock=Clock(), events=EventLog(), **kw)  # type: ignore[arg-type]


def get(dev: Type3Device, log: int) -> GetEventRecordsOut:
    rc, out = dev.mailbox.execute(Opcode.GET_EVENT_RECORDS, bytes([log]))
    assert rc == RetCode.SUCCESS
    return GetEventRecordsOut.parse(out)


def clear(dev: Type3Device, log: int, hs: list[int], flags: int = 0) -> int:
    payload = ClearEventRecordsIn.build(dict(event_log=log, clear_flags=flags, nr_handles=len(hs), handles=hs))
    return dev.mailbox.execute(Opcode.CLEAR_EVENT_RECORDS, payload)[0]


def test_get_event_records_more_flag_and_overflow_through_the_mailbox() -> None:
    dev = device(payload_size=512, event_log_capacity=5)  # (512 - 32) // 128 = 3 records per response
    dev.set_timestamp(10**9)
    for i in range(6):
        dev.clock.advance(ns=100)
        dev.add_event(Log.FAILURE, rec(i * 64))
    got = get(dev, Log.FAILURE)
    assert got.record_count == 3 and got.flags == 0b11  # overflow + more
    assert (got.overflow_error_count, got.first_overflow_timestamp) == (1, 10**9 + 600)
    assert [u(r, 0x18, 8) for r in got.records] == [10**9 + 100, 10**9 + 200, 10**9 + 300]
    assert clear(dev, Log.FAILURE, [1, 2, 3]) == RetCode.SUCCESS
    got = get(dev, Log.FAILURE)
    assert got.record_count == 2 and got.flags == 0  # everything fits: More is clear (unlike QEMU)
    assert clear(dev, Log.FAILURE, [5]) == RetCode.INVALID_HANDLE
    assert clear(dev, Log.FAILURE, [4, 5]) == RetCode.SUCCESS
    assert get(dev, Log.FAILURE).record_count == 0


def test_inject_poison_queues_the_informational_creation_event_and_interrupts() -> None:
    irqs: list = []
    dev = device(persistent_size=256 << 20, on_event_interrupt=lambda log, s: irqs.append((log, s)))
    host = CXLHost(dev)
    host.probe(realtime_ns=5_000, vectors=(2, 3, 4, 5))
    assert dev.mailbox.execute(Opcode.INJECT_POISON, (0x1040).to_bytes(8, "little"))[0] == RetCode.SUCCESS
    assert dev.mailbox.execute(Opcode.INJECT_POISON, ((256 << 20) + 0x80).to_bytes(8, "little"))[0] == 0
    assert irqs == [(Log.INFORMATIONAL, InterruptSetting(1, 2))]  # one edge for two records
    body = [parse_record(r)["body"] for r in dev.event_logs.records(Log.INFORMATIONAL)]
    assert [(b["phys_addr"], b["descriptor"], b["type"], b["transaction_type"]) for b in body] == [
        (0x1040 | 1, 0, 0, 4),  # volatile partition
        ((256 << 20) + 0x80, 0, 0, 4),  # persistent: no Volatile bit
    ]
    # injecting an already poisoned line is not an error and creates nothing
    assert dev.mailbox.execute(Opcode.INJECT_POISON, (0x1040).to_bytes(8, "little"))[0] == 0
    assert len(dev.event_logs.records(Log.INFORMATIONAL)) == 2


def test_host_drains_fatal_first_and_clears_everything() -> None:
    events = EventLog()
    dev = device(payload_size=256, event_log_capacity=4)  # one record per Get
    for log in (Log.INFORMATIONAL, Log.FATAL, Log.WARNING):
        dev.add_event(log, general_media_record(dpa=0x40 * (log + 1)))
    dev.add_event(Log.FAILURE, dram_record(dpa=0x400, type=DerType.ECC_ERROR, bank=2))
    dev.add_event(Log.FAILURE, memory_module_record(event_type=3, device_temp=90))
    dev.add_event(Log.FAILURE, bytes(range(16)) + general_media_record(dpa=0)[16:])
    for i in range(4):  # overflow the warning log
        dev.add_event(Log.WARNING, general_media_record(dpa=0x1000 + 64 * i))
    traces = CXLHost(dev, events=events).drain_events(dev.event_logs.status)
    assert [(t["log_type"] if "log_type" in t else "overflow:" + t["log"]) for t in traces][:4] == [
        "Fatal", "Failure", "Failure", "Failure"]  # fmt: skip
    assert [e["kind"] for e in events][:4] == [
        "cxl_general_media",
        "cxl_dram",
        "cxl_memory_module",
        "cxl_generic_event",
    ]
    assert events.of_kind("cxl_dram")[0]["bank"] == 2 and events.of_kind("cxl_memory_module")[0]["device_temp"] == 90
    overflow = events.of_kind("cxl_overflow")
    assert overflow and overflow[0]["log"] == "Warning" and overflow[0]["count"] == 1
    assert dev.event_logs.status == 0
    assert len(events.of_kind("cxl_general_media")) == 1 + 4 + 1  # fatal, 4 warning, info
