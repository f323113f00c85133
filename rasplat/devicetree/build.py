"""Device tree in, platform out.

`load_tree(source)` reads a `.dts` (dtlib) or `.dtb` (our FDT codec) into one `Tree`, so both inputs
build the same platform. `build(tree, platform)` walks it the way Linux does: `/cpus` gives the harts,
`memory` nodes the memory (backend chosen by `rasplat,backend`), every other node is built by the factory
registered for the first of its `compatible` strings; unknown compatibles are reported once and skipped.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DeviceTreeError
from .fdt import FDT_MAGIC, Fdt, from_dtlib, parse_dtb
from .tree import Node, Tree

if TYPE_CHECKING:
    from ..hart import Hart
    from ..platform import Platform

# properties that hold phandles, and how to step through them: (property, extra cells after each phandle)
_PHANDLE_LISTS = {"interrupt-parent": 0, "msi-parent": None, "riscv,children": 0, "riscv,delegation": 2,
                  "riscv,delegate": 2, "interrupts-extended": "#interrupt-cells"}  # fmt: skip


def load_tree(source: str | os.PathLike | bytes) -> Tree:
    """Parse a DTS or DTB (path or bytes) into a Tree. Errors are DeviceTreeError naming the file."""
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), "<bytes>"
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            raise DeviceTreeError(f"{name}: cannot read ({e.strerror})") from None
    if data[:4] == FDT_MAGIC.to_bytes(4, "big"):
        return Tree(parse_dtb(data, name), name)
    if name.endswith(".dtb"):
        parse_dtb(data, name)  # raises the codec's precise message (bad magic, truncation...)
    return Tree(_parse_dts(data, name), name)


def _parse_dts(data: bytes, name: str) -> Fdt:
    from devicetree import dtlib

    path, tmp = name, None
    if name == "<bytes>":
        tmp = tempfile.NamedTemporaryFile("wb", suffix=".dts", delete=False)
        tmp.write(data)
        tmp.close()
        path = tmp.name
    try:
        dt = dtlib.DT(path, include_path=[os.path.dirname(os.path.abspath(path))])
    except dtlib.DTError as e:
        raise DeviceTreeError(f"{name}: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DeviceTreeError(f"{name}: cannot parse ({e})") from None
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    return from_dtlib(dt)


@dataclass
class BuildContext:
    """What a device factory gets besides its node: the platform being built and the tree."""

    platform: Platform
    tree: Tree
    hart_by_intc: dict[int, Hart] = field(default_factory=dict)  # cpu-intc phandle -> hart
    unknown: dict[str, list[str]] = field(default_factory=dict)  # compatible -> node paths skipped
    finalizers: dict[str, Any] = field(default_factory=dict)  # run once, after every node was built

    def finally_(self, name: str, fn: Any) -> None:
        """Run fn(ctx) once after the walk (for devices that need several nodes, like the AIA)."""
        self.finalizers.setdefault(name, fn)

    def map_memory(self, node: Node, base: int, size: int, backend: Any, index: int = 0) -> None:
        self._map(node, base, size, backend, "memory", index)

    def map_mmio(self, node: Node, base: int, size: int, device: Any, index: int = 0) -> None:
        self._map(node, base, size, device, "mmio", index)

    def _map(self, node: Node, base: int, size: int, target: Any, kind: str, index: int) -> None:
        name = node.path if index == 0 else f"{node.path}#{index}"
        try:
            self.platform.bus.map(name, base, size, target, kind)
        except ConfigError as e:
            raise node.error("reg", str(e).removeprefix("bus: ")) from None


def interrupt_targets(node: Node, prop: str = "interrupts-extended") -> list[tuple[Node, list[int]]]:
    """(controller node, specifier cells) pairs of a phandle list such as interrupts-extended."""
    cells, out, i = node.cells(prop), [], 0
    while i < len(cells):
        target = node.phandle_target(prop, cells[i])
        n = target.u32("#interrupt-cells", 1)
        if i + 1 + n > len(cells):
            raise node.error(prop, f"entry for {target.path} needs {n} cells, only {len(cells) - i - 1} left")
        out.append((target, cells[i + 1 : i + 1 + n]))
        i += 1 + n
    return out


def build(tree: Tree, platform: Platform) -> BuildContext:
    ctx = BuildContext(platform, tree)
    _check_references(tree)
    platform.description.update(source=tree.source, cpus=[])
    cpus = tree.find("/cpus")
    if cpus is not None and "timebase-frequency" in cpus:
        platform.timebase_hz = cpus.u32("timebase-frequency")
        if not platform.timebase_hz:
            raise cpus.error("timebase-frequency", "must not be 0")
    for hart, (hartid, node) in zip(platform.harts, hart_ids(tree), strict=True):
        cpu = describe_cpu(node)
        hart.isa_string = cpu["isa"]
        platform.description["cpus"].append({"hart": hartid, "node": node.path, "isa": cpu["isa"], "mmu": cpu["mmu"]})
        if cpu["intc"] is not None and "phandle" in cpu["intc"]:
            ctx.hart_by_intc[cpu["intc"].u32("phandle")] = hart
    _build_memory(ctx)
    plugins = platform.plugins
    for node in tree.root.walk():
        if node.parent is None or not node.enabled or node.parent.path in ("/cpus", "/rasplat"):
            continue
        if node.path.startswith(("/cpus", "/rasplat")) or _is_memory(node):
            continue
        compatible = node.compatible
        if not compatible:
            continue
        factory = next((plugins.devices[c] for c in compatible if c in plugins.devices), None)
        if factory is None:
            ctx.unknown.setdefault(compatible[0], []).append(node.path)
            continue
        factory(ctx, node)
    for fn in ctx.finalizers.values():
        fn(ctx)
    _attach_error_banks(ctx)
    for compatible, paths in ctx.unknown.items():
        platform.events.emit("dt.unknown", compatible=compatible, nodes=paths)
    platform.description["unknown"] = ctx.unknown
    _build_rasplat_node(ctx)
    return ctx


def hart_ids(tree: Tree) -> list[tuple[int, Node]]:
    """The enabled cpu nodes under /cpus, by hart id (`reg`)."""
    cpus = tree.find("/cpus")
    if cpus is None:
        raise DeviceTreeError(f"{tree.source}: /cpus: missing (the root must contain a /cpus node)")
    harts = []
    for node in cpus.children:
        if node.string("device_type", "") != "cpu" or not node.enabled:
            continue
        if "reg" not in node:
            raise node.error("reg", "missing required property (the hart id)")
        cells = node.cells("reg")
        if len(cells) != cpus.address_cells():
            raise node.error("reg", f"{len(cells)} cells, but /cpus has #address-cells = <{cpus.address_cells()}>")
        harts.append((cells[-1] if len(cells) == 1 else cells[0] << 32 | cells[1], node))
    if not harts:
        raise cpus.error(None, "no enabled cpu node (device_type = \"cpu\")")
    seen: dict[int, str] = {}
    for hartid, node in harts:
        if hartid in seen:
            raise node.error("reg", f"hart id {hartid} is also used by {seen[hartid]}")
        seen[hartid] = node.path
    return sorted(harts, key=lambda h: h[0])


def describe_cpu(node: Node) -> dict:
    """ISA and MMU of a cpu node, as Linux reads them (riscv,isa or riscv,isa-base + riscv,isa-extensions)."""
    if "riscv,isa-base" in node or "riscv,isa-extensions" in node:
        base = node.string("riscv,isa-base")
        extensions = [e for e in node.strings("riscv,isa-extensions") if e != base[-1]]
        isa = base + "".join(e for e in extensions if len(e) == 1) + "".join(f"_{e}" for e in extensions if len(e) > 1)
    elif "riscv,isa" in node:
        isa = node.string("riscv,isa")
    else:
        raise node.error("riscv,isa", "missing: a cpu needs riscv,isa or riscv,isa-base + riscv,isa-extensions")
    intc = next((c for c in node.children if "riscv,cpu-intc" in c.compatible), None)
    return {"isa": isa, "mmu": node.string("mmu-type", "riscv,none"), "intc": intc}


def _is_memory(node: Node) -> bool:
    return "device_type" in node and node.string("device_type") == "memory"


def _build_memory(ctx: BuildContext) -> None:
    backends = ctx.platform.plugins.backends
    nodes = [n for n in ctx.tree.root.children if _is_memory(n) and n.enabled]
    if not nodes:
        raise DeviceTreeError(f"{ctx.tree.source}: /: no memory node (device_type = \"memory\")")
    for node in nodes:
        name = node.string("rasplat,backend", "ram")
        if name not in backends:
            raise node.error("rasplat,backend", f"unknown backend {name!r} (known: {', '.join(sorted(backends))})")
        for i, (base, size) in enumerate(node.reg()):
            ctx.map_memory(node, base, size, backends[name](ctx, node, base, size), i)


def _attach_error_banks(ctx: BuildContext) -> None:
    """`rasplat,reri-bank = <&bank [record]>` on a memory node: its errors are logged in that bank."""
    for node in ctx.tree.root.walk():
        if "rasplat,reri-bank" not in node:
            continue
        cells = node.cells("rasplat,reri-bank")
        bank_node = node.phandle_target("rasplat,reri-bank", cells[0])
        bank = ctx.platform.devices.get(bank_node.path)
        if bank is None:
            raise node.error("rasplat,reri-bank", f"{bank_node.path} is not a rasplat,reri-bank")
        record = cells[1] if len(cells) > 1 else 0
        if record >= bank.n_records:
            raise node.error("rasplat,reri-bank", f"{bank_node.path} has no record {record}")
        for i in range(len(node.reg())):
            ctx.platform.ras.attach(node.path if i == 0 else f"{node.path}#{i}", bank, record)


def _check_references(tree: Tree) -> None:
    """Every phandle in the standard reference properties must name a node."""
    for node in tree.root.walk():
        for prop, extra in _PHANDLE_LISTS.items():
            if prop not in node:
                continue
            cells = node.cells(prop)
            if extra is None:  # msi-parent: phandle + #msi-cells of the target
                i = 0
                while i < len(cells):
                    i += 1 + node.phandle_target(prop, cells[i]).u32("#msi-cells", 0)
            elif extra == "#interrupt-cells":
                interrupt_targets(node, prop)
            else:
                for i in range(0, len(cells), 1 + extra):
                    node.phandle_target(prop, cells[i])


def _build_rasplat_node(ctx: BuildContext) -> None:
    """/rasplat: `rasplat,policy` and `error-sources` children that inject at a simulated time."""
    node = ctx.tree.find("/rasplat")
    if node is None:
        return
    plat = ctx.platform
    if "rasplat,policy" in node:
        plat.policy = node.string("rasplat,policy")
    for prop, key in (("rasplat,ce-action", "action"), ("rasplat,ce-threshold", "threshold"),
                      ("rasplat,ce-cycle-s", "cycle_s")):  # fmt: skip
        if prop in node:
            plat.ce_policy[key] = node.string(prop) if key == "action" else node.u32(prop)
    if "rasplat,memory-failure" in node:
        plat.memory_failure = node.string("rasplat,memory-failure")
        if plat.memory_failure not in ("riscv-today", "supported"):
            raise node.error("rasplat,memory-failure", f"{plat.memory_failure!r} is not riscv-today or supported")
    if "rasplat,ras-delivery" in node:
        plat.ras_delivery = node.string("rasplat,ras-delivery")
        if plat.ras_delivery not in ("kernel-first", "firmware-first"):
            raise node.error("rasplat,ras-delivery", f"{plat.ras_delivery!r} is not kernel-first or firmware-first")
    sources = node.child("error-sources")
    for src in sources.children if sources else []:
        kind = src.string("rasplat,source")
        addr = src.u64("rasplat,addr")
        at = src.u64("rasplat,at-ns") if "rasplat,at-ns" in src else 0
        params = {p.replace("-", "_"): _value(src, p) for p in src.raw.props if not p.startswith("rasplat,")}
        if kind not in plat.plugins.error_sources and not plat.can_inject(kind, addr):
            raise src.error("rasplat,source", f"unknown error source {kind!r} at {addr:#x}")

        def fire(_now: int, kind: str = kind, addr: int = addr, params: dict = params, src: Node = src) -> None:
            try:
                plat.inject(kind, addr=addr, **params)
            except ConfigError as e:
                raise src.error(None, str(e)) from None

        if at == 0:
            fire(0)
        else:
            tag = f"error-source:{src.path}"
            plat.clock.at(at, fire, tag=tag)
            plat.timed_injections[tag] = (at, fire)  # a checkpoint restore re-arms those still pending


def _value(node: Node, prop: str) -> int | str:
    """A parameter from a property: one or two cells give an integer, otherwise a string."""
    raw = node.bytes(prop)
    if len(raw) in (4, 8) and not raw.endswith(b"\0"):
        return node.u64(prop)
    return node.string(prop)
