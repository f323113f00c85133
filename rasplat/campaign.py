"""Fault campaigns: a TOML spec, a registry of scenarios, batched tasks behind one Executor seam, and a results
file that a rerun resumes from.

A spec names a platform, a scenario and its fault space:

    [campaign]
    platform = "default"            # or a .dts/.dtb path (relative to the spec)
    scenario = "copy_mc"
    batch = 2000                    # runs per task (optional)

    [scenario]                      # the scenario's own parameters
    routine = "__memcpy_mc"
    pruning = true

    [faults]                        # the fault space
    lengths = "1..64"
    dst_align = "0..7"
    offsets = "all"

The scenario enumerates the runs in a fixed order; run i is the i-th. Runs are cut into tasks of `batch` runs,
and a task (`execute(platform, params, runs)`, a plain module-level function so that any worker process can
import it) returns one compact row per run. Tasks go to a `concurrent.futures.Executor`: a local
`ProcessPoolExecutor` by default, `distributed.Client(address).get_executor()` for a Dask cluster, or anything
else with submit(). Nothing about a run depends on where it ran, so every executor writes the same file.

Results file (msgpack stream, never pickle):
- a header map {"format": "rasplat-campaign", "version": 1, "scenario", "spec", "spec_hash", "runs",
  "columns"}, then
- one array per finished run: [run, *columns], appended as tasks finish (completion order).
On a rerun, the rows present are kept and only the missing runs are executed; a partial last record (the
process was killed while writing) is cut off first. When every run is in, the file is rewritten in run order,
so a finished campaign's file depends only on its spec.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from .errors import ConfigError, RasplatError

FORMAT = "rasplat-campaign"
VERSION = 1
DEFAULT_BATCH = 2000


# --- the executor seam ----------------------------------------------------------------------------------------
class ExecutorHandle:
    """An Executor plus how to let it go (a Dask client must be closed; an executor we were given is not ours)."""

    def __init__(self, executor: Executor, close: Callable[[], None], workers: int, where: str) -> None:
        self.executor, self._close, self.workers, self.where = executor, close, workers, where

    def __enter__(self) -> ExecutorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()


def make_executor(workers: int | None = None, dask: str | None = None) -> ExecutorHandle:
    """A local process pool of `workers` processes (default: the CPU count), or the Dask cluster at `dask`."""
    if dask:
        try:
            from distributed import Client
        except ImportError:
            raise ConfigError("--dask needs dask.distributed: pip install 'rasplat[dask]'") from None
        try:
            client = Client(dask, timeout=10)
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"cannot reach the Dask scheduler at {dask}: {e}") from None
        nworkers = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()) or 1
        return ExecutorHandle(client.get_executor(), client.close, nworkers, f"Dask at {dask}")
    n = workers if workers is not None else os.cpu_count() or 1
    if n < 1:
        raise ConfigError(f"--workers must be at least 1, got {n}")
    if n == 1:
        return ExecutorHandle(InlineExecutor(), lambda: None, 1, "this process")
    pool = ProcessPoolExecutor(max_workers=n)
    return ExecutorHandle(pool, lambda: pool.shutdown(cancel_futures=True), n, f"{n} local process(es)")


class InlineExecutor(Executor):
    """One worker: run each task in this process when it is submitted (no pool to start; pdb works)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed to the caller through the future, as a pool would
            fut.set_exception(e)
        return fut


def given_executor(executor: Executor, workers: int = 2) -> ExecutorHandle:
    """Wrap an executor the caller owns (a test's LocalCluster client executor, a thread pool...)."""
    return ExecutorHandle(executor, lambda: None, workers, type(executor).__name__)


