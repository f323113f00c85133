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
    pairs = (("memcpy", "__memcpy"), ("memcpy_mc", "__memcpy_mc"), ("memcpy_mc_exact", "__memcpy_mc_exact"))
    for alias, target in pairs:
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

# Functions with __ex_table entries, and which of their accesses carry one.
EXTABLE_FUNCS = {"__memcpy_mc": "loads", "__memcpy_mc_exact": "loads", "__asm_copy_to_user": "loads+stores"}


def _entries_in(image: dict, name: str) -> list[tuple[int, int, int, int]]:
    sym = image["symbols"][name]
    lo, hi = sym["st_value"], sym["st_value"] + sym["st_size"]
    return [e for e in _extable(image) if lo <= e[0] < hi]


def test_extable_entries(image: dict) -> None:
    base, data = image["extable"]
    syms = image["symbols"]
    assert len(data) % EXTABLE_ENTRY == 0
    assert syms["__start___ex_table"]["st_value"] == base
    assert syms["__stop___ex_table"]["st_value"] == base + len(data)
    # every entry belongs to one of the functions above, and is a plain FIXUP into that function
    entries = _extable(image)
    assert sum(len(_entries_in(image, name)) for name in EXTABLE_FUNCS) == len(entries)
    for name in EXTABLE_FUNCS:
        sym = syms[name]
        lo, hi = sym["st_value"], sym["st_value"] + sym["st_size"]
        assert all(typ == EX_TYPE_FIXUP and dat == 0 and lo <= fixup < hi for _, fixup, typ, dat in
                   _entries_in(image, name)), name  # fmt: skip

    mc = syms["__memcpy_mc"]
    hi = mc["st_value"] + mc["st_size"]
    mc_entries = _entries_in(image, "__memcpy_mc")
    assert len(mc_entries) == TEMPLATE_LOADS
    fixups = {fixup for _, fixup, _, _ in mc_entries}
    assert len(fixups) == 1
    (fixup,) = fixups
    # Label 6 is the last thing in __memcpy_mc: c.mv a0, a2; c.jr ra.
    assert fixup == hi - 4
    assert _func_bytes(image, "__memcpy_mc")[-4:] == bytes.fromhex("32858280")


def test_extable_covers_exactly_the_loads(image: dict) -> None:
    for name in ("__memcpy_mc", "__memcpy_mc_exact"):
        sym = image["symbols"][name]
        loads = _decode_loads(_func_bytes(image, name), sym["st_value"])
        assert len(loads) == TEMPLATE_LOADS, name
        assert sorted(insn for insn, _, _, _ in _entries_in(image, name)) == loads, name


def test_exact_variant_is_the_template_with_per_phase_handlers(image: dict) -> None:
    # Same body as __memcpy (the fixup macro adds table entries, not instructions), then its own handlers:
    # one for the lead loop, two for the unrolled loop (loads 0-9 and 10-15) and one for both tails.
    plain, exact = _func_bytes(image, "__memcpy"), _func_bytes(image, "__memcpy_mc_exact")
    assert exact[: len(plain) - 2] == plain[:-2]
    sym = image["symbols"]["__memcpy_mc_exact"]
    entries = sorted(_entries_in(image, "__memcpy_mc_exact"))
    by_fixup: dict[int, int] = {}
    for _, fixup, _, _ in entries:
        by_fixup[fixup] = by_fixup.get(fixup, 0) + 1
    assert sorted(by_fixup.values()) == [1, 2, 6, 10]  # lead lb; tail lw + lb; unrolled 10-15; unrolled 0-9
    assert all(fixup >= sym["st_value"] + len(plain) - 2 for fixup in by_fixup)  # handlers follow the body
    # in program order: lead, 10 unrolled, 6 unrolled, word tail, byte tail
    order = [fixup for _, fixup, _, _ in entries]
    assert len(set(order[1:11])) == 1 and len(set(order[11:17])) == 1 and order[17] == order[18]
    assert len({order[0], order[1], order[11], order[17]}) == 4


def test_uaccess_aliases_and_handlers(image: dict) -> None:
    syms = image["symbols"]
    to, frm = syms["__asm_copy_to_user"], syms["__asm_copy_from_user"]
    assert (to["st_value"], to["st_size"]) == (frm["st_value"], frm["st_size"]) and to["st_size"] > 0
    assert to["st_info"]["bind"] == frm["st_info"]["bind"] == "STB_GLOBAL"
    entries = _entries_in(image, "__asm_copy_to_user")
    # one handler for everything but stores 1..7 of a 64-byte block, which first add the bytes already stored
    targets = sorted({fixup for _, fixup, _, _ in entries})
    assert len(targets) == 8 and [b - a for a, b in zip(targets, targets[1:], strict=False)] == [2] * 7


# (d) cross-check with objdump: extable insns are exactly the accesses each function protects


@pytest.mark.parametrize("name", sorted(EXTABLE_FUNCS))
def test_extable_matches_objdump(image: dict, name: str) -> None:
    objdump = shutil.which(fwbuild.PREFIX + "objdump")
    if objdump is None:
        pytest.skip("riscv64-linux-gnu-objdump not installed")
    sym = image["symbols"][name]
    start, stop = sym["st_value"], sym["st_value"] + sym["st_size"]
    # no-aliases: compressed forms keep their c. names (c.ld, c.lw) instead of printing as ld/lw.
    cmd = [objdump, "-d", "-M", "no-aliases", f"--start-address={start}", f"--stop-address={stop}"]
    listing = subprocess.run([*cmd, str(ELF_PATH)], capture_output=True, text=True, check=True).stdout
    line = re.compile(r"^\s*([0-9a-f]+):\s+[0-9a-f]+\s+(\S+)", re.MULTILINE)
    insns = {int(m[1], 16): m[2] for m in line.finditer(listing)}
    loads = {addr for addr, op in insns.items() if re.fullmatch(r"(c\.)?l[bhwd]u?(sp)?", op)}
    stores = {addr for addr, op in insns.items() if re.fullmatch(r"(c\.)?s[bhwd](sp)?", op)}
    assert loads and stores
    covered = {insn for insn, _, _, _ in _entries_in(image, name)}
    if EXTABLE_FUNCS[name] == "loads":
        assert len(loads) == TEMPLATE_LOADS
        assert covered == loads
        assert not covered & stores
    else:
        assert covered == loads | stores
