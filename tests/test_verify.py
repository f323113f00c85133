"""The copy-contract verifier (rasplat.verify), its pruning (rasplat.pruning) and the firmware copies it checks.

- __memcpy_mc on a sample: over-estimates, never an unsafe class, and every return is the closed form of
  kernel-copy-mc.md §1.4 at byte granularity; __memcpy_mc_exact and __asm_copy_to_user are exact in every case;
- deliberately broken routines (tests/data/copy_routines.S, built when the toolchain is present) are flagged
  unsafe and `rasplat verify-copy` exits 1;
- pruning gives exactly the brute-force results, including for a routine whose fault handler retries;
- __asm_copy_to_user in the x86 COPY_MC_TEST style: every fault position of a 512-byte copy, on the source and
  on the destination (a refusing window and a truly unmapped page), through kernel.call.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from concurrent.futures import Executor, Future
from pathlib import Path

import pytest

import rasplat
from rasplat import cli, verify
from rasplat.bus import AccessFault
from rasplat.campaign import given_executor
from rasplat.memory import RAM
from rasplat.pruning import LOAD, STORE, FaultWindow, RunResult, fault_classes, split_points
from rasplat.verify import Routine, Sweep, Verdict, outcome_name, rig_for, run_group

DATA = Path(__file__).parent / "data"
PREFIX = "riscv64-linux-gnu-"


class InlineExecutor(Executor):
    """Runs each task at submit time, in this process (no pool start-up for small sweeps)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        fut: Future = Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


def inline() -> object:
    return given_executor(InlineExecutor(), workers=1)


