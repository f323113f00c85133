"""Fault campaigns (rasplat.campaign): specs, the scenario registry, the executor seam, resumable results.

- a campaign of more than 10,000 runs on a 2-worker Dask LocalCluster writes the same results file, byte for
  byte, as the local process pool (skipped without dask.distributed);
- an interrupted campaign resumes without redoing finished runs, also from a file cut in the middle of a record;
- pruned and brute-force campaigns give the same rows; other scenarios can be registered by name.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Executor, Future
from pathlib import Path

import msgpack
import pytest

from rasplat import campaign, cli
from rasplat.campaign import Scenario, given_executor, make_executor, read_results, run_campaign, spec_from_dict
from rasplat.errors import ConfigError, RasplatError

# 1..140 bytes, co-aligned, a fault at every source byte plus one fault-free run each: 10,010 runs
BIG = {"campaign": {"scenario": "copy_mc", "batch": 1000}, "scenario": {"routine": "__memcpy_mc"},
       "faults": {"lengths": "1..140", "dst_align": "0"}}  # fmt: skip
SMALL = {"campaign": {"scenario": "copy_mc", "batch": 100}, "scenario": {"routine": "__memcpy_mc_exact"},
         "faults": {"lengths": "1..24,130", "dst_align": "0,3"}}  # fmt: skip


class InlineExecutor(Executor):
    """Runs a task at submit time; raises KeyboardInterrupt at submission number `interrupt_at` (a user's ^C
    while the campaign runs). Counts the runs it executed."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.interrupt_at, self.submitted, self.runs = interrupt_at, 0, 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        self.submitted += 1
        if self.submitted == self.interrupt_at:
            raise KeyboardInterrupt
        fut: Future = Future()
        fut.set_result(fn(*args, **kwargs))
        self.runs += len(fut.result())
        return fut


def inline(interrupt_at: int | None = None) -> tuple[InlineExecutor, campaign.ExecutorHandle]:
    ex = InlineExecutor(interrupt_at)
    return ex, given_executor(ex, workers=1)


def _reference(tmp_path: Path) -> bytes:
    _, handle = inline()
    run_campaign(spec_from_dict(SMALL), tmp_path / "reference.msgpack", handle, progress=False)
    return (tmp_path / "reference.msgpack").read_bytes()


def test_interrupted_campaign_resumes_without_redoing_runs(tmp_path: Path) -> None:
    reference = _reference(tmp_path)
    spec, path = spec_from_dict(SMALL), tmp_path / "results.msgpack"
    total = len(read_results(tmp_path / "reference.msgpack")[1])
    first, handle = inline(interrupt_at=4)  # ^C while submitting the 4th task
    with pytest.raises(KeyboardInterrupt):
        run_campaign(spec, path, handle, progress=False)
    _, done, _ = read_results(path)
    assert first.runs == len(done) == 300  # the three tasks that finished are in the file
    again, handle = inline()
    result = run_campaign(spec, path, handle, progress=False)
    assert result.executed == again.runs == total - 300  # nothing finished is run again
    assert path.read_bytes() == reference  # and the finished file is the uninterrupted one
    done_now, handle = inline()
    assert run_campaign(spec, path, handle, progress=False).executed == 0 and done_now.submitted == 0


def test_partial_last_record_is_cut_and_resumed(tmp_path: Path) -> None:
    reference = _reference(tmp_path)
    path = tmp_path / "results.msgpack"
    header, rows, _ = read_results(tmp_path / "reference.msgpack")
    packer = msgpack.Packer(use_bin_type=True)
    kept = [rows[r] for r in sorted(rows)[:250]]
    blob = packer.pack(header) + b"".join(packer.pack(row) for row in reversed(kept))  # any order
    path.write_bytes(blob + packer.pack(rows[250])[:-3])  # killed while writing run 250
    ex, handle = inline()
    result = run_campaign(spec_from_dict(SMALL), path, handle, progress=False)
    assert result.executed == ex.runs == len(rows) - 250
    assert path.read_bytes() == reference


