"""Checkpoints: a platform's whole state in one msgpack file, and a platform rebuilt from it.

File layout: a header map {"format": "rasplat-checkpoint", "version": 1, "rasplat": <version>, "body": {"length",
"crc32"}}, then the body, one msgpack map. The header is read first, so a file of another format or version is
refused by name before its body is parsed; the CRC catches a flipped bit that would still parse. Integers
outside msgpack's 64-bit range (IMSIC/APLIC bitmaps, 72-bit ECC fault masks) are ExtType 1 (signed,
big-endian). Tuples come back as lists. Never pickle: a checkpoint is data anyone may hand over.

The body holds the platform's *recipe* — the device tree it was built from (flattened, /include/s resolved, with
its original file name so relative paths such as a pmem backing file resolve as before), the constructor options
and the settings — and then plain state per component, keyed by stable names: harts by hart id, memory
backends and devices by device-tree path, event observers by their `checkpoint_key`.

Restore builds a fresh platform from the recipe, boots the kernel model again if it had booted (that re-creates
what is not data: hooks, interrupt handlers, driver objects), then lets every component overwrite its state —
including whatever the build and boot wrote into memory and devices — re-arms the timers from the components'
own deadlines in their original order, and puts back the event list.

Not saved: decoded instructions (derived from memory, decoded again when fetched), event listeners added by
callers (traces, fixtures: they belong to the process), hart hooks other than the kernel model's (a restore
refuses a checkpoint that had them), and the contents of a pmem backing file (the file is the durable image).
"""

from __future__ import annotations

import os
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgpack

from .errors import CheckpointError, RasplatError

if TYPE_CHECKING:
    from .platform import Platform
    from .plugins import Plugins

FORMAT = "rasplat-checkpoint"
VERSION = 1
EXT_BIGINT = 1
SETTINGS = ("timebase_hz", "memory_failure", "memory_failure_recovery", "ce_policy", "ras_delivery", "policy")


# --- encoding ------------------------------------------------------------------------------------------------------
def _default(obj: Any) -> Any:
    if isinstance(obj, int):  # msgpack calls this only for integers it cannot hold
        return msgpack.ExtType(EXT_BIGINT, obj.to_bytes((obj.bit_length() + 8) // 8, "big", signed=True))
    if isinstance(obj, bytearray | memoryview):
        return bytes(obj)
    raise TypeError(f"cannot save a value of type {type(obj).__name__}: {obj!r:.80}")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_BIGINT:
        return int.from_bytes(data, "big", signed=True)
    raise ValueError(f"unknown msgpack extension type {code}")


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True, default=_default)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=_ext_hook)


# --- taking a checkpoint ---------------------------------------------------------------------------------------------
def snapshot(plat: Platform) -> dict:
    """The platform's state as plain data (the body of a checkpoint file)."""
    from .devicetree.fdt import write_dtb
    from .kernel import state as kernel_state

    tree = plat.devicetree
    if tree is None:
        raise CheckpointError("checkpoint: the platform was not built from a device tree, so no recipe rebuilds it")
    added = [r.name for r in plat.bus.regions if r.name not in plat.built_regions]
    if added:
        raise CheckpointError(f"checkpoint: regions mapped after the platform was built cannot be rebuilt: {added}")
    source = tree.source if tree.source.startswith("<") else os.path.abspath(tree.source)
    return {
        "recipe": {
            "dtb": write_dtb(tree.fdt), "source": source, "arch_copy_mc": plat.arch_copy_mc,
            "misaligned": plat.harts[0].misaligned,
            "regions": [[r.name, r.base, r.size, r.kind] for r in plat.bus.regions],
        },
        "settings": {**{name: getattr(plat, name) for name in SETTINGS},
                     "ns_per_instruction": plat.clock.ns_per_instruction},
        "clock": plat.clock.snapshot(),
        "harts": [[hart.hartid, hart.snapshot()] for hart in plat.harts],
        "components": {key: obj.snapshot() for key, obj in _components(plat, warn=True).items()},
        "observers": {key: obs.snapshot() for key, obs in _observers(plat).items()},
        "kernel": None if plat._kernel is None else kernel_state.snapshot(plat._kernel),
        "events": list(plat.events),
    }  # fmt: skip


