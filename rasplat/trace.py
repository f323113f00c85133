"""Traces: the event streams of one command's platforms as msgpack records behind a versioned header.

A trace file is a msgpack stream (never pickle):

1. the header map: `format` ("rasplat-trace"), `version` (the schema, 2), `rasplat` (the version that wrote
   it), `recipe` (how to run it again, or None), `platforms` (one map per platform: `label`, `source`, harts,
   memory regions, RERI banks with their interrupt routes, the kernel model's ELF symbols), `environment`
   (python, firmware hash, plugins: what a replay on another machine may differ in), `normalised` (which
   fields were rewritten to be machine-independent), `exit` (the command's status and error) and `meta`;
2. one record per event, in the order events were emitted across all platforms: `[platform, event]`, where
   `platform` indexes `header["platforms"]` and `event` is the event dict as the platform emitted it.

Version 1 files (a header with `meta`, then bare event maps of one platform) still read.

`Recorder` records every platform built while it is active, so a command needs only to wrap its work:

    with Recorder(recipe=...) as rec:
        run_things()                      # every Platform built in here is recorded
    rec.write(path)
"""

from __future__ import annotations

import hashlib
import os
import platform as _python
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from .errors import RasplatError

FORMAT = "rasplat-trace"
VERSION = 2
READABLE = (1, 2)
EXT_BIGINT = 1  # msgpack ExtType code: an integer outside [-2**63, 2**64), as signed big-endian bytes

PACKAGE_DIR = Path(__file__).resolve().parent

# Fields whose value depends on where rasplat is installed, not on the run. They are rewritten when a trace is
# recorded (and when replay compares), so the same run gives the same bytes on every machine.
NORMALISED: dict[str, tuple[str, ...]] = {"elf.load": ("path",)}


# --- encoding ----------------------------------------------------------------------------------------------------
def normalise_path(value: object) -> object:
    """A file inside the rasplat package as `<rasplat>/firmware/firmware.elf`, any other file by its name."""
    if not isinstance(value, str) or value.startswith("<"):
        return value
    path = Path(os.path.realpath(value))
    if path.is_relative_to(PACKAGE_DIR):
        return "<rasplat>/" + path.relative_to(PACKAGE_DIR).as_posix()
    return path.name


def normalise(event: dict) -> dict:
    """The event as a trace records it (see NORMALISED)."""
    fields = NORMALISED.get(event.get("kind"))  # type: ignore[arg-type]
    if not fields:
        return event
    return {k: normalise_path(v) if k in fields else v for k, v in event.items()}


