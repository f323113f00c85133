"""Traces: the event stream as msgpack records behind a versioned schema header.

A trace file is a msgpack stream: first the header map {"format": "rasplat-trace", "version": 1, "meta": {...}},
then one map per event, in order. Integers are kept as integers (addresses up to 2**64 - 1); never pickle.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import msgpack

from .errors import RasplatError

FORMAT = "rasplat-trace"
VERSION = 1


def write_trace(path: str | os.PathLike, events: Iterable[dict], meta: dict | None = None) -> Path:
    """Write events to path atomically (a partial file never replaces a good one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    packer = msgpack.Packer(use_bin_type=True)
    with open(tmp, "wb") as f:
        f.write(packer.pack({"format": FORMAT, "version": VERSION, "meta": meta or {}}))
        for event in events:
            f.write(packer.pack(event))
    os.replace(tmp, path)
    return path


def read_trace(path: str | os.PathLike) -> tuple[dict, list[dict]]:
    """(header, events) of a trace file; RasplatError naming the file if it is not one."""
    return _read(Path(path))


def _read(path: Path) -> tuple[dict, list[dict]]:
    try:
        with open(path, "rb") as f:
            records: Iterator = msgpack.Unpacker(f, raw=False, strict_map_key=False)
            header = next(records, None)
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise RasplatError(f"{path}: not a rasplat trace (no '{FORMAT}' header)")
            if header.get("version") != VERSION:
                raise RasplatError(f"{path}: trace version {header.get('version')} is not supported ({VERSION})")
            return header, list(records)
    except OSError as e:
        raise RasplatError(f"{path}: cannot read ({e.strerror})") from None
    except (msgpack.UnpackException, ValueError) as e:
        raise RasplatError(f"{path}: corrupt trace ({e})") from None
