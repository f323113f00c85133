"""RISC-V Advanced Interrupt Architecture: the IMSIC (MSI receiver per hart) and the APLIC (wired sources)."""

from .aplic import AplicDomain, msi_address
from .imsic import IllegalIndirect, Imsic, ImsicFile

__all__ = ["AplicDomain", "IllegalIndirect", "Imsic", "ImsicFile", "msi_address"]
