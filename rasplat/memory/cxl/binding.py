"""Device-tree bindings for CXL.mem (rasplat's own: real CXL is enumerated over PCIe and ACPI CEDT, so a
platform here describes the result of that enumeration).

    cxl_mem0: cxl-memdev@30000000 {
        compatible = "rasplat,cxl-type3";
        reg = <0x0 0x30000000 0x0 0x2000>;             /* CXL device registers; mailbox at +0x1000 */
        rasplat,volatile-size = /bits/ 64 <0x10000000>;
        rasplat,persistent-size = /bits/ 64 <0x0>;      /* optional */
        rasplat,serial = /bits/ 64 <0x1234>;            /* optional */
        rasplat,payload-size = <2048>;                  /* optional: mailbox payload, 256 B .. 1 MiB */
        rasplat,poison-max = <256>;                     /* optional: poison list capacity */
        rasplat,event-log-capacity = <8>;               /* optional: records per event log */
        interrupts-extended = <&aplic_m 30 4>;          /* optional: the event interrupt, a wired APLIC source */
    };
    cxl-region@100000000 {
        compatible = "rasplat,cxl-region";
        reg = <0x1 0x00000000 0x0 0x10000000>;        /* the HPA window */
        rasplat,targets = <&cxl_mem0>;                  /* interleave set, in position order */
        rasplat,granularity = <256>;
        rasplat,reri-bank = <&ras_cxl>;                 /* optional: where its consumed poison is logged */
    };
"""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from .type3 import CXLRegion, Type3Device, window_target


def cxl_type3(ctx: Any, node: Any) -> None:
    plat = ctx.platform
    (base, size), *_ = node.reg()
    try:
        dev = Type3Device(
            node.path, volatile_size=node.u64("rasplat,volatile-size") if "rasplat,volatile-size" in node else 1 << 28,
            persistent_size=node.u64("rasplat,persistent-size") if "rasplat,persistent-size" in node else 0,
            serial=node.u64("rasplat,serial") if "rasplat,serial" in node else 0, clock=plat.clock,
            payload_size=node.u32("rasplat,payload-size", 2048), poison_max=node.u32("rasplat,poison-max", 256),
            event_log_capacity=node.u32("rasplat,event-log-capacity", 8),
            events=plat.events, error_sink=plat.ras.sink(node.path),
            on_event_interrupt=lambda log, setting: _raise(plat, node.path),
        )  # fmt: skip
    except ConfigError as e:
        raise node.error(None, str(e)) from None
    if size < dev.registers.size:
        raise node.error("reg", f"{size:#x} bytes cannot hold the device registers ({dev.registers.size:#x})")
    ctx.map_mmio(node, base, size, dev.registers)
    plat.devices[node.path] = dev
    if "interrupts-extended" in node:
        from ...devicetree.build import interrupt_targets

        (target, spec), *_ = interrupt_targets(node)
        if "riscv,aplic" not in target.compatible:
            raise node.error("interrupts-extended", "the event interrupt must be a wired APLIC source")
        dev.irq_source = spec[0]  # the kernel's CXL driver routes it; the device pulses the wire


def _raise(plat: Any, path: str) -> None:
    """The device's event interrupt: an edge on its APLIC wire (the kernel's driver claims it)."""
    dev = plat.devices[path]
    source = getattr(dev, "irq_source", None)
    if source is None or plat.aplic_root is None:
        return
    plat.aplic_root.set_input(source, True)
    plat.aplic_root.set_input(source, False)


def cxl_region(ctx: Any, node: Any) -> None:
    ctx.finally_(f"cxl-region {node.path}", lambda ctx: _build_region(ctx, node))


def _build_region(ctx: Any, node: Any) -> None:
    plat = ctx.platform
    devices = []
    for phandle in node.cells("rasplat,targets"):
        target = node.phandle_target("rasplat,targets", phandle)
        dev = plat.devices.get(target.path)
        if not isinstance(dev, Type3Device):
            raise node.error("rasplat,targets", f"{target.path} is not a rasplat,cxl-type3 device")
        devices.append(dev)
    (base, size), *_ = node.reg()
    try:
        region = CXLRegion(devices, base, size, granularity=node.u32("rasplat,granularity", 256), name=node.path)
    except ConfigError as e:
        raise node.error(None, str(e)) from None
    ctx.map_memory(node, base, size, window_target(region))
    plat.devices[node.path] = region
    for dev in devices:  # device-detected errors (media, RAS capability) go to the region's bank too
        dev.error_sink = plat.ras.sink(node.path)
