"""The system bus: an address map of regions (memory backends and MMIO devices).

Two kinds of access share one map:
- the hart's hot path, `load(addr, size) -> int` / `store(addr, size, value)`, which signals problems by
  raising the lightweight `AccessFault` / `HardwareError` exceptions that the hart turns into traps;
- the host (Python API) path, `read(addr, size) -> bytes` / `write(addr, data)` / `peek`, which raises
  rasplat's own `BusError` / `PoisonedRead` with the address in the message.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Protocol

from .errors import BusError, ConfigError, PoisonedRead


class AccessFault(Exception):
    """Hot-path signal: nothing answers at this address, or the device refused the access."""


class HardwareError(Exception):
    """Hot-path signal: the access consumed poisoned (uncorrectable) data."""


class Target(Protocol):
    """What a region maps: a memory backend or an MMIO device. Offsets are relative to the region base."""

    def load(self, off: int, size: int) -> int: ...
    def store(self, off: int, size: int, value: int) -> None: ...


class Region:
    """A window of the address map. `load`/`store` are the target's bound methods (one lookup less)."""

    __slots__ = ("name", "base", "size", "end", "target", "kind", "load", "store")

    def __init__(self, name: str, base: int, size: int, target: Target, kind: str = "memory") -> None:
        self.name, self.base, self.size, self.end = name, base, size, base + size
        self.target, self.kind = target, kind  # kind: "memory" (cacheable, executable) or "mmio"
        self.load, self.store = target.load, target.store

    def __repr__(self) -> str:
        return f"<Region {self.name} [{self.base:#x}, {self.end:#x}) {self.kind}>"


class _Nothing:
    def load(self, off: int, size: int) -> int:
        raise AccessFault

    def store(self, off: int, size: int, value: int) -> None:
        raise AccessFault


_NO_REGION = Region("<none>", 0, 0, _Nothing())


class Bus:
    def __init__(self) -> None:
        self.regions: list[Region] = []
        self._bases: list[int] = []
        self._last = _NO_REGION
        # Physical pages instructions were decoded from; a store into one invalidates decoded code.
        self.code_pages: set[int] = set()
        self._code_listeners: list[Callable[[int, int], None]] = []
        self.on_map: list[Callable[[Region], None]] = []  # told of every region mapped

    # --- address map ---------------------------------------------------------------------------------
    def map(self, name: str, base: int, size: int, target: Target, kind: str = "memory") -> Region:
        if size <= 0:
            raise ConfigError(f"bus: region {name!r} has size {size}, must be positive")
        if base < 0 or base + size > 1 << 64:
            raise ConfigError(f"bus: region {name!r} [{base:#x}, +{size:#x}) lies outside the 64-bit space")
        for r in self.regions:
            if base < r.end and r.base < base + size:
                raise ConfigError(
                    f"bus: region {name!r} [{base:#x}, {base + size:#x}) overlaps {r.name!r} "
                    f"[{r.base:#x}, {r.end:#x})"
                )
        region = Region(name, base, size, target, kind)
        i = bisect.bisect(self._bases, base)
        self.regions.insert(i, region)
        self._bases.insert(i, base)
        for listener in self.on_map:
            listener(region)
        return region

    def find(self, addr: int, size: int = 1) -> Region | None:
        """The region that holds all of [addr, addr+size), or None."""
        i = bisect.bisect(self._bases, addr) - 1
        if i < 0:
            return None
        r = self.regions[i]
        return r if addr + size <= r.end else None

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise ConfigError(f"bus: no region named {name!r} (have: {', '.join(r.name for r in self.regions)})")

    # --- hot path (the hart) ---------------------------------------------------------------------------
    def load(self, addr: int, size: int) -> int:
        r = self._last
        off = addr - r.base
        if 0 <= off <= r.size - size:
            return r.load(off, size)
        r = self._route(addr, size)
        return r.load(addr - r.base, size)

    def store(self, addr: int, size: int, value: int) -> None:
        r = self._last
        off = addr - r.base
        if not 0 <= off <= r.size - size:
            r = self._route(addr, size)
            off = addr - r.base
        r.store(off, size, value)
        if addr >> 12 in self.code_pages:
            self.code_written(addr, size)

    def _route(self, addr: int, size: int) -> Region:
        r = self.find(addr, size)
        if r is None:
            raise AccessFault
        if r.kind == "memory":
            self._last = r
        return r

    def fetch_region(self, addr: int) -> Region | None:
        """Instruction fetch is allowed from memory regions only (MMIO is not executable)."""
        r = self.find(addr, 2)
        return r if r is not None and r.kind == "memory" else None

    # --- decoded-code coherence --------------------------------------------------------------------------
    def watch_code(self, listener: Callable[[int, int], None]) -> None:
        """`listener(addr, size)` runs when something writes into a page code was decoded from."""
        self._code_listeners.append(listener)

    def code_written(self, addr: int, size: int) -> None:
        for listener in self._code_listeners:
            listener(addr, size)

    # --- host path (Python API) -------------------------------------------------------------------------
    def read(self, addr: int, size: int) -> bytes:
        """Read bytes as a debugger or DMA engine would; poisoned lines raise PoisonedRead."""
        return self._host_read(addr, size, check_poison=True)

    def peek(self, addr: int, size: int) -> bytes:
        """Read the stored bytes, ignoring poison (what the cells hold, not what a consumer would get)."""
        return self._host_read(addr, size, check_poison=False)

    def write(self, addr: int, data: bytes) -> None:
        data = bytes(data)
        r = self._host_region(addr, len(data), "write")
        if r.kind == "memory":
            r.target.write_bytes(addr - r.base, data)  # type: ignore[attr-defined]
        else:
            self._mmio_host_access(r, addr, len(data), data)
        if any(p in self.code_pages for p in range(addr >> 12, ((addr + max(len(data), 1) - 1) >> 12) + 1)):
            self.code_written(addr, len(data))

    def _host_region(self, addr: int, size: int, what: str) -> Region:
        r = self.find(addr, max(size, 1))
        if r is None:
            raise BusError(addr, size, f"{what} of {size} bytes is not inside one mapped region")
        return r

    def _host_read(self, addr: int, size: int, check_poison: bool) -> bytes:
        r = self._host_region(addr, size, "read")
        if r.kind != "memory":
            return self._mmio_host_access(r, addr, size, None)
        if check_poison:
            bad = r.target.poisoned_lines(addr - r.base, size)  # type: ignore[attr-defined]
            if bad:
                raise PoisonedRead(r.base + bad[0], size, f"read of {size} bytes from {addr:#x} touches poison")
        return r.target.read_bytes(addr - r.base, size)  # type: ignore[attr-defined]

    @staticmethod
    def _mmio_host_access(r: Region, addr: int, size: int, data: bytes | None) -> bytes:
        if size not in (1, 2, 4, 8) or addr % size:
            raise BusError(addr, size, f"MMIO region {r.name!r} takes aligned 1/2/4/8-byte accesses only")
        try:
            if data is None:
                return r.target.load(addr - r.base, size).to_bytes(size, "little")
            r.target.store(addr - r.base, size, int.from_bytes(data, "little"))
            return b""
        except AccessFault:
            raise BusError(addr, size, f"device {r.name!r} refused the access") from None