def save(plat: Platform, path: str | os.PathLike) -> Path:
    """Write plat's checkpoint to path atomically (a partial file never replaces a good one)."""
    from . import __version__

    path = Path(path)
    try:
        body = pack(snapshot(plat))
    except TypeError as e:
        raise CheckpointError(f"checkpoint: {e}") from None
    header = {"format": FORMAT, "version": VERSION, "rasplat": __version__,
              "body": {"length": len(body), "crc32": zlib.crc32(body)}}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:
            f.write(pack(header))
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(f"{path}: cannot write the checkpoint ({e.strerror})") from None
    return path


def _components(plat: Platform, warn: bool = False) -> dict[str, Any]:
    """Stateful region targets and devices by name. An IMSIC file is saved with its hart; views whose state lives
    elsewhere say `checkpoint_stateless`; anything else without `snapshot()` is not saved (and, with `warn`, the
    caller of `Platform.checkpoint` is warned)."""
    seen = {id(f) for h in plat.harts if h.imsic is not None for f in (h.imsic.m, h.imsic.s)}
    found: dict[str, Any] = {}
    candidates = [(r.name, r.target) for r in plat.bus.regions] + list(plat.devices.items())
    for key, obj in candidates:
        if obj is None or id(obj) in seen or getattr(obj, "checkpoint_stateless", False):
            continue
        seen.add(id(obj))
        if hasattr(obj, "snapshot") and hasattr(obj, "restore"):
            found[key] = obj
        elif warn:
            warnings.warn(f"checkpoint: {key} ({type(obj).__name__}) has no snapshot()/restore(): its state is not "
                          "saved", stacklevel=5)  # fmt: skip
    return found


def _observers(plat: Platform) -> dict[str, Any]:
    """Event observers with state (plugins' page-CE accounting ...), by their `checkpoint_key`."""
    found: dict[str, Any] = {}
    for listener in plat.events._listeners:
        key = getattr(listener, "checkpoint_key", None)
        if key is None:
            continue
        if key in found:
            raise CheckpointError(f"checkpoint: two event observers share the checkpoint_key {key!r}")
        found[key] = listener
    return found


