"""rasplat: a Python model of a RISC-V platform for RAS work.

Poisoned memory, a precise hardware-error trap on a real RV64 hart running real firmware, and a kernel
model that survives through the exception table — or panics, as Linux would.
"""

from .errors import (
    BusError,
    CheckpointError,
    ConfigError,
    DeviceTreeError,
    ElfError,
    KernelPanic,
    PluginError,
    PoisonedRead,
    RasplatError,
    RunError,
)  # fmt: skip
from .platform import Platform

__version__ = "0.1.0"
__all__ = [
    "BusError", "CheckpointError", "ConfigError", "DeviceTreeError", "ElfError", "KernelPanic", "Platform",
    "PluginError", "PoisonedRead", "RasplatError", "RunError", "__version__",
]  # fmt: skip
