"""The user programs the kernel model's tasks run: the committed user.elf is what user.S builds."""

from __future__ import annotations

import pytest

from rasplat.elf import load_file
from rasplat.firmware import build

USER_ELF = build.USER_OUT


def test_user_programs_are_linked_in_user_space() -> None:
    image, _ = load_file(USER_ELF)
    assert {"user_store", "user_load", "user_spin", "user_write"} <= set(image.symbols)
    assert all(0x10000 <= image.symbols[s] < 0x11000 for s in ("user_store", "user_load", "user_spin"))


def test_committed_user_elf_matches_a_rebuild(tmp_path) -> None:
    if not build.toolchain_available():
        pytest.skip("GNU RISC-V binutils (Debian binutils-riscv64-linux-gnu) not installed")
    assert build.build_user(tmp_path / "user.elf").read_bytes() == USER_ELF.read_bytes()
