"""Build the rasplat firmware image (``firmware.elf``) from the .S units in this directory.

Usage: ``python -m rasplat.firmware.build [--out PATH]``.  Needs GNU binutils for riscv64
(``riscv64-linux-gnu-as`` / ``-ld``).  The output is deterministic: the assembler runs with
cwd = this directory on relative file names (so no checkout path leaks into the ELF), without
debug info, and the link uses ``--build-id=none``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = FIRMWARE_DIR / "firmware.elf"
USER_OUT = FIRMWARE_DIR / "user.elf"  # the user programs of the kernel model's tasks (linked at 0x10000)
PREFIX = "riscv64-linux-gnu-"
# Each unit is its own assembly: the template's .L labels allow only one .include per unit.
# New units go at the end, so the addresses of the older functions do not move.
UNITS = ("memcpy.S", "memcpy_mc.S", "memcpy_open.S", "hooks.S", "memcpy_mc_exact.S", "uaccess.S")
LINKER_SCRIPT = "firmware.ld"
# -mno-relax: nothing here benefits from linker relaxation, and without it the linked code is
# exactly what the assembler emitted (what the byte-for-byte memcpy comparison relies on).
AS_FLAGS = ("-march=rv64imac", "-mabi=lp64", "-mno-relax")
LD_FLAGS = ("-static", "-nostdlib", "--build-id=none")


class BuildError(Exception):
    """The toolchain is missing or failed; the message is one line fit for the user."""


def _tool(name: str) -> str | None:
    return shutil.which(PREFIX + name)


def toolchain_available() -> bool:
    return _tool("as") is not None and _tool("ld") is not None


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().replace("\n", " | ")
        raise BuildError(f"{Path(cmd[0]).name} failed: {detail}")


def build(out: Path = DEFAULT_OUT) -> Path:
    """Assemble every unit, link them with firmware.ld and write the ELF to ``out``."""
    as_, ld = _tool("as"), _tool("ld")
    if as_ is None or ld is None:
        raise BuildError(f"{PREFIX}as/{PREFIX}ld not found (install binutils-riscv64-linux-gnu)")
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="rasplat-fw-") as tmp:
        objs = [str(Path(tmp) / Path(unit).with_suffix(".o").name) for unit in UNITS]
        for unit, obj in zip(UNITS, objs, strict=True):
            _run([as_, *AS_FLAGS, "-o", obj, unit], cwd=FIRMWARE_DIR)
        elf = Path(tmp) / "firmware.elf"
        _run([ld, *LD_FLAGS, "-T", LINKER_SCRIPT, "-o", str(elf), *objs], cwd=FIRMWARE_DIR)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(elf.read_bytes())
    return out


def build_user(out: Path = USER_OUT) -> Path:
    """Assemble user.S and link it with user.ld into ``out``."""
    as_, ld = _tool("as"), _tool("ld")
    if as_ is None or ld is None:
        raise BuildError(f"{PREFIX}as/{PREFIX}ld not found (install binutils-riscv64-linux-gnu)")
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="rasplat-fw-") as tmp:
        obj = str(Path(tmp) / "user.o")
        _run([as_, *AS_FLAGS, "-o", obj, "user.S"], cwd=FIRMWARE_DIR)
        elf = Path(tmp) / "user.elf"
        _run([ld, *LD_FLAGS, "-T", "user.ld", "-o", str(elf), obj], cwd=FIRMWARE_DIR)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(elf.read_bytes())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rasplat.firmware.build", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output ELF (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        paths = [build(args.out), build_user()]
    except BuildError as exc:
        print(f"rasplat.firmware.build: {exc}", file=sys.stderr)
        return 1
    print("\n".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
