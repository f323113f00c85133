"""The command line: the demo tells the story; errors are one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys

from rasplat.cli import main
from rasplat.demo import run_demo


def test_demo_shows_the_panic_then_the_survival() -> None:
    lines: list[str] = []
    assert run_demo(lines.append) == 0
    text = "\n".join(lines)
    panic_at = text.index("Kernel panic - not syncing")
    fixup_at = text.index("fixup_exception: FIXUP entry")
    assert panic_at < fixup_at
    assert "copy_mc_to_kernel(dst=0x88010000, src=0x88000000, n=4096) = 4096" in text
    assert "the destination holds the first 2048 bytes" in text
    assert "returns 0" in text.splitlines()[-1]


def test_cli_demo_entry_point_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "rasplat.cli", "demo"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Oops - hardware error" in out.stdout and not out.stderr


def test_cli_errors_are_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "x.elf"
    bad.write_bytes(b"not an elf at all, clearly, no" * 4)
    assert main(["run", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rasplat: error: ") and "not an ELF file" in err
    assert main(["run", str(tmp_path / "missing.elf")]) == 1
    assert "cannot read" in capsys.readouterr().err