def test_pruning_and_brute_force_campaigns_agree(tmp_path: Path) -> None:
    rows = {}
    faults = {"lengths": "1..9,128..131", "dst_align": "0..7", "src_align": "0,5"}
    for pruning in (True, False):
        spec = spec_from_dict({**SMALL, "scenario": {"routine": "__memcpy_mc", "pruning": pruning}, "faults": faults})
        _, handle = inline()
        rows[pruning] = run_campaign(spec, tmp_path / f"{pruning}.msgpack", handle, progress=False).rows
    assert len(rows[True]) == 16 * sum(n + 1 for n in (*range(1, 10), *range(128, 132)))
    assert rows[True] == rows[False]


def test_results_of_another_spec_are_refused(tmp_path: Path) -> None:
    _reference(tmp_path)
    other = spec_from_dict({**SMALL, "faults": {"lengths": "1..25"}})
    _, handle = inline()
    with pytest.raises(ConfigError, match="holds results of a different campaign"):
        run_campaign(other, tmp_path / "reference.msgpack", handle, progress=False)
    (tmp_path / "junk").write_bytes(b"\x93\x01\x02\x03")
    with pytest.raises(RasplatError, match="not a rasplat campaign results file"):
        run_campaign(other, tmp_path / "junk", handle, progress=False)


def test_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown scenario 'nope'"):
        campaign.plan(spec_from_dict({"campaign": {"scenario": "nope"}}))
    with pytest.raises(ConfigError, match=r"\[campaign\] needs scenario"):
        spec_from_dict({"campaign": {}})
    with pytest.raises(ConfigError, match="unknown \\[faults\\] key"):
        campaign.plan(spec_from_dict({"campaign": {"scenario": "copy_mc"}, "faults": {"length": "1"}}))
    bad = tmp_path / "bad.toml"
    bad.write_text("[campaign\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        campaign.load_spec(bad)


def squares(platform: str, params: dict, runs: list[tuple[int, tuple]]) -> list[list]:
    return [[rid, x, "even" if x * x % 2 == 0 else "odd"] for rid, (x,) in runs]


def test_a_registered_scenario_runs_by_name(tmp_path: Path) -> None:
    campaign.register_scenario(Scenario("squares", ("x", "outcome"), lambda p, f: [(x,) for x in range(f["n"])],
                                        squares))  # fmt: skip
    _, handle = inline()
    spec = spec_from_dict({"campaign": {"scenario": "squares", "batch": 7}, "faults": {"n": 50}})
    result = run_campaign(spec, tmp_path / "sq.msgpack", handle, progress=False)
    assert result.outcomes() == Counter(even=25, odd=25)
    assert "squares" in campaign.SCENARIOS and campaign.get_scenario("copy_mc").columns[0] == "n"


def test_campaign_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('[campaign]\nscenario = "copy_mc"\nbatch = 200\n\n[scenario]\nroutine = "__asm_copy_to_user"\n\n'
                    '[faults]\nlengths = "1..20,70"\ndst_align = "0,1"\nside = ["src", "dst"]\n')  # fmt: skip
    assert cli.main(["campaign", str(spec), "--workers", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    runs = 2 * (21 + 2 * (210 + 70))
    assert f"{runs:,} runs ({runs:,} executed now)" in out and "exact" in out and "slowest runs" in out
    assert (tmp_path / "spec.results.msgpack").exists()
    assert cli.main(["campaign", str(spec), "--workers", "1", "--no-progress"]) == 0
    assert f"{runs:,} runs (0 executed now)" in capsys.readouterr().out


# last: the Dask cluster leaves threads behind, and nothing should fork after it
def test_local_pool_and_dask_cluster_write_the_same_file(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    spec = spec_from_dict(BIG)
    with make_executor(workers=2) as pool:
        local = run_campaign(spec, tmp_path / "local.msgpack", pool, progress=False)
    assert len(local.rows) == local.executed == 10_010
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        with distributed.Client(cl) as client:
            dask = run_campaign(spec, tmp_path / "dask.msgpack", given_executor(client.get_executor(), 2), False)
    assert dask.executed == 10_010
    assert (tmp_path / "dask.msgpack").read_bytes() == (tmp_path / "local.msgpack").read_bytes()
    outcomes = local.outcomes()
    assert set(outcomes) == {"exact", "over"} and sum(outcomes.values()) == 10_010
    header, rows, _ = read_results(tmp_path / "local.msgpack")
    assert header["columns"][:7] == ["run", "n", "src_align", "dst_align", "side", "fault", "outcome"]
    assert sorted(rows) == list(range(10_010)) and rows[0][4:7] == ["none", None, "exact"]
