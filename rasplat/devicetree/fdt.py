"""The flattened device tree (DTB): a strict reader and a writer whose output is byte-identical to dtc's.

A blob (devicetree spec v0.4, chapter 5; everything big-endian) is a 40-byte header, the memory reservation
block ((address, size) u64 pairs ending with (0, 0)), the structure block (a token stream on 4-byte
boundaries: BEGIN_NODE name, PROP len nameoff value, END_NODE, NOP, END) and the strings block (the
NUL-terminated property names that PROP tokens point into).

Our own `struct` code rather than construct (36x slower on the token stream), the `fdt` package (it drops
`/include/` and overrides on the DTS side) or pylibfdt (source-only: needs SWIG and a C compiler).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from ..errors import DeviceTreeError

if TYPE_CHECKING:
    from devicetree import dtlib

FDT_MAGIC = 0xD00DFEED
FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9
# magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap, version, last_comp_version,
# boot_cpuid_phys, size_dt_strings, size_dt_struct (the last one is new in v17)
HEADER = struct.Struct(">10I")
RESERVATION = struct.Struct(">QQ")
MAX_DEPTH = 64  # real trees are < 10 deep; the cap keeps a hostile blob from outgrowing Python's recursion limit


@dataclass
class FdtNode:
    name: str  # "cpu@0"; "" for the root, as in the blob
    props: dict[str, bytes] = field(default_factory=dict)  # in blob order; raw big-endian values
    children: list[FdtNode] = field(default_factory=list)

    def find(self, path: str) -> FdtNode | None:
        """The node at `path` below this one ("/cpus/cpu@0"); like libfdt, "cpu" also finds the first "cpu@…"."""
        node = self
        for part in filter(None, path.split("/")):
            match = next((c for c in node.children if c.name == part), None)
            if match is None and "@" not in part:
                match = next((c for c in node.children if c.name.partition("@")[0] == part), None)
            if match is None:
                return None
            node = match
        return node

    def walk(self, path: str = "/") -> Iterator[tuple[str, FdtNode]]:
        """(path, node) for this node and everything below it, depth-first in blob order."""
        yield path, self
        for child in self.children:
            yield from child.walk(f"{path.rstrip('/')}/{child.name}")


@dataclass
class Fdt:
    root: FdtNode
    reservations: list[tuple[int, int]] = field(default_factory=list)  # /memreserve/ (address, size)
    boot_cpuid_phys: int = 0
    version: int = 17  # header fields, written back as they are; the layout write_dtb produces is always v17's
    last_comp_version: int = 16


def parse_dtb(blob: bytes, source: str = "<bytes>") -> Fdt:
    """Decode a DTB, checking every offset and size. Bytes past the header's totalsize are ignored (QEMU 7.2's
    dumpdtb writes its whole 1 MiB buffer). Raises DeviceTreeError naming the offset, node and property."""
    blob = bytes(blob)
    stack: list[FdtNode] = []  # open nodes, root first

    def fail(problem: str, offset: int, prop: str | None = None) -> NoReturn:
        where = [f"byte offset {offset:#x}"]
        if stack:
            where.append("node /" + "/".join(n.name for n in stack[1:]))
        if prop is not None:
            where.append(f"property {prop!r}")
        raise DeviceTreeError(f"{source}: {problem} ({', '.join(where)})")

    if len(blob) < HEADER.size:
        fail(f"truncated: {len(blob)} bytes is shorter than the {HEADER.size}-byte header", 0)
    (magic, total, off_struct, off_strings, off_rsv, version, last_comp, boot_cpu, size_strings,
     size_struct) = HEADER.unpack_from(blob)
    if magic != FDT_MAGIC:
        fail(f"bad magic {magic:#010x} (a DTB starts with {FDT_MAGIC:#010x})", 0)
    if version < 16:
        fail(f"unsupported version {version} (need 16 or later)", 0x14)
    if last_comp > 17:
        fail(f"unsupported last_comp_version {last_comp} (this reader understands up to 17)", 0x18)
    header_size = HEADER.size if version >= 17 else 36  # v16 has no size_dt_struct
    if total > len(blob):
        fail(f"truncated: header totalsize is {total} bytes but only {len(blob)} are present", 4)
    if total < header_size:
        fail(f"totalsize {total} is smaller than the {header_size}-byte header", 4)
    if version < 17:
        size_struct = total - off_struct if off_struct <= total else 0  # END must come before totalsize
    for what, offset, size, align, field_at in (("memory reservation map", off_rsv, 0, 8, 0x10),
                                                ("structure block", off_struct, size_struct, 4, 0x08),
                                                ("strings block", off_strings, size_strings, 1, 0x0C)):
        if offset < header_size:
            fail(f"{what} offset {offset:#x} overlaps the header", field_at)
        if offset > total:
            fail(f"{what} offset {offset:#x} is outside the blob (totalsize {total:#x})", field_at)
        if offset + size > total:
            fail(f"{what} ({size} bytes at {offset:#x}) runs past totalsize {total:#x}", field_at)
        if offset % align:
            fail(f"{what} offset {offset:#x} is misaligned (needs {align}-byte alignment)", field_at)

    reservations = []
    pos = off_rsv
    while True:
        if pos + RESERVATION.size > total:
            fail("memory reservation map is not terminated by a (0, 0) entry inside the blob", pos)
        address, size = RESERVATION.unpack_from(blob, pos)
        pos += RESERVATION.size
        if address == size == 0:
            break
        reservations.append((address, size))

    strings_end = off_strings + size_strings
    names: dict[int, str] = {}  # nameoff -> property name; most names are used many times
    end = off_struct + size_struct
    pos = off_struct
    root = None
    while True:
        at = pos
        if pos + 4 > end:
            fail("missing FDT_END: the structure block ends without it", at)
        (token,) = struct.unpack_from(">I", blob, pos)
        pos += 4
        if token == FDT_BEGIN_NODE:
            nul = blob.find(b"\0", pos, end)
            if nul < 0:
                fail("unterminated node name: no NUL before the end of the structure block", at)
            if not blob[pos:nul].isascii():
                fail(f"node name {blob[pos:nul]!r} is not ASCII", at)
            name = blob[pos:nul].decode("ascii")
            pos = (nul + 4) & ~3
            if root is not None and not stack:
                fail(f"second root node {name!r} after the first one was closed", at)
            if stack and (not name or "/" in name):
                fail(f"bad node name {name!r}", at)
            if len(stack) >= MAX_DEPTH:
                fail(f"nodes nested deeper than {MAX_DEPTH}", at)
            node = FdtNode(name)
            if stack:
                siblings = stack[-1].children
                if siblings and any(c.name == name for c in siblings):
                    fail(f"duplicate node {name!r}", at)
                siblings.append(node)
            else:
                root = node
            stack.append(node)
        elif token == FDT_END_NODE:
            if not stack:
                fail("FDT_END_NODE without a node", at)
            stack.pop()
        elif token == FDT_PROP:
            if not stack:
                fail("property outside any node", at)
            if pos + 8 > end:
                fail("property header runs past the structure block", at)
            length, nameoff = struct.unpack_from(">II", blob, pos)
            pos += 8
            name = names.get(nameoff)
            if name is None:
                if nameoff >= size_strings:
                    fail(f"property nameoff {nameoff:#x} is outside the {size_strings}-byte strings block", at)
                nul = blob.find(b"\0", off_strings + nameoff, strings_end)
                if nul < 0:
                    fail(f"property name at strings offset {nameoff:#x} is unterminated within the strings block", at)
                raw = blob[off_strings + nameoff:nul]
                if not raw.isascii():
                    fail(f"property name {raw!r} is not ASCII", at)
                name = names[nameoff] = raw.decode("ascii")
            if pos + length > end:
                fail(f"property length {length} runs past the structure block (ends at {end:#x})", at, name)
            props = stack[-1].props
            if stack[-1].children:
                fail("property after a subnode (properties must come first)", at, name)
            if name in props:
                fail("duplicate property", at, name)
            props[name] = blob[pos:pos + length]
            pos = (pos + length + 3) & ~3
        elif token == FDT_END:
            if stack:
                fail("FDT_END inside a node: nesting not closed", at)
            if root is None:
                fail("no root node before FDT_END", at)
            if version >= 17 and pos != end:
                fail(f"{end - pos} bytes of tokens after FDT_END inside the structure block", pos)
            return Fdt(root, reservations, boot_cpu, version, last_comp)
        elif token != FDT_NOP:
            fail(f"unknown token {token:#010x}", at)


def write_dtb(fdt: Fdt) -> bytes:
    """Encode as `dtc -O dtb` does: header, reservations at 0x28 (+ the (0, 0) entry), structure, strings,
    no padding. Names go into the strings block in order of first use; dtc reuses any earlier string whose
    tail equals the name ("reg" lands inside "interrupt-reg" if that came first), which `find` reproduces."""
    tokens = bytearray()
    strings = bytearray()
    nameoffs: dict[str, int] = {}

    def nameoff(name: str) -> int:
        off = nameoffs.get(name)
        if off is None:
            key = name.encode("ascii") + b"\0"
            off = strings.find(key)  # first match, like dtc's linear scan
            if off < 0:
                off = len(strings)
                strings.extend(key)
            nameoffs[name] = off
        return off

    def emit(node: FdtNode) -> None:
        name = node.name.encode("ascii") + b"\0"
        tokens.extend(struct.pack(">I", FDT_BEGIN_NODE) + name + bytes(-len(name) % 4))
        for prop, value in node.props.items():
            tokens.extend(struct.pack(">III", FDT_PROP, len(value), nameoff(prop)) + value + bytes(-len(value) % 4))
        for child in node.children:
            emit(child)
        tokens.extend(struct.pack(">I", FDT_END_NODE))

    emit(fdt.root)
    tokens.extend(struct.pack(">I", FDT_END))
    reservations = b"".join(RESERVATION.pack(a, s) for a, s in fdt.reservations) + bytes(RESERVATION.size)
    off_rsv = HEADER.size  # already 8-aligned
    off_struct = off_rsv + len(reservations)
    off_strings = off_struct + len(tokens)
    total = off_strings + len(strings)
    header = HEADER.pack(FDT_MAGIC, total, off_struct, off_strings, off_rsv, fdt.version, fdt.last_comp_version,
                         fdt.boot_cpuid_phys, len(strings), len(tokens))
    return header + reservations + tokens + strings


def from_dtlib(dt: dtlib.DT) -> Fdt:
    """The tree dtlib parsed, as dtc would flatten it: same node and property order, the `phandle` properties
    dtlib (like dtc) appends to referenced nodes, /memreserve/s; labels are source-only and vanish.

    Two divergences from dtc, both gone from the dtlib tree by the time we see it (tests/test_fdt.py xfails them):
    dtc remembers where a deleted node or property was and puts a later redefinition back in that place, where
    dtlib appends it; and dtc honours a legacy `linux,phandle` as the node's phandle, where dtlib gives the node
    a new `phandle`."""

    def convert(node: dtlib.Node) -> FdtNode:
        return FdtNode("" if node.parent is None else node.name, {name: p.value for name, p in node.props.items()},
                       [convert(child) for child in node.nodes.values()])

    return Fdt(convert(dt.root), [(address, size) for _labels, address, size in dt.memreserves])


def to_dts(fdt: Fdt) -> str:
    """A readable DTS that dtc and dtlib accept: printable NUL-terminated values as strings, multiples of four
    bytes as <cells>, anything else as [bytes]."""
    lines = ["/dts-v1/;", ""]
    lines += [f"/memreserve/ {address:#018x} {size:#018x};" for address, size in fdt.reservations]
    if fdt.reservations:
        lines.append("")

    def render(node: FdtNode, depth: int) -> None:
        indent = "\t" * depth
        lines.append(f"{indent}{node.name or '/'} {{")
        for name, value in node.props.items():
            lines.append(f"{indent}\t{name} = {_dts_value(value)};" if value else f"{indent}\t{name};")
        for child in node.children:
            lines.append("")
            render(child, depth + 1)
        lines.append(f"{indent}}};")

    render(fdt.root, 0)
    return "\n".join(lines) + "\n"


def _dts_value(value: bytes) -> str:
    if value[-1] == 0:
        parts = value[:-1].split(b"\0")
        if all(parts) and all(0x20 <= b < 0x7F for b in value[:-1] if b):
            return ", ".join('"' + p.decode("ascii").replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts)
    if len(value) % 4 == 0:
        return "<" + " ".join(f"{c:#x}" for (c,) in struct.iter_unpack(">I", value)) + ">"
    return "[" + " ".join(f"{b:02x}" for b in value) + "]"
