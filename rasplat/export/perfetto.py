"""Chrome/Perfetto trace-event JSON (the JSON object format; stdlib json), for ui.perfetto.dev.

Layout. Each platform of the trace is a process (pid = platform index + 1, named by its label); its tracks
are threads, ordered: one per hart ("hart0"), one per memory region or memory device ("memory
/memory@80000000", "CXL /soc/cxl-memdev@30000000"), one per interrupt controller ("APLIC <domain>", "IMSIC
hart0 S-file", "hart0 local interrupts"), one per RERI bank ("RERI <bank>"), and "kernel" for the kernel
model: policies, memory_failure, tasks, signals and the logs its drivers write (reri_event, cxl_*).

Spans, on the hart tracks, are complete ("X") events and properly nested by construction:
- a trap, from its `trap` event to the last event of its handling. The model records no trap return, so a
  trap from U-mode into S-mode (whose handler runs kernel code on the hart, e.g. a COW copy) lasts until the
  hart is next seen trapping from U-mode. Any other trap is handled without retiring an instruction: it lasts
  until `t` moves on or the hart traps into the same or a lower level; a trap into a higher level nests in it
  (firmware-first, M-mode takes the RAS interrupt at the first instruction of the S-mode handler), and an
  M-mode handler ends at the `sse.inject` that returns into the S-mode SSE handler;
- an SBI SSE handler, from `sse.inject` to `sse.complete`;
- a `copy_mc_to_kernel` call, ending at its `copy_mc` event and starting after the last event that cannot
  happen inside a copy (a kernel operation, or the U-mode trap whose handler copies): an estimate, marked
  `estimated_start` in its args;
- a span that would overlap a later one without containing it is cut where the later one starts.
Everything else is an instant ("i", thread-scoped) on its track, with the event's fields as args.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RasplatError
from ..timeline import HEX_FIELDS, Symbols, describe
from ..trace import Trace
from . import SPACING_US, display_us, platforms_of

GROUPS = ("hart", "memory", "intc", "reri", "kernel")
HART_KINDS = frozenset({"trap", "poison.consume", "fixup", "irq", "irq.spurious", "panic", "sbi", "sse.inject",
                        "sse.complete", "copy_mc"})  # fmt: skip
MEMORY_KINDS = frozenset({"inject", "ecc.ce", "ecc.ue", "poison.clear"})
# Kernel operations that never happen inside a copy: a copy's estimated start is after the last one of them.
COPY_BOUNDARY = frozenset({
    "copy_mc", "caller", "policy", "policy.retry", "mf.queue", "mf.result", "signal", "page_fault", "task.spawn",
    "task.fork", "task.exit", "boot", "ras.setup", "inject", "poison.clear", "elf.load", "irq.route", "cxl.probe",
    "dt.unknown", "plugin.error", "panic", "page.isolate",
})  # fmt: skip
PRIV_RANK = {"U": 0, "S": 1, "M": 3}


def track_of(e: dict) -> tuple[str, str]:
    """(group, track name) of an event."""
    kind = e.get("kind", "")
    if kind in HART_KINDS:
        return "hart", f"hart{e.get('hart', 0)}"
    if kind.startswith("aplic."):
        return "intc", f"APLIC {e.get('domain', '?')}"
    if kind == "imsic.pending":
        return "intc", f"IMSIC hart{e.get('hart', 0)} {e.get('level', '?')}-file"
    if kind == "reri.log":
        return "reri", f"RERI {e.get('bank', '?')}"
    if kind.startswith("cxl.") and "device" in e:
        return "memory", f"CXL {e['device']}"
    if (kind in MEMORY_KINDS or kind.startswith("pmem.")) and "region" in e:
        return "memory", f"memory {e['region']}"
    return "kernel", "kernel"


@dataclass
class Span:
    start: int  # µs on the exported timeline
    end: int
    name: str
    cat: str
    args: dict = field(default_factory=dict)


def to_json(trace: Trace, platform: int | None = None) -> dict:
    """The trace-event JSON object for a trace (or one of its platforms)."""
    out: list[dict] = []
    for index in platforms_of(trace, platform):
        out += _platform(trace, index)
    return {
        "traceEvents": out,
        "displayTimeUnit": "ms",
        "otherData": {
            "source": str(trace.path) if trace.path else "",
            "rasplat": str(trace.header.get("rasplat", "?")),
            "timeline": f"1 ms = 1 instruction retired by hart 0 (t); events at the same t are {SPACING_US} us apart",
        },
    }


def write_perfetto(trace: Trace, path: Path, platform: int | None = None) -> Path:
    data = json.dumps(to_json(trace, platform), separators=(",", ":"))
    try:
        path.write_text(data)
    except OSError as e:
        raise RasplatError(f"{path}: cannot write ({e.strerror})") from None
    return path


def _platform(trace: Trace, index: int) -> list[dict]:
    pid = index + 1
    desc = trace.platforms[index]
    events = trace.events(index)
    ts = display_us(events)
    tids: dict[tuple[str, str], int] = {}

    def tid(track: tuple[str, str]) -> int:
        return tids.setdefault(track, len(tids) + 1)

    # the platform's layout first, so tracks keep their order even where nothing happened
    for hart in desc.get("harts", []):
        tid(("hart", f"hart{hart}"))
    for region in desc.get("memory", []):
        tid(("memory", f"memory {region['name']}"))
    for bank in desc.get("reri", []):
        tid(("reri", f"RERI {bank['name']}"))
    local = _local_routes(desc)
    symbolize = Symbols(desc.get("images", []))
    out: list[dict] = []
    for e, at in zip(events, ts, strict=True):
        track = track_of(e)
        if e["kind"] not in ("trap", "copy_mc"):  # those two are drawn as spans
            out.append(_instant(e["kind"], e, at, pid, tid(track), describe(e, symbolize)))
        if e["kind"] == "reri.log":  # the bank's signal raising a hart's local interrupt line
            for signal in e.get("signals") or []:
                line = local.get((e.get("bank"), signal))
                if line is not None:
                    name = f"mip.{line} raised by ras-{signal}"
                    track = ("intc", f"hart{(desc.get('harts') or [0])[0]} local interrupts")
                    out.append(_instant(name, e, at, pid, tid(track), f"ras-{signal} raises mip.{line}"))
    for hart, spans in _hart_spans(events, ts).items():
        thread = tid(("hart", f"hart{hart}"))
        for s in _nest(spans):
            out.append({"ph": "X", "name": s.name, "cat": s.cat, "ts": s.start, "dur": s.end - s.start, "pid": pid,
                        "tid": thread, "args": s.args})  # fmt: skip
    meta = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
             "args": {"name": f"platform {index}: {desc.get('label', '?')}"}},
            {"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0, "args": {"sort_index": pid}}]  # fmt: skip
    order = sorted(tids, key=lambda track: (GROUPS.index(track[0]), tids[track]))
    for rank, track in enumerate(order):
        meta.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tids[track], "args": {"name": track[1]}})
        meta.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tids[track],
                     "args": {"sort_index": rank}})  # fmt: skip
    return meta + sorted(out, key=lambda ev: (ev["ts"], -ev.get("dur", 0)))


def _local_routes(desc: dict) -> dict[tuple[str, str], int]:
    """(bank, signal) -> local interrupt number, from the trace header's wiring."""
    return {(bank["name"], signal): route[1] for bank in desc.get("reri", [])
            for signal, route in bank.get("routes", {}).items() if route[0] == "local"}  # fmt: skip