def _default(obj: object) -> object:
    if isinstance(obj, int):  # msgpack hands over only the integers it cannot hold
        return msgpack.ExtType(EXT_BIGINT, obj.to_bytes((obj.bit_length() + 8) // 8, "big", signed=True))
    if isinstance(obj, set | frozenset):
        return sorted(obj)  # a set's iteration order is not reproducible across processes
    raise TypeError(f"cannot record a value of type {type(obj).__name__}")


def pack(obj: object) -> bytes:
    return msgpack.packb(obj, use_bin_type=True, default=_default)


def _ext_hook(code: int, data: bytes) -> object:
    if code == EXT_BIGINT:
        return int.from_bytes(data, "big", signed=True)
    return msgpack.ExtType(code, data)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=_ext_hook)


def canonical(event: dict) -> bytes:
    """The bytes a trace stores for this event: what replay compares."""
    try:
        return pack(normalise(event))
    except TypeError as e:
        raise RasplatError(f"event {event.get('kind')!r}: {e}") from None


# --- the trace -----------------------------------------------------------------------------------------------------
@dataclass
class Trace:
    header: dict
    records: list[tuple[int, dict]] = field(default_factory=list)
    path: Path | None = None

    @property
    def platforms(self) -> list[dict]:
        return self.header.get("platforms", [{"label": "platform 0"}])  # version 1: one unnamed platform

    @property
    def recipe(self) -> dict | None:
        return self.header.get("recipe")

    def label(self, platform: int) -> str:
        platforms = self.platforms
        return platforms[platform].get("label", f"platform {platform}") if platform < len(platforms) else "?"

    def events(self, platform: int | None = None) -> list[dict]:
        """Every event in recorded order, or those of one platform."""
        return [e for p, e in self.records if platform is None or p == platform]

    def __len__(self) -> int:
        return len(self.records)


def write(path: str | os.PathLike, header: dict, records: Iterable[tuple[int, dict]]) -> Path:
    """Write a trace atomically (a partial file never replaces a good one). This writer sets the header's
    format, version and rasplat fields."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    own = {"format": FORMAT, "version": VERSION, "rasplat": _rasplat_version()}  # what this writer writes
    head = {**own, **{k: v for k, v in header.items() if k not in own}}
    try:
        with open(tmp, "wb") as f:
            f.write(pack(head))
            for platform, event in records:
                f.write(b"\x92" + pack(platform) + canonical(event))  # a 2-element array: [platform, event]
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RasplatError(f"{path}: cannot write ({e.strerror})") from None
    return path


def write_trace(path: str | os.PathLike, events: Iterable[dict], meta: dict | None = None) -> Path:
    """Write the events of one platform (no recipe: such a trace can be shown and exported, not replayed)."""
    return write(path, {"recipe": None, "platforms": [{"label": "platform 0"}], "meta": meta or {}},
                 ((0, e) for e in events))  # fmt: skip


def load(path: str | os.PathLike) -> Trace:
    """The trace in a file; RasplatError naming the file if it is not one, or is cut short or corrupt."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            records: Iterator = msgpack.Unpacker(f, raw=False, strict_map_key=False, ext_hook=_ext_hook)
            header = next(records, None)
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise RasplatError(f"{path}: not a rasplat trace (no '{FORMAT}' header)")
            version = header.get("version")
            if version not in READABLE:
                raise RasplatError(f"{path}: trace version {version} is not supported (this rasplat reads "
                                   f"{', '.join(map(str, READABLE))})")  # fmt: skip
            trace = Trace(header, path=path)
            for i, record in enumerate(records):
                trace.records.append(_record(record, version, path, i))
            if records.tell() != path.stat().st_size:
                raise RasplatError(f"{path}: corrupt trace (truncated after {len(trace.records)} events)")
    except OSError as e:
        raise RasplatError(f"{path}: cannot read ({e.strerror})") from None
    except (msgpack.UnpackException, ValueError, TypeError) as e:
        raise RasplatError(f"{path}: corrupt trace ({e})") from None
    return trace


def _record(record: object, version: int, path: Path, i: int) -> tuple[int, dict]:
    if version == 1 and isinstance(record, dict):
        return 0, record
    if (isinstance(record, list) and len(record) == 2 and isinstance(record[0], int)
            and isinstance(record[1], dict) and "kind" in record[1]):  # fmt: skip
        return record[0], record[1]
    raise RasplatError(f"{path}: corrupt trace (record {i} is not [platform, event])")


def read_trace(path: str | os.PathLike) -> tuple[dict, list[dict]]:
    """(header, events of every platform in recorded order): the simple view of `load(path)`."""
    trace = load(path)
    return trace.header, trace.events()


# --- recording ------------------------------------------------------------------------------------------------------
_active: list[Recorder] = []


def platform_created(plat: Any) -> None:
    """Called by every new Platform (before it emits anything): active recorders start recording it."""
    for recorder in _active:
        recorder.add(plat)


def label(plat: Any, text: str) -> None:
    """Name a platform in the traces being recorded (e.g. the demo's "without the copy_mc patch")."""
    for recorder in _active:
        recorder.label(plat, text)


class Recorder:
    """Records the events of every platform built while it is active (a context manager), in emission order.

    Platforms built elsewhere can be added with `add(plat)`; their events so far are taken first. The trace
    holds each platform's description as it is when `trace()`/`write()` is called."""

    def __init__(self, recipe: dict | None = None, meta: dict | None = None) -> None:
        self.recipe = recipe
        self.meta = meta or {}
        self.records: list[tuple[int, dict]] = []
        self._platforms: list[Any] = []
        self._labels: dict[int, str] = {}

    def __enter__(self) -> Recorder:
        _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _active.remove(self)

    def add(self, plat: Any, label: str | None = None) -> int:
        """Record this platform; returns its index in the trace."""
        for i, known in enumerate(self._platforms):
            if known is plat:
                return i
        index = len(self._platforms)
        self._platforms.append(plat)
        self.records.extend((index, e) for e in plat.events)
        plat.events.subscribe(lambda event: self.records.append((index, event)))
        if label is not None:
            self._labels[index] = label
        return index

    def label(self, plat: Any, text: str) -> None:
        self._labels[self.add(plat)] = text

    @property
    def platforms(self) -> list[Any]:
        return list(self._platforms)

    def trace(self, **header: Any) -> Trace:
        """The recording so far as a Trace; `header` adds or overrides header fields (e.g. `exit`)."""
        head = {
            "recipe": self.recipe,
            "platforms": [describe_platform(p, self._labels.get(i)) for i, p in enumerate(self._platforms)],
            "environment": environment(),
            "normalised": {kind: list(fields) for kind, fields in NORMALISED.items()},
            "meta": self.meta,
            **header,
        }
        return Trace(head, [(p, normalise(e)) for p, e in self.records])

    def write(self, path: str | os.PathLike, **header: Any) -> Path:
        trace = self.trace(**header)
        return write(path, trace.header, trace.records)


def describe_platform(plat: Any, label: str | None = None) -> dict:
    """What exporters and `trace show` need to know about a platform besides its events."""
    source = plat.description.get("source")
    name = normalise_path(source) if source and source != "<bytes>" else "<bytes>" if source else "-"
    base = name.rsplit("/", 1)[-1]
    regions = plat.bus.regions
    banks = [d for d in plat.devices.values() if hasattr(d, "routes") and hasattr(d, "n_records")]
    kernel = vars(plat).get("_kernel")  # the kernel model, if the run created one (plat.kernel would create it)
    images = []
    for image in getattr(kernel, "images", []):
        symbols = sorted((start, sym) for sym, start in image.symbols.items())
        table = [[sym, start, image.sizes.get(sym, 0), sym in image.weak] for start, sym in symbols]
        images.append({"name": normalise_path(image.path), "symbols": table})
    return {
        "label": label or (base if getattr(plat, "arch_copy_mc", True) else f"{base}, generic copy_mc"),
        "source": name,
        "harts": [h.hartid for h in plat.harts],
        "memory": [_region(r) for r in regions if r.kind == "memory"],
        "mmio": [_region(r) for r in regions if r.kind != "memory"],
        "reri": [{"name": b.name, "records": b.n_records, "routes": _routes(b)} for b in banks],
        "images": images,
    }


def _routes(bank: Any) -> dict[str, list]:
    """Where each RAS signal of a RERI bank goes: ["local", 43] or ["aplic", source]."""
    return {signal: list(route) for signal, route in sorted(bank.routes.items())}


def _region(r: Any) -> dict:
    return {"name": r.name, "base": r.base, "size": r.size, "model": type(r.target).__name__}


def environment() -> dict:
    """What a replay elsewhere may differ in: Python, the firmware the kernel model runs, the plugins."""
    from importlib import resources

    from .plugins import Plugins

    firmware = resources.files("rasplat.firmware") / "firmware.elf"
    try:
        digest = hashlib.sha256(firmware.read_bytes()).hexdigest()
    except OSError:
        digest = None
    plugins = sorted(f"{p.name} ({p.dist})" for p in Plugins().info)
    return {"python": _python.python_version(), "firmware_sha256": digest, "plugins": plugins}


def _rasplat_version() -> str:
    from . import __version__

    return __version__
