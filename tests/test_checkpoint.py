"""Checkpoints: a run stopped at a step, saved, restored in a new process and continued ends exactly where the
uninterrupted run ends (event stream, memory, harts, devices, kernel model); broken files give clear errors.

The runs live in checkpoint_programs.py, which is also the script the new process runs."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import msgpack
import pytest
from checkpoint_programs import PROGRAMS, ROOT, digest, run_steps

import rasplat
from rasplat.checkpoint import pack, restore, snapshot, unpack
from rasplat.clock import Clock
from rasplat.errors import CheckpointError


def _clock_tags(plat: rasplat.Platform) -> set[str]:
    return {tag for _, _, _, tag in plat.clock._timers}


# Where each run is checkpointed, and what is in flight there (checked in the parent, so the test covers it).
POINTS = {  # k: checkpoint after the first k steps
    "memcpy_mc": {
        2: lambda p: "/soc/ras@1a000000:eid1" in _clock_tags(p) and p.harts[0].retired == 0,  # eid countdown
        8: lambda p: 0 < p.harts[0].retired < 1138,  # mid copy, after the corrected error
        19: lambda p: p.harts[0].csr.mip >> 35 & 1 and p.devices["/soc/ras@1a000000"].status(1) & 1,  # RAS irq
        21: lambda p: p.harts[0].retired == 1138,  # the next instruction consumes the poisoned line
        24: lambda p: p.kernel._result is not None,  # returned (a2: bytes not copied); cleanup comes after
    },
    "firmware_first": {
        2: lambda p: p.kernel.sbi.sse[0x100000].state == 2,  # the low-priority RAS SSE event is enabled
        19: lambda p: p.harts[0].csr.mip >> 35 & 1 and not p.harts[0].csr.mideleg >> 35 & 1,  # for the firmware
        24: lambda p: p.kernel.sbi.error_status == [] and p.events.of_kind("sse.complete"),
    },
    "scrub": {k: lambda p: "/memory@80000000:scrub" in _clock_tags(p) for k in (1, 2, 3, 4, 5)},
    "timed": {
        1: lambda p: "error-source:/rasplat/error-sources/same-instant" in _clock_tags(p),
        3: lambda p: "error-source:/rasplat/error-sources/later" in _clock_tags(p),
        5: lambda p: _ce_accounting(p).policy.pages,
        6: lambda p: _ce_accounting(p).policy.pages,
    },
    "tasks": {k: lambda p: sum(t.alive for t in p.kernel.mm.tasks) >= 2 for k in (1, 2, 3, 5, 6, 8)},
    "cxl": {
        2: lambda p: "/soc/cxl-memdev@30000000:mbox-bg" in _clock_tags(p),  # Scan Media running
        3: lambda p: "/soc/cxl-memdev@30000000:mbox-bg" in _clock_tags(p),
        4: lambda p: p.devices["/soc/cxl-memdev@30000000"].scan_results is not None,
        5: lambda p: True,
    },
    "pmem": {
        1: lambda p: "/pmem@140000000:ars" in _clock_tags(p) and p.devices["/pmem@140000000"].dirty_pages,
        3: lambda p: p.devices["/pmem@140000000"].ars_status().state == "done",
    },
}


def _ce_accounting(plat: rasplat.Platform) -> object:
    return next(o for o in plat.events._listeners if getattr(o, "checkpoint_key", None) == "ce-accounting")


def _close_pmem(plat: rasplat.Platform) -> None:
    """Release backing files (a backend holds its file locked), as a process that stops does."""
    for device in plat.devices.values():
        if hasattr(device, "persist") and hasattr(device, "close"):
            device.close()


def _first_difference(want: dict, got: dict) -> str:
    for i, (a, b) in enumerate(zip(want["events"], got["events"], strict=False)):
        if a != b:
            return f"event {i} differs:\n  uninterrupted {a}\n  restored      {b}"
    if len(want["events"]) != len(got["events"]):
        return f"{len(want['events'])} events uninterrupted, {len(got['events'])} restored"
    parts = [f"{part} {key}" for part in ("memory", "harts", "state") for key in want[part]
             if want[part][key] != got[part].get(key)]  # fmt: skip
    return "state differs: " + ", ".join(parts)


@pytest.mark.parametrize("program", list(POINTS))
def test_restored_in_a_new_process_continues_to_the_same_final_state(program: str, tmp_path: Path) -> None:
    make_tree, steps = PROGRAMS[program]
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    plat = rasplat.Platform.from_devicetree(make_tree(reference_dir))
    run_steps(plat, steps)
    want = unpack(pack(digest(plat)))  # as the other process sends it: through msgpack
    _close_pmem(plat)

    jobs = []
    # A pmem backing file is the durable image and moves on with the run: one run per checkpoint, each with its
    # own file. Elsewhere one run takes every checkpoint and then checks that taking them changed nothing.
    runs = [[k] for k in POINTS[program]] if program == "pmem" else [list(POINTS[program])]
    for ks in runs:
        workdir = tmp_path / f"run{ks[0]}"
        workdir.mkdir()
        plat = rasplat.Platform.from_devicetree(make_tree(workdir))
        done = 0
        for k in ks:
            run_steps(plat, steps[done:k])
            done = k
            assert POINTS[program][k](plat), f"{program}: step {k} does not have what it should have in flight"
            jobs.append([k, str(plat.checkpoint(tmp_path / f"{program}-{k}.ckpt")), str(tmp_path / f"{k}.out")])
        if program != "pmem":
            run_steps(plat, steps[done:])
            assert unpack(pack(digest(plat))) == want, "taking checkpoints changed the run"
        _close_pmem(plat)

    spec = {"program": program, "jobs": jobs}
    script = Path(__file__).with_name("checkpoint_programs.py")
    proc = subprocess.run([sys.executable, str(script), json.dumps(spec)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for k, _, out in jobs:
        got = unpack(Path(out).read_bytes())
        assert got == want, f"{program}, restored after step {k}: {_first_difference(want, got)}"


@pytest.mark.parametrize("program", ["tasks", "timed"])
def test_restore_is_exact_and_restores_chain(program: str, tmp_path: Path) -> None:
    """Saving a restored platform gives the same state again (but for superseded timers, which do nothing when
    they fire and are not re-armed), and a run restored after every step, each restore from the previous one,
    still ends where the uninterrupted run does."""

    def live(state: dict) -> dict:
        return {**state, "clock": state["clock"]["advanced"]}

    make_tree, steps = PROGRAMS[program]
    plat = rasplat.Platform.from_devicetree(make_tree(tmp_path))
    run_steps(plat, steps)
    want = digest(plat)
    plat = rasplat.Platform.from_devicetree(make_tree(tmp_path))
    for step in steps:
        step(plat)
        state = unpack(pack(snapshot(plat)))
        plat = restore(state)
        assert live(unpack(pack(snapshot(plat)))) == live(state)
    assert digest(plat) == want


def test_events_and_settings_come_back(tmp_path: Path) -> None:
    plat = rasplat.Platform.default()
    plat.policy, plat.ce_policy["threshold"] = "isolate", 7
    plat.inject("poison", addr=0x8800_0040)
    events = list(plat.events)
    back = rasplat.Platform.restore(plat.checkpoint(tmp_path / "a.ckpt"))
    assert list(back.events) == events and back.policy == "isolate" and back.ce_policy["threshold"] == 7
    assert back._kernel is None  # never created: not created by the restore either
    with pytest.raises(rasplat.PoisonedRead):
        back.bus.read(0x8800_0040, 8)


def test_the_tlb_is_saved(tmp_path: Path) -> None:
    """A TLB hit does not walk the page table: after the leaf table's line is poisoned, the running task goes on
    from its TLB. An empty TLB would be architecturally fine, but the restored run would walk, consume the
    poison and diverge — so the TLB is part of the checkpoint."""
    from rasplat.kernel.mm import PAGE_SIZE

    def setup(plat: rasplat.Platform) -> None:
        mm = plat.kernel.mm
        task = mm.spawn("store", "user_store", 0x2000_0000, 0x55, 5000)
        mm.map_anon(task, 0x2000_0000, PAGE_SIZE, "rw")
        plat.kernel.scheduler.run(300)  # the task's translations are in the TLB now
        pte = task.pagetable.pte_address(0x2000_0000)
        plat.inject("poison", addr=pte)

    steps = [setup, lambda plat: plat.kernel.scheduler.run(20_000)]
    plat = rasplat.Platform.default()
    run_steps(plat, steps)
    want = digest(plat)
    assert not plat.events.of_kind("poison.consume") and plat.kernel.mm.tasks[0].exit_code == 0

    plat = rasplat.Platform.default()
    steps[0](plat)
    back = rasplat.Platform.restore(plat.checkpoint(tmp_path / "tlb.ckpt"))
    steps[1](back)
    assert digest(back) == want


def test_clock_reorder_keeps_the_order_of_ties() -> None:
    """Owners re-arm their timers in whatever order a restore visits them; ties must still fire as saved."""
    fired: list[str] = []
    clock = Clock()
    for name in ("b", "a", "c"):
        clock.at(100, lambda now, name=name: fired.append(name), tag=name)
    state = clock.snapshot()
    clock.advance(ns=100)
    saved_order, fired[:] = list(fired), []
    again = Clock()
    again.restore(state)
    for name in ("c", "a", "b"):
        again.at(100, lambda now, name=name: fired.append(name), tag=name)
    again.reorder(state)
    again.advance(ns=100)
    assert fired == saved_order == ["b", "a", "c"]


def test_integers_beyond_64_bits_and_bytes_survive() -> None:
    values = [2**64, -(2**63) - 1, 2**2047 | 5, -(2**300), 2**64 - 1, -(2**63), b"\0" * 3, bytearray(b"ab")]
    assert unpack(pack(values)) == [*values[:-1], b"ab"]
    with pytest.raises(TypeError, match="cannot save a value of type set"):
        pack({"poison": {1, 2}})


def test_a_third_party_device_without_state_hooks_is_named(installed: Path, monkeypatch, tmp_path: Path) -> None:
    """ACME's injector keeps registers but has no snapshot(): the checkpoint says so; its scheduled burst (a
    plugin error source with rasplat,at-ns) is re-armed like the built-in ones."""
    monkeypatch.setenv("RASPLAT_DISABLE_PLUGINS", "broken")
    plat = rasplat.Platform.from_devicetree(ROOT / "docs/examples/board.dts")
    with pytest.warns(UserWarning, match=r"/einj@30000000 \(Einj\) has no snapshot\(\)/restore\(\)"):
        path = plat.checkpoint(tmp_path / "board.ckpt")
    back = rasplat.Platform.restore(path)
    for p in (plat, back):
        p.advance(0.002)
    assert list(back.events) == list(plat.events) and len(plat.events.of_kind("inject")) == 9


# --- what cannot be checkpointed, and broken files ----------------------------------------------------------------
def _message(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and isinstance(excinfo.value, rasplat.RasplatError)
    return message


def test_state_nothing_could_restore_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform().checkpoint(tmp_path / "x.ckpt")
    assert "not built from a device tree" in _message(e)

    plat = rasplat.Platform.default()
    plat.add_mmio("extra", 0x5000_0000, 0x1000, plat.devices["/soc/ras@1a000000"])
    with pytest.raises(CheckpointError) as e:
        plat.checkpoint(tmp_path / "x.ckpt")
    assert "mapped after the platform was built" in _message(e) and "extra" in _message(e)

    plat = rasplat.Platform.default()
    plat.clock.after(1000, lambda now: None)
    with pytest.raises(CheckpointError) as e:
        plat.checkpoint(tmp_path / "x.ckpt")
    assert "without a tag" in _message(e)

    plat = rasplat.Platform.default()
    failures = []

    def checkpoint_inside_the_trap_handler(event: dict) -> None:
        if event["kind"] == "fixup":
            try:
                plat.checkpoint(tmp_path / "x.ckpt")
            except CheckpointError as error:
                failures.append(str(error))

    plat.events.subscribe(checkpoint_inside_the_trap_handler)
    plat.inject("poison", addr=0x8800_0040)
    plat.kernel.copy_mc_to_kernel(0x8900_0000, 0x8800_0000, 256)
    assert failures and "inside a call" in failures[0]
    assert not (tmp_path / "x.ckpt").exists()


def test_a_hook_nothing_recreates_is_refused_on_restore(tmp_path: Path) -> None:
    plat = rasplat.Platform.default()
    plat.harts[0].hooks[0x8800_0000] = lambda hart: True
    path = plat.checkpoint(tmp_path / "hook.ckpt")
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(path)
    assert "hooks at ['0x88000000']" in _message(e) and str(path) in _message(e)


@pytest.fixture
def good(tmp_path: Path) -> Path:
    plat = rasplat.Platform.default()
    plat.kernel.boot()
    plat.inject("poison", addr=0x8800_0040)
    return plat.checkpoint(tmp_path / "good.ckpt")


def _rewrite(path: Path, header: dict | None = None, body: dict | None = None) -> Path:
    """A checkpoint with a changed header or body, its length and CRC made to match again."""
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(path.read_bytes())
    old_header = unpacker.unpack()
    raw = path.read_bytes()[unpacker.tell() :]
    new_body = raw if body is None else pack(body)
    new_header = {**old_header, "body": {"length": len(new_body), "crc32": zlib.crc32(new_body)}, **(header or {})}
    out = path.with_name("changed.ckpt")
    out.write_bytes(pack(new_header) + new_body)
    return out


def _body(path: Path) -> dict:
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(path.read_bytes())
    unpacker.unpack()
    return unpack(path.read_bytes()[unpacker.tell() :])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda data: data[: len(data) // 2], "truncated checkpoint (body has"),
        (lambda data: data[:7], "truncated checkpoint"),
        (lambda data: data[:-300] + bytes([data[-300] ^ 0x10]) + data[-299:], "corrupt checkpoint"),
        (lambda data: b"", "truncated checkpoint"),
        (lambda data: b"/dts-v1/;\n/ { };\n", "not a rasplat checkpoint"),
        (lambda data: pack({"format": "rasplat-trace", "version": 1}) + data, "not a rasplat checkpoint"),
        (lambda data: data + b"\x00", "corrupt checkpoint"),
    ],
    ids=["half", "header-cut", "bit-flip", "empty", "text", "trace", "trailing"],
)
def test_broken_files_give_one_line_errors(good: Path, damage: object, expected: str) -> None:
    broken = good.with_name("broken.ckpt")
    broken.write_bytes(damage(good.read_bytes()))  # type: ignore[operator]
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(broken)
    assert expected in _message(e) and str(broken) in _message(e)


def test_wrong_version_and_missing_file(good: Path) -> None:
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(_rewrite(good, header={"version": 99, "rasplat": "9.9"}))
    expected = "checkpoint version 99 (written by rasplat 9.9) is not supported; this rasplat reads version 1"
    assert expected in _message(e)
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(good.with_name("missing.ckpt"))
    assert "cannot read" in _message(e)


def test_a_recipe_that_no_longer_builds(good: Path) -> None:
    body = _body(good)
    body["recipe"]["dtb"] = body["recipe"]["dtb"][:64]
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(_rewrite(good, body=body))
    assert "the platform recipe no longer builds" in _message(e)

    body = _body(good)
    body["recipe"]["regions"][0][2] *= 2
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(_rewrite(good, body=body))
    assert "different address map" in _message(e)


def test_state_that_does_not_fit_names_the_component(good: Path) -> None:
    body = _body(good)
    del body["components"]["/soc/ras@1a000000"]["records"]
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(_rewrite(good, body=body))
    assert "/soc/ras@1a000000: the saved state does not fit (KeyError" in _message(e)

    body = _body(good)
    del body["harts"]
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(_rewrite(good, body=body))
    assert "malformed checkpoint body (KeyError: 'harts')" in _message(e)

    body = _body(good)
    body["components"]["/soc/no-such-device"] = {}
    with pytest.raises(CheckpointError) as e:
        rasplat.Platform.restore(_rewrite(good, body=body))
    assert "/soc/no-such-device, which this platform does not have" in _message(e)
