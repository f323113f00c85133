"""Checks on the committed firmware image (rasplat/firmware/firmware.elf).

Most tests need only pyelftools; the rebuild and objdump cross-checks skip without the riscv64 binutils.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from rasplat.firmware import build as fwbuild

ELF_PATH = fwbuild.DEFAULT_OUT
EX_TYPE_FIXUP = 1
EXTABLE_ENTRY = 12  # struct exception_table_entry { int insn, fixup; short type, data; }
# Loads in memcpy_template.S: lead lb + 16 ld (10 + 6) + word-tail lw + byte-tail lb.
TEMPLATE_LOADS = 1 + 16 + 1 + 1


@pytest.fixture(scope="module")
def elf_bytes() -> bytes:
    return ELF_PATH.read_bytes()


@pytest.fixture(scope="module")
def image(elf_bytes: bytes) -> dict:
    """Symbols (name -> Symbol), .text (addr, data) and __ex_table (addr, data) of the committed ELF."""
    elf = ELFFile(io.BytesIO(elf_bytes))
    symbols = {sym.name: sym for sym in elf.get_section_by_name(".symtab").iter_symbols() if sym.name}
    text = elf.get_section_by_name(".text")
    extable = elf.get_section_by_name("__ex_table")
    return {
        "symbols": symbols,
        "text": (text["sh_addr"], text.data()),
        "extable": (extable["sh_addr"], extable.data()),
    }


def _func_bytes(image: dict, name: str) -> bytes:
    sym = image["symbols"][name]
    base, data = image["text"]
    start = sym["st_value"] - base
    return data[start : start + sym["st_size"]]


def _extable(image: dict) -> list[tuple[int, int, int, int]]:
    """(insn address, fixup address, type, data) for every entry, resolving the self-relative fields."""
    base, data = image["extable"]
    entries = []
    for off in range(0, len(data), EXTABLE_ENTRY):
        insn, fixup, typ, dat = struct.unpack_from("<iihh", data, off)
        entries.append((base + off + insn, base + off + 4 + fixup, typ, dat))
    return entries


def _decode_loads(code: bytes, base: int) -> list[int]:
    """Addresses of the integer loads in an RV64IC instruction stream (just enough decoding for memcpy)."""
    loads, pc = [], 0
    while pc < len(code):
        half = int.from_bytes(code[pc : pc + 2], "little")
        if half & 3 == 3:  # 32-bit: LOAD opcode 0x03 (lb/lh/lw/ld/lbu/lhu/lwu)
            if half & 0x7F == 0x03:
                loads.append(base + pc)
            pc += 4
        else:  # 16-bit: quadrant 0 c.lw (010) / c.ld (011); quadrant 2 c.lwsp / c.ldsp
            if half & 3 in (0, 2) and (half >> 13) in (0b010, 0b011):
                loads.append(base + pc)
            pc += 2
    return loads


# (a) the committed ELF is what the sources build to


def test_rebuild_matches_committed_elf(tmp_path: Path, elf_bytes: bytes) -> None:
    if not fwbuild.toolchain_available():
        pytest.skip("riscv64-linux-gnu binutils not installed")
    out = fwbuild.build(tmp_path / "firmware.elf")
    assert out.read_bytes() == elf_bytes, "firmware.elf is stale: run python -m rasplat.firmware.build"


# (b) symbols; templated __memcpy == open-coded memcpy


def test_memcpy_is_byte_identical_to_open_coded(image: dict) -> None:
    templated = _func_bytes(image, "__memcpy")
    open_coded = _func_bytes(image, "__memcpy_open")
    assert len(templated) > 0 and len(open_coded) > 0
    assert templated == open_coded


def test_weak_aliases(image: dict) -> None:
    syms = image["symbols"]
    for alias, target in (("memcpy", "__memcpy"), ("memcpy_mc", "__memcpy_mc")):
        a, t = syms[alias], syms[target]
        assert (a["st_value"], a["st_size"]) == (t["st_value"], t["st_size"])
        assert a["st_info"]["bind"] == "STB_WEAK" and t["st_info"]["bind"] == "STB_GLOBAL"
        assert a["st_info"]["type"] == t["st_info"]["type"] == "STT_FUNC"
        assert t["st_size"] > 0


def test_mc_variant_differs_only_in_epilogue(image: dict) -> None:
    # __memcpy = template + ret (c.jr, 2 bytes); __memcpy_mc = template + return-0 + label 6.
    plain, mc = _func_bytes(image, "__memcpy"), _func_bytes(image, "__memcpy_mc")
    assert mc[: len(plain) - 2] == plain[:-2]


def test_hooks(image: dict) -> None:
    syms = image["symbols"]
    sizes = {"rasplat_strap_vector": 256, "rasplat_mtrap_vector": 256, "rasplat_call_return": 4}
    for name, size in sizes.items():
        assert syms[name]["st_value"] % 4 == 0 and syms[name]["st_size"] == size
    assert syms["rasplat_strap_vector"]["st_value"] % 64 == 0
    assert syms["rasplat_mtrap_vector"]["st_value"] % 64 == 0


# (c) __ex_table: one FIXUP entry per load of __memcpy_mc, all to label 6


def test_extable_entries(image: dict) -> None:
    base, data = image["extable"]
    syms = image["symbols"]
    assert len(data) % EXTABLE_ENTRY == 0
    assert syms["__start___ex_table"]["st_value"] == base
    assert syms["__stop___ex_table"]["st_value"] == base + len(data)

    mc = syms["__memcpy_mc"]
    lo, hi = mc["st_value"], mc["st_value"] + mc["st_size"]
    entries = _extable(image)
    assert len(entries) == TEMPLATE_LOADS
    assert all(typ == EX_TYPE_FIXUP and dat == 0 for _, _, typ, dat in entries)
    assert all(lo <= insn < hi for insn, _, _, _ in entries)
    fixups = {fixup for _, fixup, _, _ in entries}
    assert len(fixups) == 1
    (fixup,) = fixups
    assert lo <= fixup < hi
    # Label 6 is the last thing in __memcpy_mc: c.mv a0, a2; c.jr ra.
    assert fixup == hi - 4
    assert _func_bytes(image, "__memcpy_mc")[-4:] == bytes.fromhex("32858280")


def test_extable_covers_exactly_the_loads(image: dict) -> None:
    mc = image["symbols"]["__memcpy_mc"]
    loads = _decode_loads(_func_bytes(image, "__memcpy_mc"), mc["st_value"])
    assert len(loads) == TEMPLATE_LOADS
    assert sorted(insn for insn, _, _, _ in _extable(image)) == loads


# (d) cross-check with objdump: extable insns are the loads, and never a store


def test_extable_matches_objdump(image: dict) -> None:
    objdump = shutil.which(fwbuild.PREFIX + "objdump")
    if objdump is None:
        pytest.skip("riscv64-linux-gnu-objdump not installed")
    mc = image["symbols"]["__memcpy_mc"]
    start, stop = mc["st_value"], mc["st_value"] + mc["st_size"]
    # no-aliases: compressed forms keep their c. names (c.ld, c.lw) instead of printing as ld/lw.
    cmd = [objdump, "-d", "-M", "no-aliases", f"--start-address={start}", f"--stop-address={stop}"]
    listing = subprocess.run([*cmd, str(ELF_PATH)], capture_output=True, text=True, check=True).stdout
    line = re.compile(r"^\s*([0-9a-f]+):\s+[0-9a-f]+\s+(\S+)", re.MULTILINE)
    insns = {int(m[1], 16): m[2] for m in line.finditer(listing)}
    loads = {addr for addr, op in insns.items() if re.fullmatch(r"(c\.)?l[bhwd]u?(sp)?", op)}
    stores = {addr for addr, op in insns.items() if re.fullmatch(r"(c\.)?s[bhwd](sp)?", op)}
    assert len(loads) == TEMPLATE_LOADS and stores
    covered = {insn for insn, _, _, _ in _extable(image)}
    assert covered == loads
    assert not covered & stores