def run_tasks(
    executor: Executor, fn: Callable[..., Any], tasks: Sequence[tuple], max_inflight: int,
    on_result: Callable[[int, Any], None],
) -> None:  # fmt: skip
    """Submit fn(*task) for every task, never more than max_inflight at once (a Dask cluster need not hold the
    whole campaign), and hand each result to on_result(task index, result) as it finishes. If anything stops
    the loop (^C, an error), the tasks that had already finished are still handed over, and the rest are
    cancelled."""
    inflight: dict[Future, int] = {}
    nxt = 0
    try:
        while nxt < len(tasks) or inflight:
            while nxt < len(tasks) and len(inflight) < max_inflight:
                inflight[executor.submit(fn, *tasks[nxt])] = nxt
                nxt += 1
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=inflight.__getitem__):
                on_result(inflight.pop(fut), fut.result())
    except BaseException:
        for fut, index in sorted(inflight.items(), key=lambda item: item[1]):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                on_result(index, fut.result())
            else:
                fut.cancel()
        raise


class Progress:
    """A rich progress bar on an interactive terminal; silent when rich is missing, output is not a TTY, or
    CI is set."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self._bar: Any = None
        if not enabled or os.environ.get("CI") or not sys.stderr.isatty():
            return
        try:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn
        except ImportError:
            return
        self._bar = Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), transient=True,
        )  # fmt: skip
        self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


# --- scenarios ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A kind of run a campaign can sweep.

    runs(params, faults) enumerates every run's parameters (a tuple of msgpack-able values) in a fixed order.
    execute(platform, params, runs) executes [(run id, run parameters), ...] on a fresh or cached platform and
    returns one row [run id, *values for `columns`] per run; it must be a module-level function (workers
    import it by name) and deterministic. `outcome` names the column the summaries count.
    """

    name: str
    columns: tuple[str, ...]
    runs: Callable[[dict, dict], Iterable[tuple]]
    execute: Callable[[str, dict, list[tuple[int, tuple]]], list[list]]
    outcome: str = "outcome"
    cost: Callable[[tuple], int] = lambda run: 1  # relative cost of a run, for cutting tasks
    describe: str = ""


SCENARIOS: dict[str, Scenario] = {}


def register_scenario(scenario: Scenario) -> Scenario:
    """Add a scenario by name (a plugin or a test may add its own)."""
    if scenario.name in SCENARIOS and SCENARIOS[scenario.name] != scenario:
        raise ConfigError(f"campaign: scenario {scenario.name!r} is already registered")
    SCENARIOS[scenario.name] = scenario
    return scenario


def get_scenario(name: str) -> Scenario:
    _builtin_scenarios()
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(f"campaign: unknown scenario {name!r} (known: {', '.join(sorted(SCENARIOS))})") from None


def _builtin_scenarios() -> None:
    from . import verify  # registers "copy_mc"

    verify.register_campaign_scenarios()


# --- the spec -------------------------------------------------------------------------------------------------
@dataclass
class Spec:
    scenario: str
    platform: str = "default"
    batch: int = DEFAULT_BATCH
    params: dict = field(default_factory=dict)
    faults: dict = field(default_factory=dict)
    name: str = ""

    def canonical(self) -> dict:
        """What identifies the campaign's runs (the batch size does not change them)."""
        return {"scenario": self.scenario, "platform": self.platform, "params": self.params, "faults": self.faults}

    @property
    def digest(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_spec(path: str | os.PathLike) -> Spec:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    return spec_from_dict(data, base=path.parent, where=str(path))


def spec_from_dict(data: dict, base: Path | None = None, where: str = "spec") -> Spec:
    unknown = set(data) - {"campaign", "scenario", "faults"}
    if unknown:
        raise ConfigError(f"{where}: unknown table(s) {', '.join(sorted(unknown))} (have: campaign, scenario, faults)")
    camp = dict(data.get("campaign", {}))
    if "scenario" not in camp:
        raise ConfigError(f"{where}: [campaign] needs scenario = NAME")
    extra = set(camp) - {"scenario", "platform", "batch", "name"}
    if extra:
        raise ConfigError(f"{where}: unknown [campaign] key(s) {', '.join(sorted(extra))}")
    platform = str(camp.get("platform", "default"))
    if platform != "default" and base is not None and not Path(platform).is_absolute():
        platform = str((base / platform).resolve())
    batch = camp.get("batch", DEFAULT_BATCH)
    if not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"{where}: [campaign] batch must be a positive integer, got {batch!r}")
    params = dict(data.get("scenario", {}))
    if base is not None and isinstance(params.get("elf"), str) and not Path(params["elf"]).is_absolute():
        params["elf"] = str((base / params["elf"]).resolve())
    return Spec(str(camp["scenario"]), platform, batch, params, dict(data.get("faults", {})), str(camp.get("name", "")))


