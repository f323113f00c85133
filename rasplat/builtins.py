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
    register("ram", lambda ctx, node, base, size: RAM(size, name=node.path))
    register("dram-ecc", _dram_ecc)


def _geometry_for(size: int) -> Any:
    """A single-DIMM geometry (16 banks x 1024 columns of 8 bytes per row) with enough rows for size."""
    from .memory.dram_ecc import DramGeometry

    per_row = 16 * 1024 * 8
    return DramGeometry(rows=max(1, -(-size // per_row)))


def _dram_ecc(ctx: Any, node: Any, base: int, size: int) -> Any:
    """ECC DRAM. Properties: rasplat,ecc-codec, rasplat,channels / dimms-per-channel / ranks / banks / rows /
    columns / interleave (geometry), rasplat,dimm-labels, rasplat,scrub-cycle-s (patrol scrub, off if absent)."""
    from .errors import ConfigError
    from .memory.dram_ecc import DramEcc, DramGeometry

    fields = {f: node.u32(f"rasplat,{f.replace('_', '-')}") for f in
              ("channels", "dimms_per_channel", "ranks", "banks", "rows", "columns", "interleave")
              if f"rasplat,{f.replace('_', '-')}" in node}  # fmt: skip
    labels = tuple(node.strings("rasplat,dimm-labels")) if "rasplat,dimm-labels" in node else ()
    plat = ctx.platform
    region = node.path if base == node.reg()[0][0] else f"{node.path}#{[b for b, _ in node.reg()].index(base)}"
    try:
        geometry = DramGeometry(**fields, labels=labels) if (fields or labels) else None
        return DramEcc(size, name=node.path, base=base, codec=node.string("rasplat,ecc-codec", "hsiao-72-64"),
                       geometry=geometry if geometry is not None else _geometry_for(size),
                       events=plat.events, clock=plat.clock, error_sink=plat.ras.sink(region),
                       scrub_cycle_s=node.u32("rasplat,scrub-cycle-s") if "rasplat,scrub-cycle-s" in node else None,
                       demand_ue_severity="UED")  # fmt: skip
    except ConfigError as e:
        raise node.error(None, str(e)) from None


@hookimpl
def rasplat_register_devices(register: Any) -> None:
    register("simple-bus", lambda ctx, node: None)  # its children are built like any other node
    register("riscv,imsics", _imsics)
    register("riscv,aplic", _aplic)
    register("pmem-region", _pmem_region)
    register("rasplat,reri-bank", _reri_bank)
    register("rasplat,cxl-type3", _cxl_type3)
    register("rasplat,cxl-region", _cxl_region)


@hookimpl
def rasplat_event_observer(platform: Any) -> Any:
    """rasdaemon's page isolation for corrected errors: per-page CE counts, threshold and decay, then a soft
    or hard offline through the kernel model (/rasplat: rasplat,ce-action, rasplat,ce-threshold,
    rasplat,ce-cycle-s; defaults soft, 50, 24 h). Built when the first CE arrives, from the settings then."""
    return CeAccounting(platform)


class CeAccounting:
    """The observer behind `rasplat_event_observer`. Its per-page counts are state, so it has what every
    stateful event observer needs to be checkpointed: `checkpoint_key`, `snapshot()` and `restore()`."""

    checkpoint_key = "ce-accounting"

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.policy: Any = None  # a CePolicy, once the first CE arrived

    def __call__(self, event: dict) -> None:
        if event["kind"] != "ecc.ce":
            return
        if self.policy is None:
            # soft_offline_page/hard_offline_page exist only with CONFIG_MEMORY_FAILURE: not on RISC-V today,
            # where rasdaemon can only account
            self.policy = self._build(dict(self.platform.ce_policy), self.platform.memory_failure == "supported")
        self.policy.on_event(event)

    def _build(self, settings: dict, supported: bool) -> Any:
        from .ras.ce_policy import CePolicy

        kernel = self.platform.kernel
        return CePolicy(
            self.platform.clock, kernel.soft_offline_page if supported else None,
            kernel.hard_offline_page if supported else None, action=settings["action"],
            threshold=settings["threshold"], cycle_s=settings["cycle_s"], events=self.platform.events,
        )  # fmt: skip

    def snapshot(self) -> dict | None:
        p = self.policy
        if p is None:
            return None
        settings = {"action": p.configured_action, "threshold": p.threshold, "cycle_s": p.cycle_s}
        pages = [[r.pfn, r.count, r.start, r.excess, r.state] for r in p.pages.values()]
        return {"settings": settings, "supported": p.soft_offline is not None, "pages": pages}

    def restore(self, state: dict | None) -> None:
        from .ras.ce_policy import PageRecord

        self.policy = None if state is None else self._build(state["settings"], state["supported"])
        if self.policy is not None:
            self.policy.pages = {pfn: PageRecord(pfn, *rest) for pfn, *rest in state["pages"]}


@hookimpl(trylast=True)
def rasplat_recovery_policy(platform: Any, failure: dict) -> dict | None:
    """The built-in policies. `linux` (the default) does what Linux does: hand the error back to the caller,
    which reacts in its own way. `panic` stops the system on any failed copy (vm.memory_failure_recovery = 0
    taken to its end); `isolate` takes the source page offline at once, even where memory_failure() is a stub
    (what a vendor kernel with its own page retirement does)."""
    policy = failure.get("policy", "linux")
    if policy == "panic":
        return {"action": "panic", "policy": "panic", "reason": f"{failure.get('caller')}: failed copy"}
    if policy == "isolate":
        return {"action": "isolate", "policy": "isolate"}
    if policy != "linux":  # a name no plugin answered: most likely a typo or a plugin that is not installed
        return {"action": "propagate", "policy": "linux",
                "warning": f"no plugin answers recovery policy {policy!r}: Linux's behaviour applies"}  # fmt: skip
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
    levels = {h["level"] for h in harts}
    if len(levels) != 1:
        raise node.error("interrupts-extended", "an IMSIC node covers one privilege level (all 11 or all 9)")
    guest_bits = node.u32("riscv,guest-index-bits", 0)
    (base, size), *_ = node.reg()
    if size < len(harts) << (12 + guest_bits):
        raise node.error("reg", f"{size:#x} bytes cannot hold the interrupt files of {len(harts)} harts")
    ctx.platform.description.setdefault("imsics", []).append(
        {"node": node.path, "reg": node.reg(), "num_ids": num_ids, "harts": harts, "level": levels.pop(),
         "hart_ids": [h["hart"] for h in harts], "guest_index_bits": guest_bits}
    )  # fmt: skip
    ctx.finally_("aia", _build_aia)


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
    msi_node = node.phandle_target("msi-parent", node.cells("msi-parent")[0]) if "msi-parent" in node else None
    direct = [(t.path, s) for t, s in interrupt_targets(node)] if "interrupts-extended" in node else []
    if msi_node is not None:
        specs = [interrupt_targets(msi_node)[0][1][0]] if "interrupts-extended" in msi_node else [11]
    else:
        specs = [s[0] for _, s in direct]
    level = "M" if 11 in specs else "S"
    ctx.platform.description.setdefault("aplics", []).append(
        {"node": node.path, "reg": node.reg(), "num_sources": sources, "level": level,
         "msi_parent": msi_node.path if msi_node else None, "children": children, "delegation": delegation,
         "direct": direct}
    )  # fmt: skip
    ctx.finally_("aia", _build_aia)


def _build_aia(ctx: Any) -> None:
    from .aia.wiring import build_aia

    build_aia(ctx)


def _cxl_type3(ctx: Any, node: Any) -> None:
    from .memory.cxl.binding import cxl_type3

    cxl_type3(ctx, node)


def _cxl_region(ctx: Any, node: Any) -> None:
    from .memory.cxl.binding import cxl_region

    cxl_region(ctx, node)


def _reri_bank(ctx: Any, node: Any) -> None:
    from .aia.wiring import build_reri_bank

    build_reri_bank(ctx, node)


def _pmem_region(ctx: Any, node: Any) -> None:
    from .memory.pmem import pmem_region

    pmem_region(ctx, node)