@pytest.fixture(scope="module")
def routines_elf(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/data/copy_routines.S linked at 0x8800_0000 (free DRAM), or a skip without the toolchain."""
    as_, ld = shutil.which(PREFIX + "as"), shutil.which(PREFIX + "ld")
    if as_ is None or ld is None:
        pytest.skip("riscv64-linux-gnu binutils not installed")
    out = tmp_path_factory.mktemp("routines")
    obj, elf = out / "copy_routines.o", out / "copy_routines.elf"
    subprocess.run([as_, "-march=rv64imac", "-mabi=lp64", "-o", str(obj), str(DATA / "copy_routines.S")], check=True)
    subprocess.run([ld, "-static", "-nostdlib", "--build-id=none", "-Ttext=0x88000000", "-e", "copy_retry",
                    "-o", str(elf), str(obj)], check=True)  # fmt: skip
    return str(elf)


# --- the built-in routines on a sample -------------------------------------------------------------------------
SAMPLE_LENGTHS = (*range(1, 24), 127, 128, 129, 136, 200, 263)


def test_memcpy_mc_over_estimates_but_is_safe() -> None:
    sweep = Sweep(Routine("__memcpy_mc"), SAMPLE_LENGTHS, (0, 3), tuple(range(8)))
    s = verify.verify(sweep, inline(), progress=False)
    assert s.cases == sweep.cases and s.clean == 29 * 16
    assert s.safe and set(s.counts) == {"exact", "over"} and s.counts["over"] > s.counts["exact"] > 0
    assert s.clean_counts == {"exact": s.clean}
    assert s.over_max == 262  # n=263 not co-aligned, byte tail: a2 = 263 at the last byte
    lines = verify.report_lines(s, verify.RoutineInfo.of(rig_for(sweep.routine, 263)))
    assert lines[-1] == "result: SAFE - no unsafe class"


def closed_form(n: int, src: int, dst: int, f: int) -> int:
    """a2 when the load that touches byte f (the first one to) faults: the count at the start of its phase."""
    if n < 128 or (src ^ dst) & 7:
        return n
    lead = (-src) & 7
    if f < lead:
        return n
    if f < lead + ((n - lead) & ~127):
        return n - lead
    return (n - lead) & 127


@pytest.mark.parametrize("n", [5, 128, 200, 263, 300])
def test_memcpy_mc_returns_the_phase_count(n: int) -> None:
    rig = rig_for(Routine("__memcpy_mc"), 300)
    for sa in (0, 1, 5):
        for da in (0, 1, 5):
            g = run_group(rig, n, sa, da, "src", range(n))
            src, dst = rig.layout.src_base + sa, rig.layout.dst_base + da
            for f, o in g.faults:
                assert o.ret == closed_form(n, src, dst, f), (n, sa, da, f, o)
                assert o.written <= f and o.flags & (Verdict.EXACT | Verdict.OVER)


@pytest.mark.parametrize("symbol", ["__memcpy_mc_exact", "__asm_copy_to_user"])
def test_exact_variants_are_exact_in_every_case(symbol: str) -> None:
    sides = ("src", "dst") if symbol == "__asm_copy_to_user" else ("src",)
    sweep = Sweep(Routine(symbol), SAMPLE_LENGTHS, (0, 3), tuple(range(8)), sides)
    s = verify.verify(sweep, inline(), progress=False)
    assert s.safe and s.counts == {"exact": s.cases - s.clean} and s.clean_counts == {"exact": s.clean}
    # bytes before the fault left uncopied: the template loads 10 doublewords before storing; uaccess one
    assert s.lag_max == (79 if symbol == "__memcpy_mc_exact" else 7)


def test_exact_variant_on_long_copies() -> None:
    # several unrolled iterations, with lead bytes, and faults in loads 0-9 and 10-15 of later blocks
    rig = rig_for(Routine("__memcpy_mc_exact"), 1200)
    for n, sa in ((1200, 0), (1031, 3), (640, 7)):
        g = run_group(rig, n, sa, sa, "src", range(n))
        assert {outcome_name(o.flags) for _, o in g.faults} == {"exact"}
        lead = (-sa) & 7
        for f, o in g.faults:
            if lead <= f < lead + ((n - lead) & ~127):  # unrolled: the block start, or 80 bytes into it
                block = (f - lead) & ~127
                assert o.written - lead in (block, block + 80), (n, sa, f, o)


# --- broken routines -------------------------------------------------------------------------------------------
def test_broken_routines_are_unsafe(routines_elf: str, capsys: pytest.CaptureFixture) -> None:
    argv = ["verify-copy", "--elf", routines_elf, "--lengths", "1..20", "--dst-align", "0,1", "--workers", "1",
            "--no-progress"]  # fmt: skip
    assert cli.main([*argv, "--symbol", "copy_returns_zero"]) == 1
    out = capsys.readouterr().out
    assert "under-estimate" in out and "UNSAFE" in out and "result: UNSAFE - 420 unsafe cases" in out
    assert cli.main([*argv, "--symbol", "copy_no_fixup"]) == 1
    out = capsys.readouterr().out
    assert "no fixup (panic)" in out and "result: UNSAFE" in out
    assert cli.main([*argv, "--symbol", "copy_retry"]) == 0
    assert "result: SAFE" in capsys.readouterr().out


def test_a_handler_that_faults_forever_is_a_hang(routines_elf: str) -> None:
    rig = rig_for(Routine("copy_fault_loop", routines_elf), 8)
    for brute in (False, True):
        g = run_group(rig, 4, 0, 0, "src", [2], brute=brute)
        assert g.clean is not None and outcome_name(g.clean.flags) == "exact"
        assert [(f, outcome_name(o.flags), o.ret) for f, o in g.faults] == [(2, "hang", None)]


def test_each_unsafe_class_is_recognised() -> None:
    rig = rig_for(Routine("__memcpy_mc"), 64)
    case = verify._Case(rig, 16, 0, 0)
    src, fill = case.src_bytes, case.fill[case.dst_rel : case.dst_rel + 16]
    inside = (case.src, case.src + 16, case.dst, case.dst + 16)

    def judge(dst: bytes, ret: int | None, fault: bool = True, ext: tuple = inside, **run: object) -> str:
        area = case.fill[: case.dst_rel] + dst + case.fill[case.dst_rel + 16 :]
        return outcome_name(case.classify(RunResult(ret, 0, **run), area, fault, ext, None).flags)  # type: ignore

    assert judge(src[:6] + fill[6:], 10) == "exact"
    assert judge(src[:6] + fill[6:], 12) == "over"
    assert judge(src[:6] + fill[6:], 0) == "under"
    assert judge(src[:6] + fill[6:], 17) == "bad-return"
    assert judge(src[:6] + bytes([fill[6] ^ 0x55]) + fill[7:], 0) == "corrupt-prefix"  # neither src nor fill
    assert judge(src[:6] + fill[6:12] + src[12:], 10) == "exact+touched-suffix"
    wide_read, wide_write = (case.src - 1, *inside[1:]), (*inside[:3], case.dst + 17)
    assert judge(src[:6] + fill[6:], 10, ext=wide_read) == "exact+read-outside"
    assert judge(src[:6] + fill[6:], 10, ext=wide_write) == "exact+write-outside"
    assert judge(fill, None, panic="Oops") == "panic"
    assert judge(fill, None, hang=True) == "hang"
    assert judge(src, 0, fault=False) == "exact"
    assert judge(src, 3, fault=False) == "wrong-success"
    assert judge(src[:15] + fill[15:], 0, fault=False) == "corrupt-prefix"


# --- pruning ---------------------------------------------------------------------------------------------------
def test_fault_classes_group_positions_by_first_touching_access() -> None:
    log = [(LOAD, 100, 8), (STORE, 500, 8), (LOAD, 108, 8), (LOAD, 100, 4), (LOAD, 116, 1), (LOAD, 900, 8)]
    positions = list(range(96, 120))
    classes = fault_classes(log, LOAD, positions, hi=200)
    assert classes == [(0, list(range(96, 108))), (2, list(range(108, 116))), (4, [116]), (None, [117, 118, 119])]
    # a representative's run that faults again after its first fault splits the class where members differ
    run = RunResult(5, 0, log=[(LOAD, 100, 8), (LOAD, 100, 1), (LOAD, 101, 1)], faulted=0)
    assert split_points(run, LOAD, list(range(100, 108)), hi=200) == 1


def _same(rig, n: int, sa: int, da: int, side: str) -> int:
    pruned = run_group(rig, n, sa, da, side, range(n))
    brute = run_group(rig, n, sa, da, side, range(n), brute=True)
    assert pruned.clean == brute.clean and pruned.faults == brute.faults, (rig.routine, n, sa, da, side)
    return pruned.runs


@pytest.mark.parametrize("symbol", ["__memcpy_mc", "__memcpy_mc_exact", "__asm_copy_to_user"])
def test_pruning_matches_brute_force(symbol: str) -> None:
    rig = rig_for(Routine(symbol), 300)
    sides = ("src", "dst") if symbol == "__asm_copy_to_user" else ("src",)
    runs = 0
    for n, sa, da in ((1, 0, 0), (7, 1, 2), (64, 0, 0), (130, 2, 2), (200, 0, 4), (261, 3, 3), (300, 0, 5)):
        for side in sides:
            runs += _same(rig, n, sa, da, side)
    assert runs < sum(n + 1 for n in (1, 7, 64, 130, 200, 261, 300)) * len(sides)  # it does prune


@pytest.mark.parametrize("symbol", ["copy_returns_zero", "copy_no_fixup", "copy_retry"])
def test_pruning_matches_brute_force_for_other_routines(routines_elf: str, symbol: str) -> None:
    rig = rig_for(Routine(symbol, routines_elf), 100)
    for n, sa, da in ((24, 0, 0), (37, 0, 0), (19, 1, 1), (40, 0, 3)):
        _same(rig, n, sa, da, "src")
    if symbol == "copy_retry":
        # its handler re-reads the faulting doubleword byte by byte, so the 8 offsets a doubleword load
        # covers behave differently after the fault: each of its 8 classes is split into 8 runs
        case = verify._Case(rig, 64, 0, 0)
        case.reset(rig)
        golden = rig.runner.golden(rig.fn, (rig.base + case.dst, rig.base + case.src, 64), 10_000)
        positions = [case.src + f for f in range(64)]
        assert len(fault_classes(golden.result.log, LOAD, positions, rig.layout.src_area[1])) == 8
        assert run_group(rig, 64, 0, 0, "src", range(64)).runs == 1 + 64


# --- __asm_copy_to_user, x86 COPY_MC_TEST style ----------------------------------------------------------------
WIN, WIN_SIZE = 0xC000_0000, 0x10000
EDGE, EDGE_SIZE = 0xC010_0000, 0x2000  # nothing is mapped right after EDGE + EDGE_SIZE


def test_copy_to_user_every_fault_position_of_512_bytes() -> None:
    plat = rasplat.Platform.default()
    win = FaultWindow(WIN_SIZE)
    plat.bus.map("window", WIN, WIN_SIZE, win)
    plat.bus.map("edge", EDGE, EDGE_SIZE, RAM(EDGE_SIZE, name="edge"))
    pattern = bytes((j * 7 + 1) % 255 for j in range(1024))  # never 0xff, the untouched-destination value
    fill = b"\xff" * 512
    inj_src, inj_dst = 0x4000, 0x8000  # window offsets of the injection addresses (x86: &buf[1024], &buf[2048])
    for i in range(512):
        for where in ("source", "destination", "unmapped"):
            src = WIN + inj_src - i if where == "source" else 0x8800_0000
            dst = {"source": WIN + 0x9000, "destination": WIN + inj_dst - i, "unmapped": EDGE + EDGE_SIZE - i}[where]
            plat.bus.write(src, pattern[:512])
            if where != "unmapped":
                plat.bus.write(dst, fill)
                win.arm(*((LOAD, inj_src, WIN_SIZE) if where == "source" else (STORE, inj_dst, WIN_SIZE)),
                        exc=AccessFault if where == "destination" else rasplat.bus.HardwareError)  # fmt: skip
            elif i:
                plat.bus.write(dst, fill[:i])
            ret = plat.kernel.call("__asm_copy_to_user", dst, src, 512)
            win.disarm()
            assert ret == 512 - i, f"{where} fault at {i}: ret {ret}"
            assert i == 0 or plat.bus.peek(dst, i) == pattern[:i], f"{where} fault at {i}: prefix not copied"
            if where != "unmapped":
                assert plat.bus.peek(dst + i, 512 - i) == fill[i:], f"{where} fault at {i}: suffix touched"
    fixups = plat.events.of_kind("fixup")
    assert {e["cause"] for e in fixups} == {7, 19}  # hardware error (source), store access fault (destination)
    assert len(fixups) == 3 * 512  # one fault per case, each fixed up
    assert not plat.events.of_kind("panic")


# --- the command line and the report ---------------------------------------------------------------------------
def test_verify_copy_html_report(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "report"
    rc = cli.main(["verify-copy", "--lengths", "1..40,130", "--dst-align", "0,1", "--workers", "1", "--no-progress",
                   "--html", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert rc == 0 and "over-estimate" in text and f"report: {out / 'index.html'}" in text
    page = (out / "index.html").read_text()
    assert "SAFE: no unsafe class" in page and "loop +0x3c..+0xc0 (16 ld, 16 sd)" in page
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "tables only" in page
    else:
        assert all((out / name).stat().st_size > 1000 for name in ("over_estimate.png", "phases.png"))


def test_html_report_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_matplotlib(*args: object) -> list:
        raise ImportError("matplotlib")

    monkeypatch.setattr(verify, "_plots", no_matplotlib)
    sweep = Sweep(Routine("__memcpy_mc"), (8, 130), (0,), (0,), maps=True)
    s = verify.verify(sweep, inline(), progress=False)
    path, plots = verify.write_html(s, tmp_path, verify.RoutineInfo.of(rig_for(sweep.routine, 130)))
    assert not plots and "tables only" in path.read_text() and not list(tmp_path.glob("*.png"))


def test_verify_copy_errors(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["verify-copy", "--elf", "x.elf"]) == 1
    assert "--elf needs --symbol" in capsys.readouterr().err
    assert cli.main(["verify-copy", "--symbol", "no_such_copy", "--lengths", "4", "--workers", "1"]) == 1
    assert "no symbol 'no_such_copy'" in capsys.readouterr().err
    assert cli.main(["verify-copy", "--lengths", "4..1", "--workers", "1"]) == 1
    assert "--lengths: '4..1'" in capsys.readouterr().err


def test_sweeps_are_deterministic() -> None:
    sweep = Sweep(Routine("__memcpy_mc"), (3, 129, 140), (0, 1), (0, 5), maps=True)
    a = verify.verify(sweep, inline(), progress=False)
    b = verify.verify(sweep, inline(), progress=False)
    assert (a.counts, a.per_pc, a.maps, a.examples) == (b.counts, b.per_pc, b.maps, b.examples)
    assert Counter(a.counts) == Counter(b.counts)
