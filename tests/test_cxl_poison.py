"""CXL poison: the list's paging, overflow and scan, record splitting, latent errors, and poison that bites a
real hart through copy_mc."""

from __future__ import annotations

import pytest

import rasplat
from rasplat.bus import HardwareError
from rasplat.clock import Clock
from rasplat.errors import ConfigError, PoisonedRead
from rasplat.events import EventLog
from rasplat.memory.cxl import (
    CXLHost,
    CXLRegion,
    Log,
    MailboxDriver,
    Opcode,
    RetCode,
    Source,
    Type3Device,
    parse_record,
    window_target,
)
from rasplat.memory.cxl.mailbox import (
    ClearPoisonIn,
    DpaRange,
    PoisonListOut,
    ScanMediaIn,
    ScanMediaResultsOut,
)

MiB = 1 << 20
HPA = 0x1_0000_0000
MBOX = 0x2000_0000
DST = 0x8800_0000


def device(**kw: object) -> Type3Device:
    return Type3Device("mem0", clock=Clock(), events=EventLog(), **kw)  # type: ignore[arg-type]


def q(dpa: int) -> bytes:
    return dpa.to_bytes(8, "little")


def inject(dev: Type3Device, dpa: int) -> int:
    return dev.mailbox.execute(Opcode.INJECT_POISON, q(dpa))[0]


def poison_page(dev: Type3Device, start: int = 0, length: int | None = None) -> PoisonListOut:
    length = dev.capacity // 64 if length is None else length
    rc, out = dev.mailbox.execute(Opcode.GET_POISON_LIST, DpaRange.build(dict(dpa=start, length=length)))
    assert rc == RetCode.SUCCESS
    return PoisonListOut.parse(out)


def read_all(dev: Type3Device, start: int = 0, length: int | None = None) -> tuple[list[tuple[int, int, int]], list]:
    """Page through Get Poison List: ([(dpa, lines, source)], [flags per page])."""
    records, flags = [], []
    while True:
        page = poison_page(dev, start, length)
        records += [(r.address & ~0x3F, r.length, r.address & 7) for r in page.records]
        flags.append(page.flags)
        if not page.flags & 1:
            return records, flags


def scan(dev: Type3Device, start: int = 0, length: int | None = None, flags: int = 0) -> None:
    length = dev.capacity // 64 if length is None else length
    rc, _ = dev.mailbox.execute(Opcode.SCAN_MEDIA, ScanMediaIn.build(dict(dpa=start, length=length, flags=flags)))
    assert rc == RetCode.BACKGROUND_COMMAND_STARTED
    dev.clock.advance(seconds=10)
    assert not dev.mailbox.scan_running


