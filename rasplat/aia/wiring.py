"""Builds the AIA interrupt controllers and RERI banks a device tree describes, and wires them up.

The factories in `rasplat.builtins` parse the `riscv,imsics`, `riscv,aplic` and `rasplat,reri-bank` nodes;
this module creates the devices once every node has been read (the IMSIC nodes of both levels, the APLIC
hierarchy), maps their MMIO regions and connects the lines: IMSIC files drive MEIP/SEIP, APLIC domains send
MSIs through the bus, RERI signals drive a local interrupt (35/43) or an APLIC wire. What firmware would
program at boot (the APLIC delegation and MSI address configuration, the RERI signal routing) is done
here, as OpenSBI does from the same device-tree properties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..reri import ReriBank
from .aplic import AplicDomain
from .imsic import Imsic, ImsicFile

if TYPE_CHECKING:
    from ..devicetree.build import BuildContext

LOCAL_RAS = {"high": 43, "low": 35}


def build_aia(ctx: BuildContext) -> None:
    """Create every IMSIC and APLIC the tree described (runs after all nodes were read)."""
    plat = ctx.platform
    imsics = plat.description.get("imsics", [])
    by_level = {d["level"]: d for d in imsics}
    harts = {h.hartid: h for h in plat.harts}
    for spec in imsics:
        for index, hartid in enumerate(spec["hart_ids"]):
            hart = harts[hartid]
            if hart.imsic is None:
                m_ids = by_level.get("M", spec)["num_ids"]
                s_ids = by_level.get("S", spec)["num_ids"]
                hart.imsic = Imsic(hartid, m_ids, s_num_ids=s_ids, events=plat.events)
                _connect(hart)
            file = hart.imsic.file(spec["level"])
            base = spec["reg"][0][0] + (index << (12 + spec["guest_index_bits"]))
            plat.add_mmio(f"{spec['node']}/hart{hartid}", base, ImsicFile.SIZE, file)
    _build_aplics(ctx, by_level)


def _connect(hart: Any) -> None:
    hart.imsic.m.connect(lambda level: hart.raise_interrupt_line(11, level))
    hart.imsic.s.connect(lambda level: hart.raise_interrupt_line(9, level))


def _build_aplics(ctx: BuildContext, imsic_by_level: dict[str, dict]) -> None:
    plat = ctx.platform
    specs = {d["node"]: d for d in plat.description.get("aplics", [])}
    children = {c for d in specs.values() for c in d["children"]}
    domains: dict[str, AplicDomain] = {}

    def create(path: str, parent: AplicDomain | None) -> None:
        spec = specs[path]
        level = spec["level"]
        domain = AplicDomain(
            path, level=level, parent=parent, num_sources=spec["num_sources"],
            delivery="msi" if spec["msi_parent"] else "direct", harts=len(plat.harts),
            size=spec["reg"][0][1], bus=plat.bus, events=plat.events, clock=plat.clock,
            on_line=_direct_line(plat, level),
        )  # fmt: skip
        domains[path] = domain
        plat.add_mmio(path, spec["reg"][0][0], domain.size, domain)
        plat.devices[path] = domain
        for child in spec["children"]:
            create(child, domain)

    for path in specs:
        if path not in children:
            create(path, None)
    for path, spec in specs.items():
        for d in spec["delegation"]:
            domains[path].delegate(d["first"], d["last"], domains[d["child"]])
        if domains[path].parent is None and spec["msi_parent"]:
            _program_msi_addresses(domains[path], imsic_by_level, len(plat.harts))
    plat.aplic_root = next((d for d in domains.values() if d.parent is None), None)


def _direct_line(plat: Any, level: str) -> Any:
    bit = 11 if level == "M" else 9

    def line(hart_index: int, asserted: bool) -> None:
        hart = plat.harts[hart_index]
        if hart.imsic is not None:  # an IMSIC in eidelivery 0x40000000 passes the APLIC's line through
            hart.imsic.file("M" if level == "M" else "S").set_direct_input(asserted)
        else:
            hart.raise_interrupt_line(bit, asserted)

    return line


def _program_msi_addresses(root: AplicDomain, imsics: dict[str, dict], harts: int) -> None:
    """What firmware writes into mmsiaddrcfg(h)/smsiaddrcfg(h) for the IMSIC layout (one group)."""
    m, s = imsics.get("M"), imsics.get("S")
    hart_bits = max(0, (harts - 1).bit_length())
    root.set_msi_addr_config(
        m["reg"][0][0] >> 12 if m else 0, lhxw=hart_bits, lhxs=0,
        s_base_ppn=s["reg"][0][0] >> 12 if s else 0, s_lhxs=s["guest_index_bits"] if s else 0,
    )  # fmt: skip


def build_reri_bank(ctx: BuildContext, node: Any) -> ReriBank:
    """A `rasplat,reri-bank` node: the bank, its MMIO page and where its signals go.

    `interrupts-extended` + `interrupt-names` ("ras-high", "ras-low") route a signal to a hart's local RAS
    interrupt (a `riscv,cpu-intc` with 43 or 35) or to a wired APLIC source (`<&aplic source flags>`)."""
    plat = ctx.platform
    records = node.u32("rasplat,records", 1)
    (base, size), *_ = node.reg()
    routes: dict[str, Any] = {}
    described: dict[str, tuple] = {}
    if "interrupts-extended" in node:
        from ..devicetree.build import interrupt_targets

        names = node.strings("interrupt-names") if "interrupt-names" in node else []
        targets = interrupt_targets(node)
        if len(names) != len(targets):
            raise node.error("interrupt-names", f"{len(names)} names for {len(targets)} interrupts-extended entries")
        for name, (target, spec) in zip(names, targets, strict=True):
            kind = {"ras-high": "high", "ras-low": "low", "ras-platform": "platform"}.get(name)
            if kind is None:
                raise node.error("interrupt-names", f"{name!r} is not ras-high, ras-low or ras-platform")
            routes[kind] = _route(ctx, node, target, spec)
            described[kind] = ("aplic", spec[0]) if "riscv,aplic" in target.compatible else ("local", spec[0])
    bank = ReriBank(node.path, records, clock=plat.clock, events=plat.events, source_type="memory",
                    on_level=lambda kind, level: routes[kind](level) if kind in routes else None)  # fmt: skip
    for record in range(records):  # boot firmware enables the records and picks the signals per severity
        bank.set_control(record, enable=True, ces=node.string("rasplat,ce-signal", "low"),
                         ueds=node.string("rasplat,ued-signal", "low"),
                         uecs=node.string("rasplat,uec-signal", "high"))  # fmt: skip
    bank.routes = described  # for the drivers: where each signal goes
    ctx.map_mmio(node, base, max(size, ReriBank.SIZE), bank)
    plat.devices[node.path] = bank
    return bank


def _route(ctx: BuildContext, node: Any, target: Any, spec: list[int]) -> Any:
    if "riscv,cpu-intc" in target.compatible:
        hart = ctx.hart_by_intc.get(target.u32("phandle"))
        if hart is None or spec[0] not in (35, 43):
            raise node.error("interrupts-extended", f"{target.path} {spec}: not a hart's local RAS interrupt (35/43)")
        return lambda level, hart=hart, bit=spec[0]: hart.raise_interrupt_line(bit, level)
    if "riscv,aplic" in target.compatible:
        source = spec[0]
        return lambda level: ctx.platform.aplic_root.set_input(source, level)
    raise node.error("interrupts-extended", f"{target.path} is neither a cpu interrupt controller nor an APLIC")