def _instant(name: str, e: dict, at: int, pid: int, tid: int, what: str) -> dict:
    args = {k: _arg(k, v) for k, v in e.items() if k != "kind"}
    args["what"] = what
    return {"ph": "i", "s": "t", "name": name, "cat": e["kind"].split(".")[0], "ts": at, "pid": pid, "tid": tid,
            "args": args}  # fmt: skip


def _arg(key: str, v: Any) -> Any:
    """JSON for an event field: addresses in hex, integers JavaScript cannot hold exactly as hex strings."""
    if isinstance(v, bool) or v is None or isinstance(v, float | str):
        return v
    if isinstance(v, int):
        return f"{v:#x}" if key in HEX_FIELDS or abs(v) >= 1 << 53 else v
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {str(k): _arg(str(k), x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_arg(key, x) for x in v]
    return str(v)


@dataclass
class _Open:
    index: int
    t: int
    to: str
    leaf: bool
    span: Span

    @property
    def rank(self) -> int:
        return PRIV_RANK.get(self.to, 1)


def _hart_spans(events: list[dict], ts: list[int]) -> dict[int, list[Span]]:
    """Trap, SSE-handler and copy spans per hart, before nesting is enforced."""
    spans: dict[int, list[Span]] = {}
    traps: dict[int, list[_Open]] = {}  # open trap spans per hart, innermost last
    sse: dict[int, tuple[int, dict]] = {}

    def close(hart: int, until: int) -> None:
        """Close the innermost open trap of `hart` at the event before `until`."""
        o = traps[hart].pop()
        o.span.end = ts[max(o.index, until - 1)]
        spans.setdefault(hart, []).append(o.span)

    for i, e in enumerate(events):
        kind = e["kind"]
        for hart, stack in traps.items():  # handlers that retire no instruction end when time moves on
            while stack and stack[-1].leaf and e["t"] > stack[-1].t:
                close(hart, i)
        if kind == "trap":
            hart, rank, to = e.get("hart", 0), PRIV_RANK.get(e.get("priv"), 0), PRIV_RANK.get(e.get("to"), 1)
            stack = traps.setdefault(hart, [])
            # The hart traps from `priv`, so handlers above that level have returned; a trap into a level at or
            # below a leaf handler's means that handler is done. A trap into a higher level (firmware-first:
            # M-mode takes the RAS interrupt at the first instruction of the S-mode handler) nests inside it.
            while stack and (PRIV_RANK.get(stack[-1].to, 1) > rank or (stack[-1].leaf and to <= stack[-1].rank)):
                close(hart, i)
            leaf = (e.get("priv"), e.get("to")) != ("U", "S")
            kind_name = "irq" if e.get("interrupt") else "trap"
            span = Span(ts[i], ts[i], f"{kind_name} {e.get('cause')} {e.get('name', '')}".strip(), "trap",
                        {k: _arg(k, v) for k, v in e.items() if k != "kind"})  # fmt: skip
            stack.append(_Open(i, e["t"], e.get("to", "S"), leaf, span))
        elif kind == "sse.inject":  # the M-mode handler returns straight into the S-mode SSE handler
            hart = e.get("hart", 0)
            while traps.get(hart) and traps[hart][-1].rank > PRIV_RANK["S"]:
                close(hart, i)
            sse[hart] = (i, e)
        elif kind == "sse.complete" and e.get("hart", 0) in sse:
            hart = e.get("hart", 0)
            while traps.get(hart) and traps[hart][-1].rank > PRIV_RANK["S"]:  # the complete call's ecall
                close(hart, i + 1)
            start, begin = sse.pop(hart)
            spans.setdefault(e.get("hart", 0), []).append(
                Span(ts[start], ts[i], f"SSE handler (event {begin.get('event_id', '?'):#x})", "sse",
                     {k: _arg(k, v) for k, v in begin.items() if k != "kind"}))  # fmt: skip
        elif kind == "copy_mc":
            hart = e.get("hart", 0)  # the kernel model copies on its boot hart
            start = _copy_start(events, i)
            stack = traps.get(hart, [])
            while stack and stack[-1].index > start:  # traps taken during the copy ended before it returned
                close(hart, i)
            begin = ts[start] + SPACING_US // 2 if start >= 0 else 0  # between the boundary and the next event
            args = {k: _arg(k, v) for k, v in e.items() if k != "kind"}
            args["estimated_start"] = True
            spans.setdefault(hart, []).append(Span(min(begin, ts[i]), ts[i], "copy_mc_to_kernel", "copy", args))
    for hart, stack in traps.items():
        while stack:
            close(hart, len(events))
    return spans


def _copy_start(events: list[dict], end: int) -> int:
    """Index of the last event before the copy that ends at `end` (-1: the copy started with the stream)."""
    for j in range(end - 1, -1, -1):
        e = events[j]
        if e["kind"] in COPY_BOUNDARY or (e["kind"] == "trap" and e.get("priv") == "U"):
            return j
    return -1


def _nest(spans: list[Span]) -> list[Span]:
    """Cut each span that a later span overlaps without being contained in it, so all spans nest."""
    spans = sorted(spans, key=lambda s: (s.start, -s.end))
    stack: list[Span] = []
    for s in spans:
        while stack and stack[-1].end <= s.start:
            stack.pop()
        while stack and s.end > stack[-1].end:
            stack.pop().end = s.start
        stack.append(s)
    return spans
