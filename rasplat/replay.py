"""Recipes and replay: a traced command records how to run it again, and `rasplat trace replay` does.

A recipe is the command line (`argv`, as typed, `--trace` included) plus the bytes of every input file it
named (`inputs`: device tree, ELF), so a replay needs neither the files nor the directory it was typed in. A
device tree's `/include/` and `/incbin/` files are captured too, at their paths relative to it.

Replay parses the recorded argv again, points the input options at copies of the recorded bytes in a
temporary directory (and any output options, such as a report directory, into it as well), runs the command
with its output discarded under a fresh `Recorder`, and compares the event streams record by record: the
platform index and the event's bytes as a trace stores them (`trace.canonical`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from . import trace as tr
from .errors import KernelPanic, RasplatError
from .timeline import Symbols, line, value

ELF_MAGIC, FDT_MAGIC = b"\x7fELF", b"\xd0\x0d\xfe\xed"
INCLUDE = re.compile(rb'/(include|incbin)/\s*"([^"]+)"')


# --- recording ------------------------------------------------------------------------------------------------------
def capture(path: Path) -> dict:
    """An input file as a recipe keeps it: its bytes and those of the files it includes."""
    data = path.read_bytes()
    return {"path": str(path), "name": path.name, "sha256": hashlib.sha256(data).hexdigest(), "data": data,
            "includes": _includes(path, data)}  # fmt: skip


def _includes(top: Path, data: bytes) -> dict[str, bytes]:
    """Files a DTS pulls in, keyed by their path relative to the top file's directory; the lookup order is
    dtlib's: next to the including file, then next to the top file."""
    found: dict[str, bytes] = {}
    todo = [(top, data)]
    while todo:
        here, text = todo.pop()
        if text[:4] in (ELF_MAGIC, FDT_MAGIC):
            continue
        for how, name in INCLUDE.findall(text):
            rel_name = name.decode(errors="replace")
            if os.path.isabs(rel_name):
                continue  # an absolute include does not move with the recipe; dtlib reports it if it is gone
            target = next((c for c in (here.parent / rel_name, top.parent / rel_name) if c.is_file()), None)
            if target is None:
                continue
            rel = os.path.relpath(target, top.parent)
            if rel not in found:
                found[rel] = target.read_bytes()
                if how == b"include":
                    todo.append((target, found[rel]))
    return found


def recipe_for(args: argparse.Namespace, argv: list[str]) -> dict:
    """The recipe of a parsed command line: `args.trace_inputs` maps each input option to a suffix the value
    must have to be a file (None: any), e.g. `run`'s target is a file only when it ends with .elf."""
    inputs = {}
    for dest, suffix in getattr(args, "trace_inputs", {}).items():
        given = getattr(args, dest, None)
        if isinstance(given, str) and (suffix is None or given.endswith(suffix)) and Path(given).is_file():
            inputs[dest] = capture(Path(given))
    return {"command": args.command, "argv": list(argv), "inputs": inputs}


def record(args: argparse.Namespace, argv: list[str]) -> int:
    """Run a parsed command under a Recorder and write its trace to `args.trace`, also when it fails."""
    recorder = tr.Recorder(recipe=recipe_for(args, argv))
    status, error = 1, None
    try:
        with recorder:
            status = args.func(args)
        return status
    except (KernelPanic, RasplatError) as e:
        error = str(e)
        raise
    finally:
        path = recorder.write(args.trace, exit={"status": status, "error": error})
        print(f"trace: {path} ({len(recorder.records)} events from {len(recorder.platforms)} platform(s))")


