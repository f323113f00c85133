"""ISA conformance of the rasplat hart: self-checking programs from tests/isa run on the model.

* Every M-mode program in tests/isa/elf runs on a fresh default platform until it writes `tohost`
  (1 = pass, (n << 1) | 1 = test n failed); a failure names the test and the source line that starts it.
* The committed ELFs must be what tests/isa/build.py makes of the sources (skipped without a toolchain).
* Every user-mode program runs under qemu-riscv64 and on the model in U-mode, with its write/exit
  syscalls served by a hook on the M-mode trap vector; the 31 registers it publishes must agree (except
  sp, whose initial value differs between the two).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import struct
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

import rasplat

ISA_DIR = Path(__file__).resolve().parent / "isa"
ELF_DIR = ISA_DIR / "elf"
MMODE_ELFS = sorted(p for p in ELF_DIR.glob("*.elf") if not p.name.startswith("user_"))
USER_ELFS = sorted(ELF_DIR.glob("user_*.elf"))

CHUNK = 20_000  # instructions between two looks at tohost
BUDGET = 2_000_000  # every program finishes in far fewer; more means it is stuck

# User-mode runs: where the M-mode "kernel" hook sits, and the initial stack pointer.
TRAP_VECTOR = 0x8FFF_0000
STACK_TOP = 0x8F00_0000
CAUSE_USER_ECALL = 8
SYS_WRITE = 64
SYS_EXIT = 93

ABI = ("zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6").split()


def _load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("isa_build", ISA_DIR / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


isa_build = _load_build_module()


def _test_source_line(program: str, testnum: int) -> str:
    """The source line that starts test `testnum` of a program, as 'file:line: text'."""
    src = ISA_DIR / "src" / f"{program}.S"
    if not src.exists():
        return f"(no source {src.name})"
    pattern = re.compile(rf"^\s*TEST\w*\s+{testnum}\b")
    for lineno, line in enumerate(src.read_text().splitlines(), start=1):
        if pattern.match(line):
            return f"src/{src.name}:{lineno}: {line.strip()}"
    return f"(test {testnum} not found in {src.name})"


def _hart_state(hart) -> str:  # noqa: ANN001 - the model's Hart type is internal
    csr = hart.csr
    return (
        f"pc={hart.pc:#x} priv={hart.priv} mcause={csr['mcause']:#x} mepc={csr['mepc']:#x} "
        f"mtval={csr['mtval']:#x} a0={hart.x[10]:#x} a4={hart.x[14]:#x} t6={hart.x[31]:#x}"
    )


def run_mmode_program(path: Path) -> tuple[int, int, str]:
    """Run an M-mode program; return (tohost value, instructions run, hart state at the end)."""
    plat = rasplat.Platform.default()
    image = plat.load_elf(path)
    hart = plat.harts[0]
    hart.pc = image.entry
    tohost = image.symbols["tohost"]
    steps = 0
    value = 0
    while steps < BUDGET:
        ran = plat.run(max_steps=CHUNK)
        steps += ran
        value = int.from_bytes(plat.bus.read(tohost, 8), "little")
        if value or ran == 0:
            break
    return value, steps, _hart_state(hart)


@pytest.mark.parametrize("elf", MMODE_ELFS, ids=lambda p: p.stem)
def test_mmode_program(elf: Path) -> None:
    value, steps, state = run_mmode_program(elf)
    if value == 0:
        pytest.fail(f"{elf.stem}: no result in tohost after {steps} instructions; {state}")
    if value != 1:
        testnum = value >> 1
        pytest.fail(
            f"{elf.stem}: test {testnum} failed (tohost={value:#x})\n"
            f"  {_test_source_line(elf.stem, testnum)}\n"
            f"  hart at the end: {state}"
        )


def test_elfs_present() -> None:
    assert len(MMODE_ELFS) >= 15, f"expected the committed M-mode ELFs in {ELF_DIR}"
    assert USER_ELFS, f"expected the committed user-mode ELFs in {ELF_DIR}"


def test_committed_elfs_match_rebuild(tmp_path: Path) -> None:
    if not isa_build.toolchain_available():
        pytest.skip("no RISC-V binutils on PATH")
    built = {p.name: p for p in isa_build.build_all(tmp_path)}
    committed = {p.name: p for p in ELF_DIR.glob("*.elf")}
    assert sorted(built) == sorted(committed), "ELF set differs: run `python tests/isa/build.py`"
    stale = [name for name in sorted(built) if built[name].read_bytes() != committed[name].read_bytes()]
    assert not stale, f"committed ELFs differ from a rebuild: {stale}; run `python tests/isa/build.py`"


def run_user_program(path: Path) -> bytes:
    """Run a user-mode program on the model in U-mode; return what it wrote to stdout."""
    plat = rasplat.Platform.default()
    image = plat.load_elf(path)
    hart = plat.harts[0]
    out = bytearray()
    problems: list[str] = []
    exited: list[int] = []

    def kernel(h) -> bool:  # noqa: ANN001 - the model's Hart type is internal
        cause, epc = h.csr["mcause"], h.csr["mepc"]
        if cause != CAUSE_USER_ECALL:
            problems.append(f"unexpected trap mcause={cause:#x} mepc={epc:#x} mtval={h.csr['mtval']:#x}")
            return True
        syscall = h.x[17]
        if syscall == SYS_WRITE:
            buf, count = h.x[11], h.x[12]
            out.extend(plat.bus.read(buf, count))
            h.x[10] = count
        elif syscall == SYS_EXIT:
            exited.append(h.x[10])
            return True
        else:
            problems.append(f"unexpected syscall {syscall} at {epc:#x}")
            return True
        h.pc = epc + 4
        h.priv = 0
        return False

    hart.csr["mtvec"] = TRAP_VECTOR
    hart.hooks[TRAP_VECTOR] = kernel
    hart.x[2] = STACK_TOP
    hart.pc = image.entry
    hart.priv = 0
    steps = 0
    while not exited and not problems and steps < BUDGET:
        ran = plat.run(max_steps=CHUNK)
        steps += ran
        if ran == 0:
            break
    assert not problems, f"{path.stem}: {problems[0]}"
    assert exited == [0], f"{path.stem}: did not exit(0) within {steps} instructions; {_hart_state(hart)}"
    return bytes(out)


def _registers(blob: bytes) -> list[int]:
    assert len(blob) == 31 * 8, f"expected 248 bytes of registers, got {len(blob)}"
    return list(struct.unpack("<31Q", blob))


@pytest.mark.parametrize("elf", USER_ELFS, ids=lambda p: p.stem)
def test_user_program_matches_qemu(elf: Path) -> None:
    qemu = shutil.which("qemu-riscv64")
    if qemu is None:
        pytest.skip("qemu-riscv64 not installed")
    ref = subprocess.run([qemu, str(elf)], capture_output=True, timeout=60, check=True).stdout
    expected = _registers(ref)
    got = _registers(run_user_program(elf))
    diffs = [
        f"x{i} ({ABI[i]}): qemu {want:#018x} rasplat {have:#018x}"
        for i, (want, have) in enumerate(zip(expected, got, strict=True), start=1)
        if i != 2 and want != have
    ]
    assert not diffs, f"{elf.stem}: registers differ from qemu-user:\n  " + "\n  ".join(diffs)