# --- restoring -------------------------------------------------------------------------------------------------------
def load(path: str | os.PathLike, *, plugins: Plugins | None = None) -> Platform:
    """The platform a checkpoint file describes (CheckpointError naming the file otherwise)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror})") from None
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, ext_hook=_ext_hook)
    unpacker.feed(data)
    try:
        header = unpacker.unpack()
    except msgpack.OutOfData:
        raise CheckpointError(f"{path}: truncated checkpoint ({len(data)} bytes, the header is incomplete)") from None
    except (msgpack.UnpackException, ValueError) as e:
        raise CheckpointError(f"{path}: not a rasplat checkpoint ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a rasplat checkpoint (no '{FORMAT}' header)")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {header.get('version')!r} (written by rasplat {header.get('rasplat')}) is "
            f"not supported; this rasplat reads version {VERSION}"
        )
    body, meta = data[unpacker.tell() :], header.get("body") or {}
    if len(body) < meta.get("length", 0):
        raise CheckpointError(f"{path}: truncated checkpoint (body has {len(body)} of {meta['length']} bytes)")
    if len(body) != meta.get("length") or zlib.crc32(body) != meta.get("crc32"):
        raise CheckpointError(f"{path}: corrupt checkpoint (the body does not match its length and CRC-32)")
    try:
        state = unpack(body)
    except (msgpack.UnpackException, ValueError) as e:
        raise CheckpointError(f"{path}: corrupt checkpoint ({e})") from None
    try:
        return restore(state, plugins=plugins)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except (KeyError, TypeError, ValueError, IndexError) as e:  # a well-formed file with a body of another shape
        raise CheckpointError(f"{path}: malformed checkpoint body ({type(e).__name__}: {e})") from None


def restore(state: dict, *, plugins: Plugins | None = None) -> Platform:
    """A platform in the state `snapshot()` returned."""
    from .devicetree.fdt import parse_dtb
    from .devicetree.tree import Tree
    from .kernel import state as kernel_state
    from .platform import Platform

    recipe = state["recipe"]
    try:
        tree = Tree(parse_dtb(recipe["dtb"], recipe["source"]), recipe["source"])
        plat = Platform.from_devicetree(tree, arch_copy_mc=recipe["arch_copy_mc"], misaligned=recipe["misaligned"],
                                        plugins=plugins)  # fmt: skip
    except RasplatError as e:
        raise CheckpointError(f"the platform recipe no longer builds: {e}") from None
    regions = [[r.name, r.base, r.size, r.kind] for r in plat.bus.regions]
    if regions != recipe["regions"]:
        raise CheckpointError("the platform recipe builds a different address map than the checkpoint's")
    settings = state["settings"]
    for name in SETTINGS:
        setattr(plat, name, settings[name])
    plat.clock.ns_per_instruction = settings["ns_per_instruction"]

    saved_kernel = state["kernel"]
    if saved_kernel is not None:  # created (firmware loaded) and booted before the memory is restored
        try:
            if saved_kernel["booted"]:
                plat.kernel.boot()
            else:
                plat.kernel  # noqa: B018 - the property creates it
        except RasplatError as e:
            raise CheckpointError(f"the kernel model does not boot again: {e}") from None
        kernel_state.check_boot(plat.kernel, saved_kernel)

    plat.clock.restore(state["clock"])  # drops the timers the build armed; their owners re-arm below
    harts = {hart.hartid: hart for hart in plat.harts}
    for hartid, saved in state["harts"]:
        _apply(f"hart {hartid}", harts[hartid], saved)
        missing = sorted(set(saved["hooks"]) - set(harts[hartid].hooks))
        if missing:
            raise CheckpointError(f"hart {hartid} had hooks at {[hex(a) for a in missing]} that nothing re-creates")
    components = _components(plat)
    for key, saved in state["components"].items():
        if key not in components:
            raise CheckpointError(f"the checkpoint holds state for {key}, which this platform does not have")
        _apply(key, components[key], saved)
    plat.bus.code_pages.clear()  # every hart dropped its decoded code
    if saved_kernel is not None:
        _apply("kernel model", plat.kernel, saved_kernel, kernel_state.restore)
    observers = _observers(plat)
    for key, saved in state["observers"].items():
        if key not in observers:
            raise CheckpointError(f"the checkpoint holds state for event observer {key!r}, which is not loaded")
        _apply(f"observer {key}", observers[key], saved)
    pending = {(tag, when) for _, when, tag in state["clock"]["timers"]}
    for tag, (when, fire) in plat.timed_injections.items():
        if (tag, when) in pending:
            plat.clock.at(when, fire, tag=tag)
    plat.clock.reorder(state["clock"])
    plat.events.restore(state["events"])
    return plat


def _apply(what: str, obj: Any, saved: Any, apply: Callable[[Any, Any], None] | None = None) -> None:
    """obj.restore(saved) (or apply(obj, saved)), a state that does not fit reported as a CheckpointError naming
    the component."""
    try:
        if apply is None:
            obj.restore(saved)
        else:
            apply(obj, saved)
    except CheckpointError:
        raise
    except (RasplatError, KeyError, TypeError, ValueError, IndexError) as e:
        raise CheckpointError(f"{what}: the saved state does not fit ({type(e).__name__}: {e})") from None