# --- the results file -----------------------------------------------------------------------------------------
def _header(spec: Spec, scenario: Scenario, total: int) -> dict:
    return {"format": FORMAT, "version": VERSION, "scenario": spec.scenario, "spec": spec.canonical(),
            "spec_hash": spec.digest, "runs": total, "columns": ["run", *scenario.columns]}  # fmt: skip


def read_results(path: str | os.PathLike) -> tuple[dict, dict[int, list], int]:
    """(header, rows by run id, byte length of the complete records). A partial last record is not counted."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise RasplatError(f"{path}: cannot read ({e.strerror})") from None
    unpacker = msgpack.Unpacker(io.BytesIO(blob), raw=False, strict_map_key=False)
    try:
        header = unpacker.unpack()
    except (msgpack.OutOfData, ValueError, msgpack.UnpackException):
        raise RasplatError(f"{path}: not a rasplat campaign results file (no header)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RasplatError(f"{path}: not a rasplat campaign results file (no '{FORMAT}' header)")
    if header.get("version") != VERSION:
        raise RasplatError(f"{path}: results version {header.get('version')} is not supported ({VERSION})")
    rows: dict[int, list] = {}
    good = unpacker.tell()
    while True:
        try:
            row = unpacker.unpack()
        except msgpack.OutOfData:
            break  # end of file, or a record cut short by an interruption
        except (ValueError, msgpack.UnpackException):
            break  # garbage after the last good record: treated as the cut-off point
        if not isinstance(row, list) or not row or not isinstance(row[0], int):
            break
        rows.setdefault(row[0], row)
        good = unpacker.tell()
    return header, rows, good


def write_results(path: str | os.PathLike, header: dict, rows: Iterable[list]) -> Path:
    """Write a complete results file atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    packer = msgpack.Packer(use_bin_type=True)
    with open(tmp, "wb") as f:
        f.write(packer.pack(header))
        for row in rows:
            f.write(packer.pack(row))
    os.replace(tmp, path)
    return path


# --- running a campaign ---------------------------------------------------------------------------------------
@dataclass
class CampaignResult:
    path: Path
    header: dict
    rows: list[list]  # in run order
    executed: int  # runs this invocation executed (the rest came from the results file)
    seconds: float
    outcome_column: str = "outcome"

    def outcomes(self) -> Counter:
        i = self.header["columns"].index(self.outcome_column)
        return Counter(row[i] for row in self.rows)


def plan(spec: Spec) -> tuple[Scenario, list[tuple]]:
    scenario = get_scenario(spec.scenario)
    runs = list(scenario.runs(spec.params, spec.faults))
    if not runs:
        raise ConfigError(f"campaign: the fault space of scenario {spec.scenario!r} is empty")
    return scenario, runs


def _batches(pending: list[int], runs: list[tuple], cost: Callable[[tuple], int], batch: int) -> list[list[int]]:
    """Cut the pending run ids into tasks of about `batch` runs' worth of cost, keeping the run order."""
    out: list[list[int]] = []
    current: list[int] = []
    weight = 0
    for rid in pending:
        current.append(rid)
        weight += cost(runs[rid])
        if weight >= batch:
            out.append(current)
            current, weight = [], 0
    if current:
        out.append(current)
    return out