# --- replay ---------------------------------------------------------------------------------------------------------
def materialise(recipe: dict, root: Path) -> dict[str, str]:
    """Write the recipe's inputs under `root`; returns option -> path. Paths in a trace are not trusted: every
    file lands inside `root`."""
    paths = {}
    for i, (dest, spec) in enumerate(sorted(recipe.get("inputs", {}).items())):
        includes: dict[str, bytes] = spec.get("includes") or {}
        # includes may climb out of the top file's directory ("../common.dtsi"): nest the top file that deep
        depth = max((Path(rel).parts.count("..") for rel in includes), default=0)
        base = root / str(i) / Path(*(["d"] * depth)) if depth else root / str(i)
        for rel, data in [(Path(spec["name"]).name, spec["data"]), *includes.items()]:
            target = Path(os.path.normpath(base / rel))
            if not target.is_relative_to(root / str(i)):
                raise RasplatError(f"recipe input {rel!r} would be written outside the replay directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        paths[dest] = str(base / Path(spec["name"]).name)
    return paths


def run_recipe(recipe: dict, execute: Callable[[dict[str, str], Path], int]) -> tr.Trace:
    """Run a recipe quietly under a Recorder; `execute(inputs, scratch)` runs the command with its input
    options pointed at `inputs` and its outputs into `scratch`. Returns the new recording."""
    with tempfile.TemporaryDirectory(prefix="rasplat-replay-") as tmp:
        root = Path(tmp)
        paths = materialise(recipe, root / "inputs")
        recorder = tr.Recorder(recipe=recipe)
        status, error = 1, None
        with contextlib.redirect_stdout(io.StringIO()), recorder:
            try:
                status = execute(paths, root / "outputs")
            except (KernelPanic, RasplatError) as e:
                error = str(e)
        return recorder.trace(exit={"status": status, "error": error})


def first_divergence(expected: tr.Trace, got: tr.Trace) -> int | None:
    """Index of the first record that differs (platform or event bytes), or None when the streams match."""
    for i in range(max(len(expected), len(got))):
        if i >= len(expected) or i >= len(got):
            return i
        (pa, a), (pb, b) = expected.records[i], got.records[i]
        if pa != pb or tr.canonical(a) != tr.canonical(b):
            return i
    return None


def divergence_lines(expected: tr.Trace, got: tr.Trace, i: int) -> Iterator[str]:
    def show(t: tr.Trace) -> str:
        if i >= len(t):
            return f"end of stream after {len(t)} events"
        p, e = t.records[i]
        nth = sum(1 for q, _ in t.records[:i] if q == p)
        symbolize = Symbols(t.platforms[p].get("images", [])) if p < len(t.platforms) else None
        return f"platform {p} ({t.label(p)}) event {nth}:\n" + line(e, symbolize, indent="      ")

    yield f"diverged at event {i}:"
    yield f"  expected {show(expected)}"
    yield f"  got      {show(got)}"
    if i < len(expected) and i < len(got):
        a, b = tr.unpack(tr.canonical(expected.records[i][1])), tr.unpack(tr.canonical(got.records[i][1]))
        for key in [*a, *(k for k in b if k not in a)]:
            if a.get(key, "<absent>") != b.get(key, "<absent>"):
                yield f"  {key}: expected {_show(key, a, '<absent>')}, got {_show(key, b, '<absent>')}"


def _show(key: str, event: dict, absent: str) -> str:
    return value(key, event[key]) if key in event else absent


def replay(expected: tr.Trace, execute: Callable[[dict[str, str], Path], int]) -> tuple[bool, list[str]]:
    """Re-run a trace's recipe and compare. Returns (identical, lines to print)."""
    recipe = expected.recipe
    if not recipe:
        raise RasplatError(f"{expected.path}: the trace has no recipe (only traces written by `--trace` replay)")
    got = run_recipe(recipe, execute)
    lines = _environment_notes(expected.header.get("environment") or {}, got.header["environment"])
    i = first_divergence(expected, got)
    if i is not None:
        return False, [*divergence_lines(expected, got, i), *lines]
    want, have = expected.header.get("exit") or {}, got.header.get("exit") or {}
    if want.get("status") != have.get("status"):
        return False, [f"same {len(got)} events, but exit status {have.get('status')} ({have.get('error')}); "
                       f"the recording exited {want.get('status')} ({want.get('error')})", *lines]  # fmt: skip
    return True, [f"identical: {len(got)} events ({len(got.platforms)} platform(s), exit status {have.get('status')})"]


def _environment_notes(recorded: dict, now: dict) -> list[str]:
    """Differences that explain a divergence: another firmware build, other plugins, another Python."""
    return [f"  note: {key} was {recorded[key]}, is {now.get(key)}" for key in ("firmware_sha256", "plugins", "python")
            if key in recorded and recorded[key] != now.get(key)]  # fmt: skip
