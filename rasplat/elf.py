"""Loading linked RV64 ELF images: PT_LOAD segments, symbols, and the kernel's `__ex_table`."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import ElfError

EM_RISCV = 243
EXTABLE_ENTRY = struct.Struct("<iihh")  # {int insn; int fixup; short type; short data}, self-relative


@dataclass(frozen=True)
class ExtableEntry:
    insn: int  # absolute address of the instruction that may fault
    fixup: int  # absolute address to continue at
    type: int  # EX_TYPE_*
    data: int


@dataclass
class Image:
    path: str
    entry: int
    symbols: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    weak: set[str] = field(default_factory=set)
    extable: list[ExtableEntry] = field(default_factory=list)  # sorted by insn
    segments: list[tuple[int, int]] = field(default_factory=list)  # (vaddr, memsz)
    contents: dict[int, bytes] = field(default_factory=dict, repr=False)  # vaddr -> file bytes of the segment

    def data(self, vaddr: int, size: int) -> bytes:
        """The initialised bytes of [vaddr, vaddr+size) (zeros past a segment's file size, like .bss)."""
        for start, memsz in self.segments:
            if start <= vaddr and vaddr + size <= start + memsz:
                blob = self.contents[start][vaddr - start : vaddr - start + size]
                return blob + bytes(size - len(blob))
        raise ElfError(f"{self.path}: [{vaddr:#x}, +{size:#x}) is not inside one PT_LOAD segment")

    def symbol(self, name: str) -> int:
        try:
            return self.symbols[name]
        except KeyError:
            raise ElfError(f"{self.path}: no symbol {name!r}") from None

    def symbol_at(self, addr: int) -> str | None:
        """'name+0xoff' for the function holding addr, as an oops prints it."""
        best = None
        for name, start in self.symbols.items():
            size = self.sizes.get(name, 0)
            if start <= addr < start + max(size, 1):
                rank = (start, name not in self.weak)  # innermost symbol; a strong name over its weak alias
                if best is None or rank > best[2]:
                    best = (name, start, rank)
        return None if best is None else f"{best[0]}+{addr - best[1]:#x}"


def read_elf(data: bytes, path: str) -> tuple[Image, list[tuple[int, bytes, int]]]:
    """Parse an RV64 little-endian executable. Returns the image and its (vaddr, bytes, memsz) segments."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise ElfError(f"{path}: not an ELF file (bad magic or shorter than an ELF header)")
    if data[4] != 2:
        raise ElfError(f"{path}: ELF class {data[4]} is not ELFCLASS64 (rasplat harts are RV64)")
    if data[5] != 1:
        raise ElfError(f"{path}: ELF data encoding {data[5]} is not little-endian (ELFDATA2LSB)")
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf["e_machine"] != "EM_RISCV":
            raise ElfError(f"{path}: machine {elf['e_machine']} is not RISC-V (EM_RISCV = {EM_RISCV})")
        if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
            raise ElfError(f"{path}: ELF type {elf['e_type']} is not a linked executable")
        loads = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD":
                continue
            off, filesz, memsz = seg["p_offset"], seg["p_filesz"], seg["p_memsz"]
            if off + filesz > len(data):
                raise ElfError(f"{path}: PT_LOAD at {seg['p_vaddr']:#x} runs past the end of the file (truncated?)")
            loads.append((seg["p_vaddr"], data[off : off + filesz], memsz))
        image = Image(path=path, entry=elf["e_entry"], segments=[(v, m) for v, _, m in loads],
                      contents={v: d for v, d, _ in loads})
        symtab = elf.get_section_by_name(".symtab")
        if symtab is not None:
            for sym in symtab.iter_symbols():
                if sym.name and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                    if sym["st_shndx"] != "SHN_UNDEF" and not sym.name.startswith("$"):
                        image.symbols[sym.name] = sym["st_value"]
                        image.sizes[sym.name] = sym["st_size"]
                        if sym["st_info"]["bind"] == "STB_WEAK":
                            image.weak.add(sym.name)
        ex = elf.get_section_by_name("__ex_table")
        if ex is not None:
            image.extable = _parse_extable(ex.data(), ex["sh_addr"], path)
    except ElfError:
        raise
    except (ELFError, struct.error, ValueError, KeyError) as e:
        raise ElfError(f"{path}: malformed or truncated ELF ({e})") from None
    return image, loads


def _parse_extable(blob: bytes, base: int, path: str) -> list[ExtableEntry]:
    if len(blob) % EXTABLE_ENTRY.size:
        raise ElfError(f"{path}: __ex_table is {len(blob)} bytes, not a multiple of {EXTABLE_ENTRY.size}")
    entries = []
    for i in range(0, len(blob), EXTABLE_ENTRY.size):
        insn, fixup, type_, data = EXTABLE_ENTRY.unpack_from(blob, i)
        at = base + i
        entries.append(ExtableEntry(at + insn, at + 4 + fixup, type_, data))
    return sorted(entries, key=lambda e: e.insn)


def load_file(path: str | Path) -> tuple[Image, list[tuple[int, bytes, int]]]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ElfError(f"{p}: cannot read ({e.strerror})") from None
    return read_elf(data, str(p))
