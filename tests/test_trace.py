"""Traces: record with --trace, replay to prove the event stream is identical (or show where it is not), show
the timeline, and export to Perfetto JSON, VCD and a rasdaemon-layout sqlite file."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

import msgpack
import pytest

import rasplat
from rasplat import trace as tr
from rasplat.cli import main
from rasplat.export.rasdaemon import SCHEMA
from rasplat.scenarios import SCENARIOS

ROOT = Path(__file__).parent.parent
DEFAULT = ROOT / "devicetrees" / "default.dts"
VIRT_AIA = ROOT / "devicetrees" / "virt-aia-ecc.dts"
CXL = ROOT / "devicetrees" / "cxl-expander.dts"
SRC, DST = 0x8800_0000, 0x8801_0000


def record(tmp_path: Path, *argv: str, name: str = "run.trace") -> Path:
    path = tmp_path / name
    assert main([*argv, "--trace", str(path)]) == 0
    return path


def replay(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["trace", "replay", str(path)])
    return status, capsys.readouterr().out


@pytest.fixture(scope="module")
def demo_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(tmp_path_factory.mktemp("demo"), "demo", name="demo.trace")


# --- record and replay ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["riscv-today", "supported"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_replays_identically(scenario: str, mode: str, tmp_path: Path, capsys) -> None:
    path = record(tmp_path, "run", scenario, "--memory-failure", mode)
    trace = tr.load(path)
    assert trace.recipe["argv"][:4] == ["run", scenario, "--memory-failure", mode]
    assert trace.header["exit"] == {"status": 0, "error": None}
    status, out = replay(path, capsys)
    assert status == 0 and out.startswith(f"identical: {len(trace)} events"), out


def test_demo_replays_identically_with_its_platforms_labelled(demo_trace: Path, capsys) -> None:
    trace = tr.load(demo_trace)
    labels = [p["label"] for p in trace.platforms]
    assert labels[1:] == ["[1] without the copy_mc patch", "[2] with the copy_mc patch"]
    assert [e["kind"] for e in trace.events(1)][-1] == "panic"
    assert [e["kind"] for e in trace.events(2)].count("copy_mc") == 2
    status, out = replay(demo_trace, capsys)
    assert status == 0 and out.startswith(f"identical: {len(trace)} events (3 platform(s)"), out


def test_replay_needs_no_input_file_and_keeps_included_device_trees(tmp_path: Path, capsys) -> None:
    """The recipe keeps the device tree's bytes and those of its /include/s (here one climbing out of the board's
    directory), so the replay works after the files are gone, from another directory."""
    boards = tmp_path / "boards" / "vendor"
    boards.mkdir(parents=True)
    shutil.copy(DEFAULT, tmp_path / "boards" / "common.dtsi")
    board = boards / "ff.dts"
    board.write_text('/include/ "../common.dtsi"\n/ { rasplat { rasplat,ras-delivery = "firmware-first"; }; };\n')
    path = record(tmp_path, "run", "cow", "--devicetree", str(board))
    recipe = tr.load(path).recipe
    assert recipe["inputs"]["devicetree"]["name"] == "ff.dts"
    assert set(recipe["inputs"]["devicetree"]["includes"]) == {"../common.dtsi"}
    assert "sse.inject" in [e["kind"] for e in tr.load(path).events()], "the included tree's settings applied"
    shutil.rmtree(tmp_path / "boards")
    status, out = replay(path, capsys)
    assert status == 0 and out.startswith("identical:"), out


def test_an_elf_run_replays_from_the_recorded_bytes(tmp_path: Path, capsys) -> None:
    elf = tmp_path / "alu_imm.elf"
    shutil.copy(ROOT / "tests" / "isa" / "elf" / "alu_imm.elf", elf)
    path = record(tmp_path, "run", str(elf), "--max-steps", "20000")
    elf.unlink()
    assert replay(path, capsys)[0] == 0


def test_a_tampered_trace_shows_the_first_divergence(demo_trace: Path, tmp_path: Path, capsys) -> None:
    trace = tr.load(demo_trace)
    i = next(i for i, (p, e) in enumerate(trace.records) if p == 2 and e["kind"] == "trap")
    records = list(trace.records)
    records[i] = (2, {**records[i][1], "tval": 0x8800_0880})
    header = {**trace.header, "environment": {**trace.header["environment"], "firmware_sha256": "0" * 64}}
    tampered = tr.write(tmp_path / "tampered.trace", header, records)
    status, out = replay(tampered, capsys)
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == f"diverged at event {i}:"
    assert "expected platform 2 ([2] with the copy_mc patch)" in lines[1] and "tval=0x88000880" in out
    assert "tval: expected 0x88000880, got 0x88000840" in out
    assert f"note: firmware_sha256 was {'0' * 64}" in out, "what may explain a divergence"

    shorter = tr.write(tmp_path / "short.trace", trace.header, trace.records[:-1])
    status, out = replay(shorter, capsys)
    assert status == 1 and f"diverged at event {len(trace) - 1}:" in out and "end of stream after" in out


def test_a_replay_that_exits_differently_is_not_identical(tmp_path: Path, capsys) -> None:
    path = record(tmp_path, "run", "user-load")
    trace = tr.load(path)
    header = {**trace.header, "exit": {"status": 1, "error": "made up"}}
    status, out = replay(tr.write(tmp_path / "exit.trace", header, trace.records), capsys)
    assert status == 1 and "exit status 0" in out and "the recording exited 1" in out


def test_traces_hold_no_machine_specific_paths(demo_trace: Path, tmp_path: Path) -> None:
    """Paths are normalised as events are recorded, so the same run gives the same bytes on every machine."""
    path = record(tmp_path, "run", "cow", "--devicetree", str(DEFAULT))
    for trace in (tr.load(demo_trace), tr.load(path)):
        blob = msgpack.packb([e for _, e in trace.records], use_bin_type=True)
        assert str(ROOT).encode() not in blob and str(tmp_path).encode() not in blob
    loads = [e["path"] for e in tr.load(path).events() if e["kind"] == "elf.load"]
    assert loads == ["<rasplat>/firmware/firmware.elf"]


def test_recorder_records_every_platform_in_emission_order(tmp_path: Path) -> None:
    early = rasplat.Platform.default()
    early.inject("poison", addr=SRC)
    with tr.Recorder(meta={"by": "test"}) as rec:
        a = rasplat.Platform.default()
        b = rasplat.Platform.default(arch_copy_mc=False)
        a.inject("poison", addr=SRC + 0x40)
        b.inject("poison", addr=SRC + 0x80)
        tr.label(a, "first")
    rasplat.Platform.default()  # built after the recorder closed: not recorded
    assert rec.add(early) == 2, "a platform built earlier comes with the events it already has"
    trace = tr.load(rec.write(tmp_path / "r.trace"))
    assert [p["label"] for p in trace.platforms] == ["first", "default.dts, generic copy_mc", "default.dts"]
    assert [(p, e["addr"]) for p, e in trace.records if e["kind"] == "inject"] == [
        (0, SRC + 0x40), (1, SRC + 0x80), (2, SRC)]  # fmt: skip
    assert trace.recipe is None and trace.header["meta"] == {"by": "test"}
    assert trace.platforms[0]["reri"][0]["routes"] == {"high": ["local", 43], "low": ["local", 35]}


def test_values_msgpack_cannot_hold_are_kept() -> None:
    event = {"t": 0, "kind": "x", "wide": 1 << 80, "neg": -(1 << 70), "set": {"b", "a"}, "tuple": (1, 2)}
    assert tr.unpack(tr.canonical(event)) == {**event, "set": ["a", "b"], "tuple": [1, 2]}
    with pytest.raises(rasplat.RasplatError, match="event 'x': cannot record a value of type object"):
        tr.canonical({"t": 0, "kind": "x", "obj": object()})


def test_version_1_traces_and_test_artifacts_still_read(tmp_path: Path, capsys) -> None:
    v1 = tmp_path / "v1.trace"
    header = msgpack.packb({"format": "rasplat-trace", "version": 1, "meta": {"test": "t"}})
    v1.write_bytes(header + msgpack.packb({"t": 5, "kind": "inject", "error": "poison", "line": SRC, "region": "/m"}))
    header, events = tr.read_trace(v1)
    assert header["meta"] == {"test": "t"} and events[0]["t"] == 5
    assert main(["trace", "show", str(v1)]) == 0
    assert "poison injected: line 0x88000000 (/m)" in capsys.readouterr().out
    artifact = tr.write_trace(tmp_path / "artifact.trace", [{"t": 1, "kind": "boot"}], {"test": "x"})
    assert main(["trace", "replay", str(artifact)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no recipe" in err


# --- show ----------------------------------------------------------------------------------------------------------
def test_show_prints_a_symbolized_timeline(demo_trace: Path, capsys) -> None:
    assert main(["trace", "show", str(demo_trace)]) == 0
    out = capsys.readouterr().out
    assert "recipe: rasplat demo --trace" in out and "platform 2: [2] with the copy_mc patch (15 events)" in out
    assert "consumes poison (__memcpy_mc+0x58)" in out
    assert "fixup_exception: FIXUP entry, sepc __memcpy_mc+0x58 -> __memcpy_mc+0xf8" in out
    assert main(["trace", "show", str(demo_trace), "--kind", "trap", "--kind", "reri*", "--platform", "2"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  t=")]
    assert [line.split()[2] for line in lines] == ["reri.log", "trap", "trap", "reri_event"]


# --- Perfetto ------------------------------------------------------------------------------------------------------
def check_trace_events(doc: dict) -> dict[tuple[int, int], list[tuple[int, int, str]]]:
    """Structural check of Chrome trace-event JSON: required fields, names for every track, B/E balanced and
    matched per track, X spans properly nested per track. Returns the spans per (pid, tid)."""
    assert isinstance(doc["traceEvents"], list)
    named, stacks = set(), defaultdict(list)
    spans: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
    for ev in doc["traceEvents"]:
        assert {"ph", "pid", "tid", "name"} <= set(ev), ev
        track = (ev["pid"], ev["tid"])
        if ev["ph"] == "M":
            if ev["name"] == "thread_name":
                named.add(track)
            continue
        assert isinstance(ev["ts"], int) and ev["ts"] >= 0, ev
        if ev["ph"] == "B":
            stacks[track].append(ev)
        elif ev["ph"] == "E":
            assert stacks[track], f"E without B on {track}"
            stacks[track].pop()
        elif ev["ph"] == "X":
            assert isinstance(ev["dur"], int) and ev["dur"] >= 0
            spans[track].append((ev["ts"], ev["ts"] + ev["dur"], ev["name"]))
        else:
            assert ev["ph"] == "i" and ev["s"] == "t", ev
        assert track in named, f"track {track} has no thread_name"
    assert not any(stacks.values()), "unbalanced B/E"
    for track, xs in spans.items():
        open_: list[tuple[int, int, str]] = []
        for start, end, name in sorted(xs, key=lambda s: (s[0], -s[1])):
            while open_ and open_[-1][1] <= start:
                open_.pop()
            assert not open_ or end <= open_[-1][1], f"{name} [{start}, {end}] overlaps {open_[-1]} on {track}"
            open_.append((start, end, name))
    return spans


def test_the_nesting_check_catches_overlaps() -> None:
    names = [{"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "hart0"}}]
    overlap = [{"ph": "X", "name": n, "pid": 1, "tid": 1, "ts": ts, "dur": 10} for n, ts in (("a", 0), ("b", 5))]
    with pytest.raises(AssertionError, match="overlaps"):
        check_trace_events({"traceEvents": names + overlap})
    with pytest.raises(AssertionError, match="unbalanced"):
        check_trace_events({"traceEvents": [*names, {"ph": "B", "name": "x", "pid": 1, "tid": 1, "ts": 0}]})


def test_perfetto_export_of_the_demo_is_valid_and_nested(demo_trace: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    assert main(["trace", "export", str(demo_trace), "--format", "perfetto", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    spans = check_trace_events(doc)
    threads = {(ev["pid"], ev["args"]["name"]) for ev in doc["traceEvents"] if ev["name"] == "thread_name"}
    assert {(3, "hart0"), (3, "memory /memory@80000000"), (3, "RERI /soc/ras@1a000000"), (3, "kernel"),
            (3, "hart0 local interrupts")} <= threads  # fmt: skip
    processes = [ev["args"]["name"] for ev in doc["traceEvents"] if ev["name"] == "process_name"]
    assert processes[2] == "platform 2: [2] with the copy_mc patch"
    hart0 = next(tid for (pid, tid) in spans if pid == 3)
    copy, trap = (next(s for s in spans[(3, hart0)] if s[2] == name)
                  for name in ("copy_mc_to_kernel", "trap 19 hardware error"))  # fmt: skip
    assert copy[0] < trap[0] and trap[1] <= copy[1], "the hardware-error trap happens inside the copy"
    assert trap[0] == 578 * 1000 + 20, "t=578, the third event of that instruction"
    consume = next(ev for ev in doc["traceEvents"] if ev["name"] == "poison.consume" and ev["pid"] == 3)
    assert consume["args"]["addr"] == "0x88000840" and "__memcpy_mc+0x58" in consume["args"]["what"]


@pytest.mark.parametrize("board", [DEFAULT, VIRT_AIA, "firmware-first"], ids=["local-43", "aplic-msi", "sse"])
def test_perfetto_spans_nest_on_every_delivery_path(board: Path | str, tmp_path: Path) -> None:
    if board == "firmware-first":
        board = tmp_path / "ff.dts"
        board.write_text(f'/include/ "{DEFAULT}"\n/ {{ rasplat {{ rasplat,ras-delivery = "firmware-first"; }}; }};\n')
    for scenario in ("cow", "hugetlb", "user-load", "dax-read"):
        path = record(tmp_path, "run", scenario, "--devicetree", str(board), name=f"{scenario}.trace")
        doc = json.loads(_export(path, tmp_path, "perfetto").read_text())
        names = {name for spans in check_trace_events(doc).values() for *_, name in spans}
        assert "copy_mc_to_kernel" in names or scenario == "user-load"


def _export(path: Path, tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / f"{path.stem}.{fmt}"
    assert main(["trace", "export", str(path), "--format", fmt, "-o", str(out)]) == 0
    return out


# --- rasdaemon sqlite ----------------------------------------------------------------------------------------------
def tables(db: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: [c[1] for c in db.execute(f"PRAGMA table_info({n})")] for n in names}


def test_rasdaemon_export_of_the_demo(demo_trace: Path, tmp_path: Path) -> None:
    db = sqlite3.connect(_export(demo_trace, tmp_path, "rasdaemon"))
    have = tables(db)
    for table in ("mc_event", "memory_failure_event", "cxl_poison_event", "cxl_general_media_event", "reri_event"):
        assert have[table][:2] == ["id", "timestamp"] and have[table][2:] == [c for c, _ in SCHEMA[table]]
    assert have["mc_event"][2:6] == ["err_count", "err_type", "err_msg", "label"], "rasdaemon's column order"
    rows = db.execute("SELECT err_src_id, source_type, severity, status, addr_info, bank, record, reader "
                      "FROM reri_event").fetchall()  # fmt: skip
    assert rows == [(0, 2, 3, rows[0][3], SRC + 0x840, "/soc/ras@1a000000", 0, "kernel")], "one UEC, fatal"
    assert rows[0][3] & 0b1001 == 0b1001, "status: valid, UEC"
    assert db.execute("SELECT count(*) FROM memory_failure_event").fetchone() == (0,), "RISC-V today: a stub"
    back = db.execute("SELECT platform, platform_label, kind FROM rasplat_event WHERE tbl = 'reri_event'").fetchall()
    assert back == [(2, "[2] with the copy_mc patch", "reri_event")]


def test_rasdaemon_memory_failure_and_signal_rows(tmp_path: Path) -> None:
    path = record(tmp_path, "run", "cow", "--memory-failure", "supported")
    db = sqlite3.connect(_export(path, tmp_path, "rasdaemon"))
    pfn = next(e["pfn"] for e in tr.load(path).events() if e["kind"] == "mf.result")
    assert db.execute("SELECT timestamp, pfn, page_type, action_result FROM memory_failure_event").fetchall() == [
        ("1970-01-01 00:00:00 +0000", f"{pfn:#x}", "dirty LRU page", "Recovered")]  # fmt: skip
    hwerr = [(e["signo"], e["code"], e["comm"], e["pid"]) for e in tr.load(path).events()
             if e["kind"] == "signal" and e["signo"] == 7 and e["code"] >= 3]  # rasdaemon's filter  # fmt: skip
    assert db.execute("SELECT sig, code, comm, pid FROM signal_event").fetchall() == hwerr

    path = record(tmp_path, "run", "user-load", name="user.trace")  # the task consumes poison: BUS_MCEERR_AR
    db = sqlite3.connect(_export(path, tmp_path, "rasdaemon"))
    assert db.execute("SELECT sig, errorno, code, comm, pid, grp, res FROM signal_event").fetchall() == [
        (7, 0, 4, "parent", 1, 0, 0)]  # fmt: skip


def test_rasdaemon_mc_event_rows_for_a_corrected_error(tmp_path: Path) -> None:
    with tr.Recorder() as rec:
        plat = rasplat.Platform.default()
        plat.bus.write(SRC, bytes(range(256)) * 16)
        plat.inject("bitflip", addr=SRC + 0x10, bits=[3])
        assert plat.kernel.copy_mc_to_kernel(DST, SRC, 4096) == 0
    path = rec.write(tmp_path / "ce.trace")
    db = sqlite3.connect(_export(path, tmp_path, "rasdaemon"))
    rows = db.execute("SELECT err_count, err_type, label, mc, top_layer, middle_layer, lower_layer, address, grain, "
                      "syndrome, driver_detail FROM mc_event").fetchall()  # fmt: skip
    ce = next(e for e in plat.events if e["kind"] == "ecc.ce")
    assert rows == [(1, "Corrected", "DIMM_A1", 0, 0, 0, -1, SRC + 0x10, 3, ce["syndrome"],
                     "rank:0 bank:0 row:1024 col:2 bit:3 region:/memory@80000000 access:read")]  # fmt: skip
    assert db.execute("SELECT severity FROM reri_event").fetchall() == [(1,)], "corrected"


def test_rasdaemon_cxl_rows(tmp_path: Path) -> None:
    with tr.Recorder() as rec:
        plat = rasplat.Platform.from_devicetree(CXL)
        plat.kernel.boot()
        rc, _ = plat.devices["/soc/cxl-memdev@30002000"].mailbox.execute(0x4301, (0x40).to_bytes(8, "little"))
        assert rc == 0
        plat.kernel.idle()  # the driver drains the event log: a general media record
        plat.kernel.cxl[1].get_poison()  # and reads the poison list: cxl_poison
    db = sqlite3.connect(_export(rec.write(tmp_path / "cxl.trace"), tmp_path, "rasdaemon"))
    media = db.execute("SELECT memdev, serial, log_type, dpa, hpa, region, hdr_ts FROM cxl_general_media_event")
    hpa = 0x1_0000_0000 + 256 + 0x40  # device 1 holds the second 256-byte granule of the 2-way region
    row = ("/soc/cxl-memdev@30002000", 0xC0FFEE01, "Informational", 0x40, hpa, "/cxl-region@100000000")
    assert media.fetchall() == [(*row, "1970-01-01 00:00:00 +0000")]
    poison = db.execute("SELECT memdev, trace_type, dpa, dpa_length, source, hpa_alias0 FROM cxl_poison_event")
    assert poison.fetchall() == [("/soc/cxl-memdev@30002000", "List", 0x40, 64, "Injected", -1)], "u64 max, signed"


# --- VCD -----------------------------------------------------------------------------------------------------------
def read_vcd(path: Path) -> dict[str, list[tuple[int, int]]]:
    """Full signal name -> [(time, value)], parsed with pyvcd's reader."""
    from vcd.reader import TokenKind, tokenize

    scope: list[str] = []
    ids: dict[str, str] = {}
    waves: dict[str, list[tuple[int, int]]] = {}
    now = 0
    with open(path, "rb") as f:
        for token in tokenize(f):
            if token.kind is TokenKind.SCOPE:
                scope.append(token.scope.ident)
            elif token.kind is TokenKind.UPSCOPE:
                scope.pop()
            elif token.kind is TokenKind.VAR:
                ids[token.var.id_code] = ".".join([*scope, token.var.reference])
                waves[ids[token.var.id_code]] = []
            elif token.kind is TokenKind.CHANGE_TIME:
                now = token.time_change
            elif token.kind in (TokenKind.CHANGE_SCALAR, TokenKind.CHANGE_VECTOR):
                change = token.data
                value = int(change.value) if change.value not in ("x", "z") else -1
                waves[ids[change.id_code]].append((now, value))
    return waves


