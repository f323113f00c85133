"""rasplat's exception types. Library code raises these; the CLI turns them into one-line messages."""

from __future__ import annotations


class RasplatError(Exception):
    """Base of every error rasplat raises on bad input or a failed run."""


class ConfigError(RasplatError):
    """A platform, device or option was configured wrongly."""


class ElfError(RasplatError):
    """An ELF file cannot be loaded (wrong machine/class/endianness, truncated, bad section)."""


class BusError(RasplatError):
    """A host-side (Python API) bus access hit an unmapped address or a device refused it."""

    def __init__(self, addr: int, size: int, why: str) -> None:
        super().__init__(f"bus: {why} at {addr:#x} (size {size})")
        self.addr = addr
        self.size = size


class PoisonedRead(BusError):
    """A host-side read through the bus touched a poisoned line (use peek() to see the raw data)."""


class RunError(RasplatError):
    """A run did not finish as asked (for example a call that never returned within its step budget)."""


class CheckpointError(RasplatError):
    """A checkpoint cannot be written (state nothing could restore) or restored (corrupt, truncated, another
    format or version, or a recipe that no longer builds). The message names the file."""


class KernelPanic(RasplatError):
    """The modeled kernel died (die()/BUG()/panic()). `oops` holds the panic event."""

    def __init__(self, message: str, oops: dict) -> None:
        super().__init__(message)
        self.oops = oops


class DeviceTreeError(ConfigError):
    """A device tree (DTS or DTB) is malformed or describes an impossible platform. The message names the
    file, the node path and the property."""


class PluginError(ConfigError):
    """A plugin failed to load or misbehaved; the message names the plugin and its distribution."""
