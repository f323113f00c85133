"""A read-only view of a flattened device tree with the accessors Linux-style parsing needs.

Every error names the source file, the node path and the property, so a vendor can find the line.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import DeviceTreeError
from .fdt import Fdt, FdtNode


class Node:
    def __init__(self, tree: Tree, raw: FdtNode, path: str, parent: Node | None) -> None:
        self.tree, self.raw, self.path, self.parent = tree, raw, path, parent
        self.name = raw.name
        self.children = [Node(tree, c, f"{path.rstrip('/')}/{c.name}", self) for c in raw.children]

    # --- raw properties ----------------------------------------------------------------------------------
    def __contains__(self, prop: str) -> bool:
        return prop in self.raw.props

    def error(self, prop: str | None, message: str) -> DeviceTreeError:
        where = f"{self.path}: {prop}" if prop else self.path
        return DeviceTreeError(f"{self.tree.source}: {where}: {message}")

    def bytes(self, prop: str) -> bytes:
        try:
            return self.raw.props[prop]
        except KeyError:
            raise self.error(prop, "missing required property") from None

    def cells(self, prop: str) -> list[int]:
        value = self.bytes(prop)
        if len(value) % 4:
            raise self.error(prop, f"{len(value)} bytes is not a list of 32-bit cells")
        return [int.from_bytes(value[i : i + 4], "big") for i in range(0, len(value), 4)]

    def u32(self, prop: str, default: int | None = None) -> int:
        if prop not in self and default is not None:
            return default
        cells = self.cells(prop)
        if len(cells) != 1:
            raise self.error(prop, f"expected one cell, found {len(cells)}")
        return cells[0]

    def u64(self, prop: str) -> int:
        cells = self.cells(prop)
        if len(cells) not in (1, 2):
            raise self.error(prop, f"expected a 32- or 64-bit value, found {len(cells)} cells")
        return cells[0] if len(cells) == 1 else cells[0] << 32 | cells[1]

    def strings(self, prop: str) -> list[str]:
        value = self.bytes(prop)
        if not value.endswith(b"\0"):
            raise self.error(prop, "is not a NUL-terminated string list")
        try:
            return value[:-1].decode("ascii").split("\0")
        except UnicodeDecodeError:
            raise self.error(prop, "is not an ASCII string list") from None

    def string(self, prop: str, default: str | None = None) -> str:
        if prop not in self and default is not None:
            return default
        values = self.strings(prop)
        if len(values) != 1:
            raise self.error(prop, f"expected one string, found {len(values)}")
        return values[0]

    @property
    def compatible(self) -> list[str]:
        return self.strings("compatible") if "compatible" in self else []

    @property
    def enabled(self) -> bool:
        return self.string("status", "okay") in ("okay", "ok")

    # --- addresses -------------------------------------------------------------------------------------
    def address_cells(self) -> int:
        """#address-cells this node gives its children (the spec's default is 2)."""
        n = self.u32("#address-cells", 2)
        if not 1 <= n <= 3:
            raise self.error("#address-cells", f"value {n} is not supported (1..3)")
        return n

    def size_cells(self) -> int:
        n = self.u32("#size-cells", 1)
        if not 0 <= n <= 2:
            raise self.error("#size-cells", f"value {n} is not supported (0..2)")
        return n

    def reg(self) -> list[tuple[int, int]]:
        """(address, size) pairs, translated through the parents' `ranges` to CPU physical addresses."""
        assert self.parent is not None
        ac, sc = self.parent.address_cells(), self.parent.size_cells()
        cells = self.cells("reg")
        if not cells or len(cells) % (ac + sc):
            raise self.error(
                "reg",
                f"{len(cells)} cells is not a multiple of #address-cells ({ac}) + #size-cells ({sc}) "
                f"given by {self.parent.path}",
            )
        out = []
        for i in range(0, len(cells), ac + sc):
            addr = _join(cells[i : i + ac])
            size = _join(cells[i + ac : i + ac + sc])
            out.append((self.parent.translate(addr, self, size), size))
        return out

    def translate(self, addr: int, child: Node, size: int) -> int:
        """Map a child bus address to the parent's address space (identity for the root or empty ranges)."""
        if self.parent is None or "ranges" not in self:
            return addr
        ranges = self.cells("ranges")
        if not ranges:
            return self.parent.translate(addr, self, size)
        cac, pac, sc = self.address_cells(), self.parent.address_cells(), self.size_cells()
        step = cac + pac + sc
        if len(ranges) % step:
            raise self.error("ranges", f"{len(ranges)} cells is not a multiple of {cac}+{pac}+{sc}")
        for i in range(0, len(ranges), step):
            cbase = _join(ranges[i : i + cac])
            pbase = _join(ranges[i + cac : i + cac + pac])
            rsize = _join(ranges[i + cac + pac : i + step])
            if cbase <= addr and addr + size <= cbase + rsize:
                return self.parent.translate(pbase + addr - cbase, self, size)
        raise child.error("reg", f"address {addr:#x} (+{size:#x}) is outside every range of {self.path}")

    # --- references --------------------------------------------------------------------------------------
    def phandle_target(self, prop: str, value: int) -> Node:
        target = self.tree.by_phandle.get(value)
        if target is None:
            raise self.error(prop, f"phandle {value:#x} does not refer to any node (dangling reference)")
        return target

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if c.name == name), None)

    def __repr__(self) -> str:
        return f"<Node {self.path}>"


def _join(cells: list[int]) -> int:
    value = 0
    for c in cells:
        value = value << 32 | c
    return value


class Tree:
    def __init__(self, fdt: Fdt, source: str) -> None:
        self.fdt, self.source = fdt, source
        self.by_phandle: dict[int, Node] = {}
        self.root = Node(self, fdt.root, "/", None)
        for node in self.root.walk():
            for prop in ("phandle", "linux,phandle"):
                if prop in node:
                    value = node.u32(prop)
                    other = self.by_phandle.get(value)
                    if other is not None and other is not node:
                        raise node.error(prop, f"phandle {value:#x} is also used by {other.path}")
                    self.by_phandle[value] = node

    def find(self, path: str) -> Node | None:
        node: Node | None = self.root
        for part in [p for p in path.split("/") if p]:
            node = node.child(part) if node else None
        return node
