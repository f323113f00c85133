"""What the bus and the platform expect of a memory backend."""

from __future__ import annotations

from typing import Protocol


class MemoryBackend(Protocol):
    """A memory backend holds data and errors. Offsets are relative to its region's base.

    Hot path (called by harts through the bus): `load`, `store`; they raise `bus.HardwareError` when the
    access consumes poison. Host path: `read_bytes`, `write_bytes` (ignore poison), `poisoned_lines`.
    Slow path: `inject(kind, off, **params)` returns the fields of the `inject` event;
    `consumed(off, size, access)` is told when a hart consumed poison and returns extra event fields.
    """

    size: int
    inject_kinds: tuple[str, ...]

    def load(self, off: int, size: int) -> int: ...
    def store(self, off: int, size: int, value: int) -> None: ...
    def read_bytes(self, off: int, size: int) -> bytes: ...
    def write_bytes(self, off: int, data: bytes) -> None: ...
    def poisoned_lines(self, off: int, size: int) -> list[int]: ...
    def inject(self, kind: str, off: int, **params: object) -> dict: ...
    def clear_poison(self, off: int) -> bool: ...
    def consumed(self, off: int, size: int, access: str) -> dict: ...