def test_vcd_export_of_the_demo(demo_trace: Path, tmp_path: Path) -> None:
    pytest.importorskip("vcd")
    waves = read_vcd(_export(demo_trace, tmp_path, "vcd"))
    assert {"p2.hart0.mip.9", "p2.hart0.mip.43", "p2.reri.ras_1a000000.record0.v",
            "p2.reri.ras_1a000000.record0.status"} <= set(waves)  # fmt: skip
    rises = [(at, v) for at, v in waves["p2.hart0.mip.43"] if at > 0]
    assert rises == [(578_010, 1), (578_060, 0)], "raised with the RERI log, dropped when the kernel reads it"
    assert [v for _, v in waves["p2.reri.ras_1a000000.record0.v"]] == [0, 1, 0]
    assert [v for _, v in waves["p1.reri.ras_1a000000.record0.v"]] == [0, 1], "the panicked kernel never read it"


def test_vcd_shows_the_msi_path(tmp_path: Path) -> None:
    pytest.importorskip("vcd")
    waves = read_vcd(_export(record(tmp_path, "run", "cow", "--devicetree", str(VIRT_AIA)), tmp_path, "vcd"))
    pending = [name for name in waves if ".imsic.hart0.S.pending." in name]
    assert pending and [v for _, v in waves[pending[0]]] == [0, 1, 0], "pending, then claimed"
    assert [v for _, v in waves["p0.hart0.mip.9"]] == [0, 1, 0]
    aplic = [name for name in waves if ".aplic." in name]
    assert aplic and [v for _, v in waves[aplic[0]]] == [0, 1, 0], "pending until forwarded as an MSI"