@pytest.mark.parametrize("payload_size, count", [(256, 40), (2048, 256), (4096, 600)])
def test_poison_list_pages_with_more_and_no_duplicates_or_gaps(payload_size: int, count: int) -> None:
    dev = device(payload_size=payload_size, poison_max=1024)
    per_page = (payload_size - 32) // 16
    dpas = [(i * 7919 % 4096) * 64 for i in range(count)]  # scattered, out of order
    for dpa in dpas:
        assert inject(dev, dpa) == RetCode.SUCCESS
    records, flags = read_all(dev)
    pages = -(-count // per_page)
    assert len(flags) == pages and all(f & 1 for f in flags[:-1]) and not flags[-1] & 1
    assert sorted(r[0] for r in records) == sorted(dpas) and len(records) == count  # no duplicates, no gaps
    assert all(r[1:] == (1, Source.INJECTED) for r in records)
    assert records == sorted(records)  # DPA order
    # The host helper does the same paging (and stops at poison_list_max_mer).
    assert sorted(t["dpa"] for t in CXLHost(dev).get_poison()) == sorted(dpas)


def test_paging_resumes_the_same_query_and_restarts_a_different_one() -> None:
    dev = device(payload_size=256, poison_max=64)
    for i in range(30):
        inject(dev, i * 64)
    first = poison_page(dev)
    assert first.flags & 1 and first.records[0].address & ~0x3F == 0
    second = poison_page(dev)  # same query: continues where the last stopped (§1.3: the host has no index)
    assert second.records[0].address & ~0x3F == 14 * 64
    other = poison_page(dev, 0, 20)  # a different range starts afresh, clipped to the query
    assert [r.address & ~0x3F for r in other.records] == [i * 64 for i in range(14)] and other.flags & 1


def test_records_are_clipped_to_the_query_window() -> None:
    dev = device()
    dev.add_poison(0x1000, 8, "internal", event=False)
    records, _ = read_all(dev, 0x1080, 2)
    assert records == [(0x1080, 2, Source.INTERNAL)]


def test_overflow_flag_and_timestamp_survive_clear_poison_until_a_full_scan() -> None:
    dev = device(poison_max=8, event_log_capacity=16)
    dev.set_timestamp(5 * 10**9)
    for i in range(8):
        assert inject(dev, i * 64) == RetCode.SUCCESS
    assert inject(dev, 0x4000) == RetCode.INJECT_POISON_LIMIT_REACHED  # the mailbox refuses; no overflow
    assert not poison_page(dev).flags & 2
    dev.clock.advance(ns=1234)
    dev.add_poison(0x8000, 1, "internal")  # a device-detected error has nowhere to go: the list overflows
    page = poison_page(dev)
    assert page.flags & 2 and page.overflow_timestamp == 5 * 10**9 + 1234
    ts = page.overflow_timestamp
    assert dev.mailbox.execute(Opcode.CLEAR_POISON, ClearPoisonIn.build(dict(dpa=0, data=bytes(64))))[0] == 0
    dev.clock.advance(ns=99)
    page = poison_page(dev)
    assert page.count == 7 and page.flags & 2 and page.overflow_timestamp == ts  # room again, still overflowed
    scan(dev, 0, 0x8000 // 64)  # a partial scan that misses the set-aside line
    assert poison_page(dev).flags & 2
    scan(dev)  # the full scan brings it back and clears the overflow
    records, flags = read_all(dev)
    assert not flags[-1] & 2 and (0x8000, 1, Source.INTERNAL) in records and len(records) == 8
    # the overflow produced a General Media event with the Poison List Overflow descriptor bit
    descs = [parse_record(r)["body"]["descriptor"] for r in dev.event_logs.records(Log.INFORMATIONAL)]
    assert 0b101 in descs


def test_clear_poison_splits_a_record_and_writes_the_data() -> None:
    plat, dev, region = platform()
    dev.add_poison(0x2000, 4, "internal")
    data = bytes(range(64))
    rc, _ = dev.mailbox.execute(Opcode.CLEAR_POISON, ClearPoisonIn.build(dict(dpa=0x2040, data=data)))
    assert rc == RetCode.SUCCESS
    assert read_all(dev)[0] == [(0x2000, 1, Source.INTERNAL), (0x2080, 2, Source.INTERNAL)]
    assert plat.bus.read(HPA + 0x2040, 64) == data  # cleared and rewritten
    with pytest.raises(PoisonedRead):
        plat.bus.read(HPA + 0x2000, 128)
    # clearing a clean line is not an error; it still writes the data
    assert dev.mailbox.execute(Opcode.CLEAR_POISON, ClearPoisonIn.build(dict(dpa=0x9000, data=data)))[0] == 0
    assert plat.bus.read(HPA + 0x9000, 64) == data


def test_splitting_a_record_in_a_full_list_overflows() -> None:
    dev = device(poison_max=2)
    dev.add_poison(0x1000, 3, "vendor", event=False)
    dev.add_poison(0x3000, 1, "external", event=False)
    dev.clear_poison(0x1040)
    records, flags = read_all(dev)
    assert records == [(0x1000, 1, Source.VENDOR), (0x3000, 1, Source.EXTERNAL)] and flags[-1] & 2
    assert 0x1080 // 64 in dev.media.poison  # still poisoned, just not listed
    scan(dev)
    records, flags = read_all(dev)
    assert flags[-1] & 2  # the list is still full, so the set-aside line cannot come back
    assert (0x1080, 1, Source.VENDOR) not in records


def test_latent_poison_is_found_by_scan_media_with_an_event() -> None:
    dev = device()
    dev.add_poison(0x4000, 2, "internal", listed=False)
    dev.add_poison(0x8000, 1, "internal", listed=False)
    assert read_all(dev)[0] == [] and dev.event_logs.records(Log.INFORMATIONAL) == []
    rc, _ = dev.mailbox.execute(Opcode.GET_SCAN_MEDIA_RESULTS)
    assert rc == RetCode.UNSUPPORTED  # no scan has run
    scan(dev, 0, 0x8000 // 64, flags=1)  # No Event Log
    assert dev.event_logs.records(Log.INFORMATIONAL) == []
    assert read_all(dev)[0] == [(0x4000, 1, Source.INTERNAL), (0x4040, 1, Source.INTERNAL)]
    scan(dev)
    (event,) = [parse_record(r)["body"] for r in dev.event_logs.records(Log.INFORMATIONAL)]
    assert (event["phys_addr"] & ~0x3F, event["descriptor"], event["transaction_type"]) == (0x8000, 1, 3)
    rc, out = dev.mailbox.execute(Opcode.GET_SCAN_MEDIA_RESULTS)
    res = ScanMediaResultsOut.parse(out)
    assert rc == 0 and [(r.address, r.length) for r in res.records] == [(0x4000 | 2, 2), (0x8000 | 2, 1)]
    assert ScanMediaResultsOut.parse(dev.mailbox.execute(Opcode.GET_SCAN_MEDIA_RESULTS)[1]).count == 0  # consumed


def test_scan_results_page_with_more() -> None:
    dev = device(payload_size=256)
    for i in range(20):
        dev.add_poison(i * 128, 1, "internal", event=False)
    scan(dev)
    seen, flags = [], []
    while True:
        res = ScanMediaResultsOut.parse(dev.mailbox.execute(Opcode.GET_SCAN_MEDIA_RESULTS)[1])
        seen += [r.address & ~0x3F for r in res.records]
        flags.append(res.flags)
        if not res.flags & 1:
            break
    assert seen == [i * 128 for i in range(20)] and flags == [1, 0]


def test_scan_in_progress_flag_and_frozen_list() -> None:
    dev = device()
    inject(dev, 0)
    dev.mailbox.execute(Opcode.SCAN_MEDIA, ScanMediaIn.build(dict(dpa=0, length=dev.capacity // 64, flags=0)))
    assert poison_page(dev).flags & 4
    assert inject(dev, 0x40) == RetCode.BUSY
    dev.clock.advance(seconds=10)
    assert not poison_page(dev).flags & 4 and inject(dev, 0x40) == RetCode.SUCCESS


def test_device_inject_validation() -> None:
    dev = device()
    with pytest.raises(ConfigError, match="aligned"):
        dev.add_poison(0x41)
    with pytest.raises(ConfigError, match="unknown source 'cosmic'"):
        dev.add_poison(0x40, source="cosmic")
    with pytest.raises(ConfigError, match="must be 64"):
        dev.clear_poison(0x40, b"short")


def platform(**kw: object) -> tuple[rasplat.Platform, Type3Device, CXLRegion]:
    plat = rasplat.Platform.default()
    dev = Type3Device("mem0", clock=plat.clock, events=plat.events, **kw)  # type: ignore[arg-type]
    region = CXLRegion([dev], HPA, 256 * MiB)
    plat.bus.map("cxl0", HPA, region.size, window_target(region))
    plat.bus.map("cxl0-mbox", MBOX, dev.mailbox.size, dev.mailbox, kind="mmio")
    return plat, dev, region


def test_copy_mc_from_cxl_memory_survives_mailbox_injected_poison() -> None:
    irqs: list = []
    plat, dev, _ = platform(on_event_interrupt=lambda log, setting: irqs.append((log, setting.vector)))
    CXLHost(dev, mailbox=MailboxDriver(plat.bus, MBOX)).probe(vectors=(1, 2, 3, 4))
    plat.bus.write(HPA, bytes((i * 13 + 5) & 0xFF for i in range(4096)))
    rc, _ = MailboxDriver(plat.bus, MBOX).execute(Opcode.INJECT_POISON, q(0x840))
    assert rc == RetCode.SUCCESS
    assert plat.kernel.copy_mc_to_kernel(DST, HPA, 4096) != 0
    (fixup,) = plat.events.of_kind("fixup")
    assert fixup["cause"] == 19
    (consume,) = plat.events.of_kind("poison.consume")
    assert (consume["region"], consume["line"], consume["device"], consume["dpa"]) == (
        "cxl0",
        HPA + 0x840,
        "mem0",
        0x840,
    )
    (record,) = dev.event_logs.records(Log.INFORMATIONAL)
    body = parse_record(record)["body"]
    assert (body["phys_addr"] & ~0x3F, body["transaction_type"]) == (0x840, 4)
    assert irqs == [(Log.INFORMATIONAL, 1)]
    # The host drains the log and lists the poison with the HPA from the inverse decode.
    host = CXLHost(dev, mailbox=MailboxDriver(plat.bus, MBOX), events=plat.events)
    (gm,) = host.drain_events()
    assert (gm["hpa"], gm["region"], gm["transaction_type"]) == (HPA + 0x840, "region0", 4)
    (p,) = host.get_poison()
    assert (p["hpa"], p["dpa"], p["dpa_length"], p["source"], p["trace_type"]) == (
        HPA + 0x840,
        0x840,
        64,
        "Injected",
        "List",
    )


def test_poison_blocks_stores_and_stays_after_host_writes_unless_configured() -> None:
    plat, dev, _ = platform()
    plat.inject("poison", addr=HPA + 0x100, source="external")
    assert read_all(dev)[0] == [(0x100, 1, Source.EXTERNAL)]
    with pytest.raises(HardwareError):
        plat.bus.store(HPA + 0x108, 8, 1)
    plat.bus.write(HPA + 0x100, bytes(64))  # a full-line host write does not clear poison by default
    with pytest.raises(HardwareError):
        plat.bus.load(HPA + 0x100, 8)
    plat2, dev2, _ = platform(full_line_write_clears=True)
    plat2.inject("poison", addr=HPA + 0x100)
    plat2.bus.write(HPA + 0xF0, bytes(0x20))  # covers no whole poisoned line: poison stays
    assert 0x100 // 64 in dev2.media.poison
    plat2.bus.write(HPA + 0x100, b"\x5a" * 64)
    assert plat2.bus.load(HPA + 0x100, 8) == 0x5A5A5A5A5A5A5A5A and read_all(dev2)[0] == []


def test_platform_inject_kinds() -> None:
    plat, dev, _ = platform(poison_max=1)
    event = plat.inject("cxl-poison", addr=HPA + 0x1234)
    assert event["line"] == HPA + 0x1200 and event["dpa"] == 0x1200 and event["device"] == "mem0"
    assert read_all(dev)[0] == [(0x1200, 1, Source.INJECTED)]
    with pytest.raises(ConfigError, match="INJECT_POISON_LIMIT_REACHED"):
        plat.inject("cxl-poison", addr=HPA + 0x2000)
    plat.inject("poison", addr=HPA + 0x3000, detected=False)
    assert read_all(dev)[0] == [(0x1200, 1, Source.INJECTED)]
    with pytest.raises(PoisonedRead):
        plat.bus.read(HPA + 0x3000, 8)
    with pytest.raises(ConfigError, match="cannot inject 'bitflip'"):
        plat.inject("bitflip", addr=HPA)
    with pytest.raises(ConfigError, match="got \\['bit'\\]"):
        plat.inject("poison", addr=HPA, bit=3)
    assert plat.clear_poison(HPA + 0x1200) and read_all(dev)[0] == []
