"""rasplat's own devices, backends and policies, registered through the same hooks third parties use."""

from __future__ import annotations

from typing import Any

from .hookspecs import hookimpl
from .memory import RAM

# num-ids / num-sources ranges of the bindings (riscv,imsics.yaml, riscv,aplic.yaml)
IMSIC_IDS = range(63, 2048)
APLIC_SOURCES = range(1, 1024)


@hookimpl
def rasplat_register_backends(register: Any) -> None:
    register("ram", lambda ctx, node, size: RAM(size, name=node.path))


@hookimpl
def rasplat_register_devices(register: Any) -> None:
    register("simple-bus", lambda ctx, node: None)  # its children are built like any other node
    register("riscv,imsics", _imsics)
    register("riscv,aplic", _aplic)
    register("pmem-region", _pmem_region)


@hookimpl(trylast=True)
def rasplat_recovery_policy(platform: Any, failure: dict) -> dict | None:
    """What Linux does: hand the error back to the caller, which reacts in its own way."""
    return {"action": "propagate", "policy": "linux"}


def _imsics(ctx: Any, node: Any) -> None:
    from .devicetree.build import interrupt_targets

    num_ids = node.u32("riscv,num-ids")
    if num_ids not in IMSIC_IDS or num_ids % 64 != 63:
        raise node.error("riscv,num-ids", f"{num_ids} is not one of 63, 127, ... 2047 (63..2047, N % 64 == 63)")
    targets = interrupt_targets(node)
    harts = []
    for intc, spec in targets:
        hart = ctx.hart_by_intc.get(intc.u32("phandle"))
        if hart is None:
            raise node.error("interrupts-extended", f"{intc.path} is not the interrupt controller of a hart")
        if spec[0] not in (9, 11):
            raise node.error("interrupts-extended", f"{intc.path}: interrupt {spec[0]} is neither SEI (9) nor MEI (11)")
        harts.append({"hart": hart.hartid, "level": "M" if spec[0] == 11 else "S"})
    ctx.platform.description.setdefault("imsics", []).append(
        {"node": node.path, "reg": node.reg(), "num_ids": num_ids, "harts": harts,
         "guest_index_bits": node.u32("riscv,guest-index-bits", 0)}
    )  # fmt: skip


def _aplic(ctx: Any, node: Any) -> None:
    from .devicetree.build import interrupt_targets

    sources = node.u32("riscv,num-sources")
    if sources not in APLIC_SOURCES:
        raise node.error("riscv,num-sources", f"{sources} is outside 1..1023")
    if "msi-parent" not in node and "interrupts-extended" not in node:
        raise node.error("msi-parent", "an APLIC domain needs msi-parent (MSI mode) or interrupts-extended (direct)")
    children = [node.phandle_target("riscv,children", p).path for p in node.cells("riscv,children")] if (
        "riscv,children" in node) else []  # fmt: skip
    delegation = []
    prop = "riscv,delegation" if "riscv,delegation" in node else "riscv,delegate"
    if prop in node:
        cells = node.cells(prop)
        if len(cells) % 3:
            raise node.error(prop, f"{len(cells)} cells is not a list of (child, first, last) triples")
        for i in range(0, len(cells), 3):
            child = node.phandle_target(prop, cells[i])
            if child.path not in children:
                raise node.error(prop, f"{child.path} is not listed in riscv,children")
            delegation.append({"child": child.path, "first": cells[i + 1], "last": cells[i + 2]})
    msi_parent = node.phandle_target("msi-parent", node.cells("msi-parent")[0]).path if "msi-parent" in node else None
    direct = [(t.path, s) for t, s in interrupt_targets(node)] if "interrupts-extended" in node else []
    ctx.platform.description.setdefault("aplics", []).append(
        {"node": node.path, "reg": node.reg(), "num_sources": sources, "msi_parent": msi_parent,
         "children": children, "delegation": delegation, "direct": direct}
    )  # fmt: skip


def _pmem_region(ctx: Any, node: Any) -> None:
    for i, (base, size) in enumerate(node.reg()):
        ctx.map_memory(node, base, size, RAM(size, name=node.path), i)
    ctx.platform.description.setdefault("pmem", []).append(
        {"node": node.path, "reg": node.reg(), "volatile": "volatile" in node}
    )
