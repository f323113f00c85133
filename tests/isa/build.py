"""Build the rasplat ISA test programs into ELF files.

    python tests/isa/build.py                 # (re)build tests/isa/elf/*.elf, the files that get committed
    python tests/isa/build.py --validate      # also run the programs on reference simulators (qemu)

M-mode programs come from src/*.S (linked with link.ld) and become elf/<name>.elf; user-mode differential
programs come from user/*.S (linked with user/link.ld) and become elf/user_<name>.elf.

Output is deterministic: no build id, the assembler runs in the source folder on relative names, and the
linker does no relaxation, so a rebuild with the same binutils is byte-identical to the committed files.

A program whose header has the line `# variant: unprivileged` uses no privileged state, so --validate also
builds it with QEMU_USER defined and runs it under qemu-riscv64. With qemu-system-riscv64 present, every
M-mode program is also built with QEMU_SYSTEM defined and run on qemu's virt machine. Those variants skip
the few checks where qemu 7.2 itself departs from the specification; each skip is commented in the source.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC_DIR = HERE / "src"
USER_DIR = HERE / "user"
ELF_DIR = HERE / "elf"

PREFIXES = ("riscv64-linux-gnu-", "riscv64-unknown-elf-", "riscv64-unknown-linux-gnu-")
# M-mode programs are assembled without C so every instruction is the 32-bit encoding unless a program
# opts in with `.option rvc`; user programs take C everywhere the assembler can use it.
MARCH_MMODE = "rv64ima_zicsr_zifencei"
MARCH_USER = "rv64imac"
UNPRIVILEGED_MARKER = "# variant: unprivileged"
# qemu's CPU trimmed to what rasplat implements: RV64IMAC + S + U, none of qemu's default extras.
QEMU_CPU = (
    "rv64,f=off,d=off,h=off,Zfh=off,Zfhmin=off,zba=off,zbb=off,zbc=off,zbs=off,svinval=off,svnapot=off,"
    "svpbmt=off,Zihintpause=off,zmmul=off,v=off,sscofpmf=off,sstc=off"
)


def _prefix() -> str | None:
    for prefix in PREFIXES:
        if shutil.which(prefix + "as") and shutil.which(prefix + "ld"):
            return prefix
    return None


def toolchain_available() -> bool:
    """True when a RISC-V binutils (as + ld) is on PATH."""
    return _prefix() is not None


def mmode_sources() -> list[Path]:
    return sorted(SRC_DIR.glob("*.S"))


def user_sources() -> list[Path]:
    return sorted(USER_DIR.glob("*.S"))


def is_unprivileged(src: Path) -> bool:
    return UNPRIVILEGED_MARKER in src.read_text().splitlines()


def _assemble_and_link(src: Path, out: Path, march: str, linker_script: Path, defsyms: tuple[str, ...]) -> None:
    prefix = _prefix()
    if prefix is None:
        raise RuntimeError("no RISC-V binutils found (tried prefixes: " + ", ".join(PREFIXES) + ")")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        obj = Path(tmp) / (src.stem + ".o")
        defs = [arg for sym in defsyms for arg in ("--defsym", f"{sym}=1")]
        # Relative source name and include path: nothing host-specific ends up in the object.
        subprocess.run(
            [prefix + "as", f"-march={march}", "-mabi=lp64", "-I", ".", *defs, "-o", str(obj), src.name],
            cwd=src.parent,
            check=True,
        )
        ld_flags = ["-m", "elf64lriscv", "-static", "-nostdlib", "--build-id=none", "--no-relax"]
        subprocess.run([prefix + "ld", *ld_flags, "-T", str(linker_script), "-o", str(out), str(obj)], check=True)


def build_mmode(src: Path, out: Path, defsyms: tuple[str, ...] = ()) -> Path:
    _assemble_and_link(src, out, MARCH_MMODE, HERE / "link.ld", defsyms)
    return out


def build_user(src: Path, out: Path) -> Path:
    _assemble_and_link(src, out, MARCH_USER, USER_DIR / "link.ld", ())
    return out


def build_all(outdir: Path | str = ELF_DIR) -> list[Path]:
    """Build every M-mode and user program into outdir; return the ELF paths."""
    outdir = Path(outdir)
    built = [build_mmode(src, outdir / f"{src.stem}.elf") for src in mmode_sources()]
    built += [build_user(src, outdir / f"user_{src.stem}.elf") for src in user_sources()]
    return built


# ---- validation against reference simulators (developer aid, not used by the test suite) --------------------


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -1, b"", b"timeout")


def validate(tmp: Path) -> int:
    """Run the programs on qemu; return the number of failures."""
    failures = 0
    qemu_user = shutil.which("qemu-riscv64")
    qemu_system = shutil.which("qemu-system-riscv64")
    for src in mmode_sources():
        if qemu_user and is_unprivileged(src):
            elf = build_mmode(src, tmp / f"{src.stem}.qemu-user.elf", ("QEMU_USER",))
            res = _run([qemu_user, str(elf)], 30)
            ok = res.returncode == 0
            failures += not ok
            print(f"qemu-user    {src.stem:20s} {'PASS' if ok else f'FAIL test {res.returncode}'}")
        if qemu_system:
            elf = build_mmode(src, tmp / f"{src.stem}.qemu-system.elf", ("QEMU_SYSTEM",))
            machine = ["-M", "virt", "-m", "1G", "-nographic", "-bios", "none", "-cpu", QEMU_CPU]
            res = _run([qemu_system, *machine, "-device", f"loader,file={elf},cpu-num=0"], 30)
            ok = res.returncode == 0
            failures += not ok
            detail = "timeout" if res.returncode == -1 else f"test {res.returncode}"
            print(f"qemu-system  {src.stem:20s} {'PASS' if ok else 'FAIL ' + detail}")
    if qemu_user:
        for src in user_sources():
            elf = build_user(src, tmp / f"user_{src.stem}.elf")
            res = _run([qemu_user, str(elf)], 30)
            ok = res.returncode == 0 and len(res.stdout) == 31 * 8
            failures += not ok
            print(f"qemu-user    user_{src.stem:15s} {'PASS' if ok else f'FAIL rc={res.returncode}'}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", type=Path, default=ELF_DIR)
    parser.add_argument("--validate", action="store_true", help="also run the programs under qemu")
    args = parser.parse_args(argv)
    if not toolchain_available():
        print("error: no RISC-V binutils on PATH", file=sys.stderr)
        return 2
    built = build_all(args.outdir)
    for stale in sorted(set(Path(args.outdir).glob("*.elf")) - set(built)):  # its source is gone
        stale.unlink()
        print(f"removed {stale}")
    for path in built:
        print(f"built {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if args.validate:
        with tempfile.TemporaryDirectory() as tmp:
            return 1 if validate(Path(tmp)) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
