"""Rebuild tests/aia/reri_msi.elf (the committed copy lets the tests run without a RISC-V toolchain).

    python tests/aia/build.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE, ELF = HERE / "reri_msi.S", HERE / "reri_msi.elf"
AS, LD = "riscv64-linux-gnu-as", "riscv64-linux-gnu-ld"


def toolchain_available() -> bool:
    return bool(shutil.which(AS) and shutil.which(LD))


def build(out: Path) -> Path:
    """Assemble and link deterministically: relative names, no build id, a fixed object name."""
    with tempfile.TemporaryDirectory() as tmp:
        obj = Path(tmp) / "reri_msi.o"
        subprocess.run([AS, "-march=rv64imac_zicsr", "-mabi=lp64", "-o", str(obj), SOURCE.name], cwd=HERE, check=True)
        subprocess.run([LD, "-T", "../isa/link.ld", "--build-id=none", "-o", str(out), str(obj)], cwd=HERE, check=True)
    return out


if __name__ == "__main__":
    if not toolchain_available():
        sys.exit(f"build.py: {AS}/{LD} not found (Debian package binutils-riscv64-linux-gnu)")
    print(build(ELF))
