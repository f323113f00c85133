"""Sparse RAM with per-line poison: the base every memory backend builds on.

Pages of 4 KiB are allocated on first write (an untouched page reads as zeros), so a 64 GiB region costs
nothing until used. Poison is a set of 64-byte line numbers; with no poison the hot path pays one truth test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..bus import HardwareError
from ..errors import ConfigError

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
LINE_SHIFT = 6
LINE_SIZE = 1 << LINE_SHIFT
_ZERO_PAGE = bytes(PAGE_SIZE)


class PoisonSet(set):
    """Poisoned line numbers. `watchers` learn of every newly poisoned line (the platform drops instructions
    decoded from it, so the next fetch there consumes the poison). Membership and truth tests stay C-speed."""

    def __init__(self) -> None:
        super().__init__()
        self.watchers: list[Callable[[int], None]] = []

    def add(self, line: int) -> None:
        if line not in self:
            super().add(line)
            for watch in self.watchers:
                watch(line)

    def update(self, *lines: Iterable[int]) -> None:
        for group in lines:
            for line in group:
                self.add(line)


class RAM:
    inject_kinds: tuple[str, ...] = ("poison",)

    def __init__(self, size: int, name: str = "ram") -> None:
        if size <= 0 or size % PAGE_SIZE:
            raise ConfigError(f"{name}: size {size:#x} must be a positive multiple of 4 KiB")
        self.size = size
        self.name = name
        self.pages: dict[int, bytearray] = {}
        # per page, views indexed by access size (1, 2, 4, 8) for naturally aligned accesses
        self._views: dict[int, list] = {}
        self.poison = PoisonSet()  # line numbers (offset >> 6)

    # --- hot path ------------------------------------------------------------------------------------------
    def load(self, off: int, size: int) -> int:
        poison = self.poison
        if poison and (off >> LINE_SHIFT in poison or (off + size - 1) >> LINE_SHIFT in poison):
            raise HardwareError
        if not off & (size - 1):  # naturally aligned: inside one page, one typed-view index
            views = self._views.get(off >> PAGE_SHIFT)
            return 0 if views is None else views[size][(off & (PAGE_SIZE - 1)) // size]
        return int.from_bytes(self.read_bytes(off, size), "little")

    def store(self, off: int, size: int, value: int) -> None:
        poison = self.poison
        if poison and (off >> LINE_SHIFT in poison or (off + size - 1) >> LINE_SHIFT in poison):
            raise HardwareError
        if not off & (size - 1):
            views = self._views.get(off >> PAGE_SHIFT) or self._page(off >> PAGE_SHIFT)
            views[size][(off & (PAGE_SIZE - 1)) // size] = value
        else:
            self.write_bytes(off, value.to_bytes(size, "little"))

    def _page(self, number: int) -> list:
        """Allocate a zeroed page on first write; returns its typed views."""
        return self._install(number, bytearray(PAGE_SIZE))

    def _install(self, number: int, page: bytearray) -> list:
        self.pages[number] = page
        raw = memoryview(page)
        views = self._views[number] = [None, raw, raw.cast("H"), None, raw.cast("I"), None, None, None, raw.cast("Q")]
        return views

    # --- host path -----------------------------------------------------------------------------------------
    def _check_range(self, off: int, size: int) -> None:
        if off < 0 or size < 0 or off + size > self.size:
            raise ConfigError(f"{self.name}: range [{off:#x}, +{size:#x}) is outside the {self.size:#x}-byte backend")

    def read_bytes(self, off: int, size: int) -> bytes:
        self._check_range(off, size)
        out = bytearray()
        end = off + size
        while off < end:
            o = off & (PAGE_SIZE - 1)
            n = min(PAGE_SIZE - o, end - off)
            page = self.pages.get(off >> PAGE_SHIFT)
            out += _ZERO_PAGE[:n] if page is None else page[o : o + n]
            off += n
        return bytes(out)

    def write_bytes(self, off: int, data: bytes) -> None:
        self._check_range(off, len(data))
        pos = 0
        while pos < len(data):
            o = off & (PAGE_SIZE - 1)
            n = min(PAGE_SIZE - o, len(data) - pos)
            if off >> PAGE_SHIFT not in self.pages:
                self._page(off >> PAGE_SHIFT)
            self.pages[off >> PAGE_SHIFT][o : o + n] = data[pos : pos + n]
            off += n
            pos += n

    def poisoned_lines(self, off: int, size: int) -> list[int]:
        """Offsets of the poisoned lines that [off, off+size) touches, in address order."""
        if not self.poison or size <= 0:
            return []
        first, last = off >> LINE_SHIFT, (off + size - 1) >> LINE_SHIFT
        if last - first > len(self.poison):
            return sorted(line << LINE_SHIFT for line in self.poison if first <= line <= last)
        return [line << LINE_SHIFT for line in range(first, last + 1) if line in self.poison]

    @property
    def resident_bytes(self) -> int:
        """Bytes of host memory the data pages use (what sparseness saves)."""
        return len(self.pages) * PAGE_SIZE

    # --- checkpoints ---------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Pages in allocation order (an all-zero page as b"": allocated, but nothing to store) and poison."""
        pages = [[n, b"" if page == _ZERO_PAGE else bytes(page)] for n, page in self.pages.items()]
        return {"pages": pages, "poison": sorted(self.poison)}

    def restore(self, state: dict) -> None:
        self.pages.clear()
        self._views.clear()
        for number, data in state["pages"]:
            self._install(number, bytearray(data or PAGE_SIZE))
        self.poison.clear()
        self.poison.update(state["poison"])

    # --- slow path: errors ---------------------------------------------------------------------------------
    def inject(self, kind: str, off: int, **params: object) -> dict:
        if kind != "poison":
            raise ConfigError(f"{self.name}: cannot inject {kind!r} (supports: {', '.join(self.inject_kinds)})")
        if params:
            raise ConfigError(f"{self.name}: inject 'poison' takes no parameters, got {sorted(params)}")
        self._check_range(off, 1)
        line = off >> LINE_SHIFT
        self.poison.add(line)
        return {"line": line << LINE_SHIFT}

    def clear_poison(self, off: int) -> bool:
        """Clear the poison of the line holding `off`; True if it was poisoned."""
        self._check_range(off, 1)
        line = off >> LINE_SHIFT
        was = line in self.poison
        self.poison.discard(line)
        return was

    def consumed(self, off: int, size: int, access: str) -> dict:
        lines = self.poisoned_lines(off, size)
        return {"line": lines[0] if lines else off & ~(LINE_SIZE - 1)}
