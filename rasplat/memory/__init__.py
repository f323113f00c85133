"""Memory backends: the sparse RAM every backend builds on, and (later) DRAM-ECC, CXL.mem and pmem."""

from .base import MemoryBackend
from .ram import RAM

__all__ = ["MemoryBackend", "RAM"]
