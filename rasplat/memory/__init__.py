"""Memory backends: the sparse RAM every backend builds on, and (later) DRAM-ECC, CXL.mem and pmem."""

from .base import MemoryBackend
from .dram_ecc import DramEcc, DramGeometry
from .pmem import Pmem
from .ram import RAM

__all__ = ["DramEcc", "DramGeometry", "MemoryBackend", "Pmem", "RAM"]
