"""The kernel model's CXL memory-device driver (drivers/cxl in brief): at boot it probes each Type-3 device
through its MMIO mailbox (Identify, Set Timestamp, event interrupts in MSI mode) and routes the device's
event interrupt; the handler drains the event logs the way cxl_mem_get_event_records does, which logs
trace-shaped events (`cxl_general_media`, `cxl_poison`, ...) like rasdaemon's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..memory.cxl import CXLHost, MailboxDriver, Type3Device
from ..memory.cxl.regs import MAILBOX_OFFSET

if TYPE_CHECKING:
    from .kernel import Kernel


def probe_cxl(kernel: Kernel) -> list[CXLHost]:
    plat = kernel.plat
    hosts = []
    for path, dev in plat.devices.items():
        if not isinstance(dev, Type3Device):
            continue
        base = plat.bus.region(path).base
        host = CXLHost(dev, mailbox=MailboxDriver(plat.bus, base + MAILBOX_OFFSET), events=plat.events)
        host.probe(vectors=(1, 1, 1, 1))
        source = getattr(dev, "irq_source", None)
        if source is not None and plat.aplic_root is not None:
            kernel.irq.route_wired(source, lambda _identity, host=host: host.drain_events())
        hosts.append(host)
        plat.events.emit("cxl.probe", device=path, serial=host.identity.get("serial") if host.identity else None)
    return hosts
