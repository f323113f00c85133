"""ELF loading: symbols, __ex_table, and clear errors for files that are not a linked RV64 LE executable."""

from __future__ import annotations

import pytest

import rasplat
from rasplat.kernel.kernel import firmware_path
from rasplat.memory import RAM


@pytest.fixture(scope="module")
def blob() -> bytes:
    with open(firmware_path(), "rb") as f:
        return f.read()


def test_firmware_image_has_symbols_and_a_sorted_extable() -> None:
    plat = rasplat.Platform.default()
    image = plat.kernel.firmware
    assert image.symbols["memcpy"] == image.symbols["__memcpy"]
    assert image.symbol_at(image.symbols["__memcpy_mc"] + 8) == "__memcpy_mc+0x8"
    insns = [e.insn for e in image.extable]
    assert insns == sorted(insns)
    mc, size = image.symbols["__memcpy_mc"], image.sizes["__memcpy_mc"]
    mine = [e for e in image.extable if mc <= e.insn < mc + size]
    assert len(mine) == 19 and all(e.type == 1 for e in mine), "one EX_TYPE_FIXUP entry per load of memcpy_mc"
    assert len({e.fixup for e in mine}) == 1


@pytest.mark.parametrize(
    "patch, message",
    [
        (lambda b: b[:40], "not an ELF file"),
        (lambda b: b"\x7fELG" + b[4:], "not an ELF file"),
        (lambda b: b[:4] + b"\x01" + b[5:], "not ELFCLASS64"),
        (lambda b: b[:5] + b"\x02" + b[6:], "not little-endian"),
        (lambda b: b[:18] + (62).to_bytes(2, "little") + b[20:], "is not RISC-V"),
        (lambda b: b[:16] + (1).to_bytes(2, "little") + b[18:], "not a linked executable"),
        (lambda b: b[:0x200], "truncated"),
    ],
)
def test_bad_elf_files_get_clear_errors(blob: bytes, tmp_path, patch, message: str) -> None:
    path = tmp_path / "bad.elf"
    path.write_bytes(patch(blob))
    plat = rasplat.Platform.default()
    with pytest.raises(rasplat.ElfError, match=message) as info:
        plat.load_elf(path)
    assert str(path) in str(info.value)


def test_missing_file_and_segment_outside_memory(tmp_path, blob: bytes) -> None:
    plat = rasplat.Platform.default()
    with pytest.raises(rasplat.ElfError, match="cannot read"):
        plat.load_elf(tmp_path / "nope.elf")
    small = rasplat.Platform()
    small.add_memory("sram", 0x4000_0000, 1 << 20, RAM(1 << 20))
    with pytest.raises(rasplat.ElfError, match=r"segment \[0x80000000, 0x8000[0-9a-f]+\) is not inside"):
        small.load_elf(firmware_path())
    with pytest.raises(rasplat.ElfError, match="is not inside"):
        small.kernel.call("memcpy", 0, 0, 0)  # the kernel model needs its firmware where it was linked
