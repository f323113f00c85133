"""Events as one line of text each, without a platform: what `rasplat trace show`, `rasplat run` and the demo
print. Code addresses are symbolized with a `symbolize(addr)` callable: the live kernel model's, or `Symbols`
built from the ELF symbol tables a trace header keeps."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from typing import Any

Symbolize = Callable[[int], "str | None"]

# Fields printed in hex by the generic formatter: addresses, frame numbers, register values.
HEX_FIELDS = frozenset({
    "addr", "address", "vaddr", "va", "pc", "epc", "tval", "fixup", "vector", "entry", "src", "dst", "line", "phys",
    "pfn", "src_pfn", "hpa", "dpa", "hpa_base", "dpa_start", "dpa_size", "addr_info", "status", "base", "resume_pc",
    "medeleg", "mideleg", "syndrome",
})  # fmt: skip


class Symbols:
    """'name+0xoff' lookups over the `images` of a trace header's platform (see trace.describe_platform),
    with the rule `Image.symbol_at` uses: the innermost symbol holding the address, strong over weak."""

    def __init__(self, images: list[dict]) -> None:
        self._entries = sorted(
            (start, max(size, 1), not weak, name)
            for image in images for name, start, size, weak in image.get("symbols", [])
        )  # fmt: skip
        self._starts = [e[0] for e in self._entries]

    def __call__(self, addr: int) -> str | None:
        best = None
        for start, size, strong, name in self._entries[: bisect.bisect_right(self._starts, addr)]:
            if addr < start + size and (best is None or (start, strong) > best[:2]):
                best = (start, strong, name)
        return None if best is None else f"{best[2]}+{addr - best[0]:#x}"


def value(key: str, v: object) -> str:
    if isinstance(v, int) and not isinstance(v, bool) and key in HEX_FIELDS:
        return f"{v:#x}"
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def fields(e: dict, skip: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{k}={value(k, v)}" for k, v in e.items() if k not in ("t", "kind", *skip))


def describe(e: dict, symbolize: Symbolize | None = None) -> str:
    """One line for an event. Never raises: an event of unknown shape prints as its fields."""
    formatter = _FORMATTERS.get(e.get("kind", ""))
    if formatter is not None:
        try:
            return formatter(e, _symbolizer(symbolize))
        except (KeyError, TypeError, ValueError):
            pass  # a trace from another rasplat version may shape an event differently
    return fields(e)


def _symbolizer(symbolize: Symbolize | None) -> Callable[[int], str]:
    def sym(addr: int) -> str:
        return (symbolize(addr) if symbolize is not None else None) or f"{addr:#x}"

    return sym


def _inject(e: dict, sym: Callable[[int], str]) -> str:
    return f"{e['error']} injected: line {e['line']:#x} ({e['region']})"


def _consume(e: dict, sym: Callable[[int], str]) -> str:
    return f"hart{e['hart']} {e['access']} of {e['size']} bytes at {e['addr']:#x} consumes poison ({sym(e['pc'])})"


def _trap(e: dict, sym: Callable[[int], str]) -> str:
    return f"trap cause {e['cause']} ({e['name']}) {e['priv']}->{e['to']}: epc={sym(e['epc'])} tval={e['tval']:#x}"


def _fixup(e: dict, sym: Callable[[int], str]) -> str:
    return f"fixup_exception: {e['type']} entry, sepc {sym(e['epc'])} -> {sym(e['fixup'])}"


def _panic(e: dict, sym: Callable[[int], str]) -> str:
    return f"die(): {e['message']}" + (f" at {e['symbol']}" if e.get("symbol") else "")


def _copy_mc(e: dict, sym: Callable[[int], str]) -> str:
    return f"copy_mc_to_kernel(dst={e['dst']:#x}, src={e['src']:#x}, n={e['n']}) = {e['ret']}"


def _reri_log(e: dict, sym: Callable[[int], str]) -> str:
    signals = ", ".join(e["signals"]) or "none"
    return (f"RERI {e['bank']} record {e['record']}: {e['severity']} ec={e['ec']} addr={e['addr_info']:#x} "
            f"({e['outcome']}; signal {signals})")  # fmt: skip


def _irq(e: dict, sym: Callable[[int], str]) -> str:
    identity = f", identity {e['identity']}" if "identity" in e else ""
    return f"{e['level']}-mode takes interrupt {e['cause']}{identity}"


def _reri_event(e: dict, sym: Callable[[int], str]) -> str:
    return f"RAS handler logs reri_event: {e['severity']} ec={e['ec']} at {e['addr_info']:#x} ({e['reader']})"


def _policy(e: dict, sym: Callable[[int], str]) -> str:
    if "selected" not in e:  # the CE page policy (rasdaemon's page-ce-action)
        return f"CE page policy: pfn {e['pfn']:#x} {e['action']}: {e['state']}"
    what = {"propagate": "hand the error back to the caller", "retry": f"retry from {e.get('src', 0):#x}",
            "isolate": "take the page offline", "panic": "panic"}.get(e["action"], e["action"])  # fmt: skip
    warning = f" (warning: {e['warning']})" if "warning" in e else ""
    return f"recovery policy {e['selected']!r} for {e['caller']}: {what}{warning}"


def _mf_queue(e: dict, sym: Callable[[int], str]) -> str:
    what = e["reason"] if not e["queued"] else "queued for memory_failure()"
    return f"memory_failure_queue(pfn={e['pfn']:#x}, {e.get('flags', 0)}): {what}"


def _signal(e: dict, sym: Callable[[int], str]) -> str:
    addr = f"{e['addr']:#x}" if e["addr"] is not None else "-"
    return f"pid {e['pid']} ({e['comm']}) gets signal {e['signo']} code {e['code']} addr {addr}: {e['reason']}"


def _mf_result(e: dict, sym: Callable[[int], str]) -> str:
    return f"memory_failure(pfn {e['pfn']:#x}): {e['page_type']}: {e['action_result']}"


def _ecc(e: dict, sym: Callable[[int], str]) -> str:
    loc = e.get("location") or {}
    where = f" {loc['dimm_label']} bank {loc['bank']} row {loc['row']} col {loc['col']}" if loc else ""
    return (f"{e['type']} ECC error ({e['severity']}) at {e['address']:#x}{where}, syndrome {e['syndrome']:#x}, "
            f"{e['access']}")  # fmt: skip


def _aplic_pending(e: dict, sym: Callable[[int], str]) -> str:
    return f"APLIC {e['domain']} source {e['source']} pending ({e['cause']})"


def _aplic_msi(e: dict, sym: Callable[[int], str]) -> str:
    return f"APLIC {e['domain']} source {e['source']} -> MSI to hart{e['hart']} {e['level']}-file identity {e['eiid']}"


def _imsic(e: dict, sym: Callable[[int], str]) -> str:
    return f"IMSIC hart{e['hart']} {e['level']}-file: identity {e['identity']} pending"


def _task(e: dict, sym: Callable[[int], str]) -> str:
    kind = e["kind"]
    if kind == "task.spawn":
        return f"pid {e['pid']} ({e['comm']}) starts at {e['entry']}"
    if kind == "task.fork":
        return f"pid {e['parent']} forks pid {e['pid']}"
    return f"pid {e['pid']} exits with code {e['code']}"


def _page_fault(e: dict, sym: Callable[[int], str]) -> str:
    return f"pid {e['pid']} page fault at {e['addr']:#x} (cause {e['cause']}): {e['fault']}"


def _cxl_record(e: dict, sym: Callable[[int], str]) -> str:
    what = e.get("trace_type") or e.get("log_type")
    source = f" source {e['source']}" if "source" in e else ""
    return f"{e['kind']} {e['memdev']} ({what}): dpa {e['dpa']:#x} hpa {e['hpa']:#x}{source}"


_FORMATTERS: dict[str, Callable[[dict, Callable[[int], str]], str]] = {
    "inject": _inject, "poison.consume": _consume, "trap": _trap, "fixup": _fixup, "panic": _panic,
    "copy_mc": _copy_mc, "reri.log": _reri_log, "irq": _irq, "reri_event": _reri_event, "policy": _policy,
    "mf.queue": _mf_queue, "signal": _signal, "mf.result": _mf_result, "ecc.ce": _ecc, "ecc.ue": _ecc,
    "aplic.pending": _aplic_pending, "aplic.msi": _aplic_msi, "imsic.pending": _imsic, "task.spawn": _task,
    "task.fork": _task, "task.exit": _task, "page_fault": _page_fault, "cxl_poison": _cxl_record,
    "cxl_general_media": _cxl_record, "cxl_dram": _cxl_record,
}  # fmt: skip


def line(e: dict, symbolize: Symbolize | None = None, indent: str = "  ") -> str:
    return f"{indent}t={e.get('t', 0):>8}  {e.get('kind', '?'):<15} {describe(e, symbolize)}"


def trace_lines(trace: Any, kinds: list[str] | None = None, platform: int | None = None) -> Iterator[str]:
    """`rasplat trace show`: a summary of the header, then each platform's events, one line each.
    `kinds` are shell-style patterns ("cxl*", "trap")."""
    header = trace.header
    yield (f"{trace.path}: {len(trace)} events from {len(trace.platforms)} platform(s); "
           f"rasplat {header.get('rasplat', '?')}, trace schema {header.get('version')}")  # fmt: skip
    recipe = trace.recipe
    yield "recipe: " + ("rasplat " + " ".join(recipe.get("argv", [])) if recipe else "none (cannot be replayed)")
    status = (header.get("exit") or {}).get("status")
    if status is not None:
        error = header["exit"].get("error")
        yield f"exit status: {status}" + (f" ({error})" if error else "")
    for index, desc in enumerate(trace.platforms):
        if platform is not None and index != platform:
            continue
        events = [e for e in trace.events(index) if not kinds or any(fnmatchcase(e["kind"], k) for k in kinds)]
        yield ""
        yield f"platform {index}: {desc.get('label', '?')} ({len(events)} event{'' if len(events) == 1 else 's'})"
        symbolize = Symbols(desc.get("images", []))
        for e in events:
            yield line(e, symbolize)