def test_vcd_without_pyvcd_is_a_one_line_error(demo_trace: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "vcd", None)
    assert main(["trace", "export", str(demo_trace), "--format", "vcd", "-o", str(tmp_path / "x.vcd")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'rasplat[vcd]'" in err


# --- bad input -------------------------------------------------------------------------------------------------------
def test_bad_input_gives_one_line_errors(demo_trace: Path, tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a trace\n")
    cut = tmp_path / "cut.trace"
    cut.write_bytes(demo_trace.read_bytes()[: demo_trace.stat().st_size * 2 // 3])
    empty = tmp_path / "empty.trace"
    empty.write_bytes(b"")
    cases = [
        (["trace", "show", str(text)], "not a rasplat trace"),
        (["trace", "show", str(empty)], "not a rasplat trace"),
        (["trace", "replay", str(cut)], "corrupt trace (truncated after"),
        (["trace", "show", str(tmp_path / "missing.trace")], "cannot read (No such file or directory)"),
        (["trace", "export", str(demo_trace), "--format", "pdf", "-o", str(tmp_path / "x")],
         "unknown export format 'pdf' (have: perfetto, vcd, rasdaemon)"),
        (["trace", "export", str(demo_trace), "--format", "perfetto", "--platform", "7", "-o", str(tmp_path / "x")],
         "no platform 7"),
    ]  # fmt: skip
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("rasplat: error: ") and message in err, (argv, err)