def run_campaign(
    spec: Spec,
    results: str | os.PathLike,
    handle: ExecutorHandle | None = None,
    progress: bool = True,
) -> CampaignResult:
    """Run (or finish) the campaign; returns every row. With no handle, a local process pool is used."""
    t0 = time.perf_counter()
    scenario, runs = plan(spec)
    header = _header(spec, scenario, len(runs))
    path = Path(results)
    done: dict[int, list] = {}
    if path.exists():
        old, done, good = read_results(path)
        if old.get("spec_hash") != header["spec_hash"] or old.get("runs") != len(runs):
            raise ConfigError(
                f"{path}: holds results of a different campaign (spec {old.get('spec_hash')}, "
                f"this spec {header['spec_hash']}); use another results file"
            )
        done = {rid: row for rid, row in done.items() if 0 <= rid < len(runs)}
        with open(path, "r+b") as f:
            f.truncate(good)  # drop a partial last record before appending
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_results(path, header, [])
    pending = [rid for rid in range(len(runs)) if rid not in done]
    executed = 0
    if pending:
        tasks = [
            (scenario.execute, spec.platform, spec.params, [(rid, runs[rid]) for rid in ids])
            for ids in _batches(pending, runs, scenario.cost, spec.batch)
        ]
        own = handle is None
        handle = handle or make_executor()
        packer = msgpack.Packer(use_bin_type=True)
        try:
            with open(path, "ab") as f, Progress(len(pending), f"campaign {spec.scenario}", progress) as bar:

                def record(_: int, rows: list[list]) -> None:
                    nonlocal executed
                    f.write(b"".join(packer.pack(row) for row in rows))
                    f.flush()
                    for row in rows:
                        done.setdefault(row[0], row)
                    executed += len(rows)
                    bar.advance(len(rows))

                run_tasks(handle.executor, _execute_task, tasks, 2 * handle.workers, record)
        finally:
            if own:
                handle.__exit__(None, None, None)
    ordered = [done[rid] for rid in range(len(runs))]
    write_results(path, header, ordered)
    return CampaignResult(path, header, ordered, executed, time.perf_counter() - t0, scenario.outcome)


def _execute_task(execute: Callable, platform: str, params: dict, runs: list[tuple[int, tuple]]) -> list[list]:
    rows = execute(platform, params, runs)
    if [row[0] for row in rows] != [rid for rid, _ in runs]:
        raise RasplatError(f"scenario {execute.__qualname__} returned rows that do not match its runs")
    return rows


# --- summaries ------------------------------------------------------------------------------------------------
def summary_lines(result: CampaignResult, examples: int = 3) -> list[str]:
    """Runs per outcome, the slowest runs (most instructions, when the scenario reports them) and an example
    of each of the rarest outcomes."""
    cols = result.header["columns"]
    total = len(result.rows)
    counts = result.outcomes()
    out = [f"{total:,} runs ({result.executed:,} executed now) in {result.seconds:.1f} s -> {result.path}", "",
           f"{'outcome':<40} {'runs':>10} {'share':>8}"]  # fmt: skip
    for outcome, count in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        out.append(f"{str(outcome):<40} {count:>10,} {100 * count / total:>7.2f}%")
    if "steps" in cols:
        s = cols.index("steps")
        slow = sorted(result.rows, key=lambda r: (-(r[s] or 0), r[0]))[:examples]
        out += ["", "slowest runs (instructions):"] + [f"  {_row_text(cols, r)}" for r in slow]
    rare = sorted(counts.items(), key=lambda kv: (kv[1], str(kv[0])))[:examples]
    if len(counts) > 1:
        i = cols.index(result.outcome_column)
        out += ["", "strangest runs (rarest outcomes):"]
        for outcome, count in rare:
            row = next(r for r in result.rows if r[i] == outcome)
            out.append(f"  {count:>6,} x {outcome}: e.g. {_row_text(cols, row)}")
    return out


def _row_text(cols: list[str], row: list) -> str:
    def fmt(name: str, value: object) -> str:
        if name == "pc" and isinstance(value, int):
            return f"{name}={value:#x}"
        return f"{name}={value}"

    return " ".join(fmt(c, v) for c, v in zip(cols, row, strict=False))
