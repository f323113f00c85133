"""Interrupts in the kernel model, and the RAS drivers that read RERI error records.

Kernel-first: the local RAS interrupts (43 high, 35 low) and supervisor external interrupts are delegated
to S-mode; an external interrupt is claimed through `stopei` (as Linux's IMSIC driver does with
`csrrw rd, stopei, x0`) and dispatched by identity. Firmware-first: the RAS signals stay in M-mode, the
firmware model reads the records and injects an SBI SSE event, and the kernel's SSE handler reads what the
firmware collected. Either way the kernel logs a `reri_event` shaped like rasdaemon's table.

Drivers program the hardware through its registers: the APLIC over MMIO, the IMSIC through
`siselect`/`sireg` (or `miselect`/`mireg` for the firmware), the RERI bank over MMIO.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..reri import ReriBank, decode_status

if TYPE_CHECKING:
    from ..hart import Hart
    from .kernel import Kernel

SEI, MEI, RAS_LOW, RAS_HIGH = 9, 11, 35, 43
SIGNAL_OF_IRQ = {RAS_HIGH: "high", RAS_LOW: "low"}
# APLIC registers (AdvPLIC.adoc register map)
DOMAINCFG, SOURCECFG, SETIENUM, TARGET = 0x0000, 0x0004, 0x1EDC, 0x3004
DOMAINCFG_IE = 1 << 8
SM_LEVEL_HIGH = 6
# RERI record registers
RECORD, CONTROL, STATUS, ADDR_INFO, INFO, SUPPL_INFO, TIMESTAMP = 64, 0, 8, 16, 24, 32, 40
SINV = 1 << 48
FIRST_EIID = 2  # Linux keeps identity 1 for IPIs (IMSIC_IPI_ID)


class Irq:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.plat = kernel.plat
        self.handlers: dict[tuple[str, int], Callable[[int], None]] = {}  # (level, identity) -> handler
        self._next_eiid = {"S": FIRST_EIID, "M": FIRST_EIID}
        self.m_signals: dict[int, str] = {}  # M-file identity -> RAS signal (firmware-first over the APLIC)

    # --- setup at boot -----------------------------------------------------------------------------------------
    def setup(self, hart: Hart, delivery: str) -> None:
        """Route every RERI bank's signals for kernel-first or firmware-first delivery."""
        csr = hart.csr
        local_ras = (1 << RAS_HIGH) | (1 << RAS_LOW)
        if delivery == "firmware-first":
            csr.mideleg &= ~local_ras
            csr.mie |= local_ras | (1 << MEI)
        else:
            csr.mideleg |= local_ras
            csr.mie |= local_ras | (1 << SEI)
        for bank in self.banks():
            for signal, route in getattr(bank, "routes", {}).items():
                if route[0] == "aplic":
                    level = "M" if delivery == "firmware-first" else "S"
                    eiid = self._route_aplic_source(hart, route[1], level)
                    if level == "M":
                        self.m_signals[eiid] = signal
                    else:
                        self.handlers[(level, eiid)] = lambda _id, s=signal: self._ras_signal(s)
        self.plat.events.emit("ras.setup", delivery=delivery, banks=[b.name for b in self.banks()])

    def route_wired(self, source: int, handler: Callable[[int], object]) -> int:
        """request_irq for a device on a wired APLIC source: routed to the S-level IMSIC file of hart 0."""
        eiid = self._route_aplic_source(self.kernel.hart, source, "S")
        self.handlers[("S", eiid)] = handler
        return eiid

    def _route_aplic_source(self, hart: Hart, source: int, level: str) -> int:
        """What Linux's APLIC-MSI driver (or the firmware, for M) does for one wired source: level-high mode,
        target = this hart + a fresh EIID, enabled; and the IMSIC file accepts that identity."""
        root = self.plat.aplic_root
        domain = root if level == "M" else next((c for c in root.children if c.level == "S"), None)
        if domain is None:
            raise RuntimeError("no S-level APLIC domain to route RAS sources to")
        if level == "M":
            root.store(SOURCECFG + 4 * (source - 1), 4, SM_LEVEL_HIGH)  # the firmware keeps this source in M
        eiid = self._next_eiid[level]
        self._next_eiid[level] += 1
        write = self.plat.bus.write
        base = self.plat.bus.region(domain.name).base
        write(base + DOMAINCFG, DOMAINCFG_IE.to_bytes(4, "little"))
        write(base + SOURCECFG + 4 * (source - 1), SM_LEVEL_HIGH.to_bytes(4, "little"))
        write(base + TARGET + 4 * (source - 1), (self.plat.harts.index(hart) << 18 | eiid).to_bytes(4, "little"))
        write(base + SETIENUM, source.to_bytes(4, "little"))
        prefix = 0x350 if level == "M" else 0x150  # miselect / siselect (ireg is +1)
        hart.csr.write(prefix, 0x70)  # eidelivery = 1
        hart.csr.write(prefix + 1, 1)
        hart.csr.write(prefix, 0x72)  # eithreshold = 0: no threshold
        hart.csr.write(prefix + 1, 0)
        hart.csr.write(prefix, 0xC0 + 2 * (eiid // 64))  # eie
        hart.csr.write(prefix + 1, hart.csr.read(prefix + 1) | 1 << (eiid % 64))
        self.plat.events.emit("irq.route", level=level, source=source, eiid=eiid, domain=domain.name)
        return eiid

    # --- S-mode interrupt entry ----------------------------------------------------------------------------
    def supervisor(self, hart: Hart, code: int) -> None:
        if code == SEI:
            while True:  # claim until stopei reads 0, as Linux's imsic handler loops
                identity = hart.csr_rw(0x15C, 0) >> 16
                if not identity:
                    break
                self.plat.events.emit("irq", hart=hart.hartid, level="S", cause=SEI, identity=identity)
                handler = self.handlers.get(("S", identity))
                if handler is None:
                    self.plat.events.emit("irq.spurious", hart=hart.hartid, identity=identity)
                else:
                    handler(identity)
            return
        if code in SIGNAL_OF_IRQ:
            self.plat.events.emit("irq", hart=hart.hartid, level="S", cause=code)
            self._ras_signal(SIGNAL_OF_IRQ[code])
            return
        self.kernel.die(hart, f"unexpected interrupt {code} (no handler registered)")

    # --- the RERI driver ----------------------------------------------------------------------------------------
    def banks(self) -> list[ReriBank]:
        return [d for d in self.plat.devices.values() if isinstance(d, ReriBank)]

    def _ras_signal(self, signal: str) -> list[dict]:
        return self.drain_banks(signal, reader="kernel")

    def drain_banks(self, for_signal: str, reader: str) -> list[dict]:
        """Read every valid record (over MMIO) and invalidate it (sinv after the read: rdip is set). The kernel
        logs each as a `reri_event`; the firmware keeps them for the kernel's SSE handler."""
        records = []
        bus = self.plat.bus
        for bank in self.banks():
            base = bus.region(bank.name).base
            for i in range(bank.n_records):
                rec = base + RECORD + 64 * i

                def read(off: int, rec: int = rec) -> int:
                    return int.from_bytes(bus.read(rec + off, 8), "little")

                status = read(STATUS)
                if not status & 1:
                    continue
                fields = decode_status(status)
                record = {
                    "err_src_id": bank.name, "source_type": bank.source_type, "record": i, "hart_id": bank.hart_id,
                    "status": status, "severity": _severity(fields), "ec": fields["ec"], "addr_info": read(ADDR_INFO),
                    "info": read(INFO), "suppl_info": read(SUPPL_INFO), "timestamp_val": read(TIMESTAMP),
                    "signal": for_signal, "reader": reader,
                }  # fmt: skip
                bus.write(rec + CONTROL, (read(CONTROL) | SINV).to_bytes(8, "little"))
                if reader == "kernel":
                    self.plat.events.emit("reri_event", **record)
                records.append(record)
        return records


def _severity(fields: dict[str, Any]) -> str:
    return "UEC" if fields["uec"] else "UED" if fields["ued"] else "CE" if fields["ce"] else "INFO"
