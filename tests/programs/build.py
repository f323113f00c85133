"""Rebuild the test programs in this folder (committed, so the tests run without a RISC-V toolchain).

    python tests/programs/build.py

Each NAME.S becomes NAME.elf, linked with ../isa/link.ld (code at 0x88000000), deterministically.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS, LD = "riscv64-linux-gnu-as", "riscv64-linux-gnu-ld"
PROGRAMS = ("reri_msi", "cxl_inject")


def toolchain_available() -> bool:
    return bool(shutil.which(AS) and shutil.which(LD))


def build(name: str, out: Path) -> Path:
    """Assemble and link one program: relative names, no build id, a fixed object name."""
    with tempfile.TemporaryDirectory() as tmp:
        obj = Path(tmp) / f"{name}.o"
        subprocess.run([AS, "-march=rv64imac_zicsr", "-mabi=lp64", "-o", str(obj), f"{name}.S"], cwd=HERE, check=True)
        subprocess.run([LD, "-T", "../isa/link.ld", "--build-id=none", "-o", str(out), str(obj)], cwd=HERE, check=True)
    return out


if __name__ == "__main__":
    if not toolchain_available():
        sys.exit(f"build.py: {AS}/{LD} not found (Debian package binutils-riscv64-linux-gnu)")
    for program in PROGRAMS:
        print(build(program, HERE / f"{program}.elf"))
