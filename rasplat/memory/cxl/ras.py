"""The CXL RAS Capability Structure (component registers, CXL.cachemem), reference memory-ras.md §1.10.

An MMIO block of 0x58 bytes. Errors are injected (as QEMU's `cxl-inject-uncorrectable-errors` /
`-correctable-error` do) and queued QEMU-style: UE Status shows every queued error, the First Error Pointer and
Header Log describe the oldest, and when the host clears that error (W1C of the FEP bit) the next one is
loaded. Each recorded error raises the AER-like interrupt and is handed to `error_sink` for a RERI bank.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from ...bus import AccessFault
from ...errors import ConfigError

UE_STATUS, UE_MASK, UE_SEVERITY, CE_STATUS, CE_MASK, CAP_CTRL, HEADER_LOG = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18
HEADER_DWORDS = 16
SIZE = 0x58

UE_BITS = {
    0: "cache_data_parity",
    1: "cache_address_parity",
    2: "cache_be_parity",
    3: "cache_data_ecc",
    4: "mem_data_parity",
    5: "mem_address_parity",
    6: "mem_be_parity",
    7: "mem_data_ecc",
    8: "reinit_threshold",
    9: "rsvd_encoding",
    10: "poison_received",
    11: "receiver_overflow",
    14: "internal",
    15: "cxl_ide_tx",
    16: "cxl_ide_rx",
}
CE_BITS = {
    0: "cache_data_ecc",
    1: "mem_data_ecc",
    2: "crc_threshold",
    3: "retry_threshold",
    4: "cache_poison_received",
    5: "mem_poison_received",
    6: "physical",
}
UE_VALID = sum(1 << b for b in UE_BITS)  # 0x1CFFF: bits 12-13 reserved
CE_VALID = sum(1 << b for b in CE_BITS)  # 0x7F
FEP_MASK = 0x3F
FEP_UNUSED = 63  # PCIe r6.0 §6.2.4.2: point the FEP at a status bit never used once nothing is queued (QEMU)
MULTIPLE_HEADER_CAPABLE = 1 << 9  # QEMU's Error Capability & Control reset value 0x200 [spec-recall for the name]
RERI_EC_PCX = 27  # RERI error code "PCI/CXL-detected error" (reference §6)


def _bit(name_or_bit: str | int, table: dict[int, str], what: str) -> int:
    if isinstance(name_or_bit, int):
        if name_or_bit in table:
            return name_or_bit
    else:
        for bit, name in table.items():
            if name == name_or_bit:
                return bit
    raise ConfigError(f"CXL RAS: unknown {what} error {name_or_bit!r} (known: {', '.join(table.values())})")


class RasCapability:
    """`on_ras_interrupt(kind, severity)`: kind "uncorrectable"/"correctable", severity "fatal"/"non-fatal"/
    "corrected" (the AER Uncorrectable/Corrected Internal Error QEMU raises). `error_sink(fields)`: one call per
    recorded error, fields {"severity": "uec"|"ued"|"ce", "ec": 27, "source": "cxl.ras", "device", "kind",
    "bit", "error", "aer", "header_log"}. A fatal UE maps to RERI UEC, a non-fatal UE to UED."""

    size = SIZE

    def __init__(
        self,
        device: str = "mem0",
        *,
        on_ras_interrupt: Callable[[str, str], None] | None = None,
        error_sink: Callable[[dict], None] | None = None,
        trace: Callable[..., object] | None = None,
        masked_at_reset: bool = True,
    ) -> None:
        self.device = device
        self.on_ras_interrupt = on_ras_interrupt
        self.error_sink = error_sink
        self.trace = trace or (lambda kind, **fields: None)
        # QEMU ras_init_common: every error masked, every UE fatal, multiple-header capable.
        self.ue_mask = UE_VALID if masked_at_reset else 0
        self.ue_severity = UE_VALID
        self.ce_status = 0
        self.ce_mask = CE_VALID if masked_at_reset else 0
        self.cap_ctrl = MULTIPLE_HEADER_CAPABLE | FEP_UNUSED
        self.header_log = [0] * HEADER_DWORDS
        self.queue: deque[tuple[int, tuple[int, ...]]] = deque()  # (UE bit, header log) oldest first

    @property
    def ue_status(self) -> int:
        status = 0
        for bit, _ in self.queue:
            status |= 1 << bit
        return status

    @property
    def first_error_pointer(self) -> int:
        return self.cap_ctrl & FEP_MASK

    # --- injection -------------------------------------------------------------------------------------------
    def inject_uncorrectable(self, errors: Sequence[tuple[str | int, Sequence[int]] | str | int]) -> int:
        """Queue uncorrectable errors, each a name/bit or (name/bit, header DWORDs ≤ 16). Masked errors are
        dropped, as QEMU does. Returns how many were recorded."""
        parsed = []
        for err in errors:
            name, header = err if isinstance(err, tuple) else (err, ())
            bit = _bit(name, UE_BITS, "uncorrectable")
            if len(header) > HEADER_DWORDS or any(not 0 <= h < 1 << 32 for h in header):
                raise ConfigError(f"CXL RAS: header log for {UE_BITS[bit]} must be at most 16 32-bit words")
            parsed.append((bit, tuple(header) + (0,) * (HEADER_DWORDS - len(header))))
        recorded = [(bit, header) for bit, header in parsed if not self.ue_mask >> bit & 1]
        if not recorded:
            return 0
        was_empty = not self.queue
        self.queue.extend(recorded)
        if was_empty:
            self._load_first()
        fatal = any(self.ue_severity >> bit & 1 for bit, _ in recorded)
        for bit, header in recorded:
            sev = "fatal" if self.ue_severity >> bit & 1 else "non-fatal"
            self.trace("cxl.ras", device=self.device, category="uncorrectable", error=UE_BITS[bit], bit=bit, aer=sev)
            self._sink(
                dict(
                    severity="uec" if sev == "fatal" else "ued",
                    kind="uncorrectable",
                    bit=bit,
                    error=UE_BITS[bit],
                    aer=sev,
                    header_log=list(header),
                )
            )
        if self.on_ras_interrupt is not None:
            self.on_ras_interrupt("uncorrectable", "fatal" if fatal else "non-fatal")
        return len(recorded)

    def inject_correctable(self, error: str | int) -> bool:
        bit = _bit(error, CE_BITS, "correctable")
        if self.ce_mask >> bit & 1:
            return False
        self.ce_status |= 1 << bit
        self.trace("cxl.ras", device=self.device, category="correctable", error=CE_BITS[bit], bit=bit, aer="corrected")
        self._sink(dict(severity="ce", kind="correctable", bit=bit, error=CE_BITS[bit], aer="corrected", header_log=[]))
        if self.on_ras_interrupt is not None:
            self.on_ras_interrupt("correctable", "corrected")
        return True

    def _sink(self, fields: dict) -> None:
        if self.error_sink is not None:
            self.error_sink(
                {
                    "severity": fields.pop("severity"),
                    "ec": RERI_EC_PCX,
                    "source": "cxl.ras",
                    "device": self.device,
                    **fields,
                }
            )

    def _load_first(self) -> None:
        if self.queue:
            bit, header = self.queue[0]
            self.cap_ctrl = self.cap_ctrl & ~FEP_MASK | bit
            self.header_log = list(header)
        else:
            self.cap_ctrl = self.cap_ctrl & ~FEP_MASK | FEP_UNUSED

    # --- checkpoints -----------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return {"ue_mask": self.ue_mask, "ue_severity": self.ue_severity, "ce_status": self.ce_status,
                "ce_mask": self.ce_mask, "cap_ctrl": self.cap_ctrl, "header_log": list(self.header_log),
                "queue": [[bit, list(header)] for bit, header in self.queue]}  # fmt: skip

    def restore(self, state: dict) -> None:
        for name in ("ue_mask", "ue_severity", "ce_status", "ce_mask", "cap_ctrl", "header_log"):
            setattr(self, name, state[name])
        self.queue = deque((bit, tuple(header)) for bit, header in state["queue"])

    # --- MMIO ------------------------------------------------------------------------------------------------
    def _image(self) -> bytes:
        words = [self.ue_status, self.ue_mask, self.ue_severity, self.ce_status, self.ce_mask, self.cap_ctrl]
        return b"".join(w.to_bytes(4, "little") for w in words + self.header_log)

    def load(self, off: int, size: int) -> int:
        if off < 0 or off + size > SIZE:
            raise AccessFault
        return int.from_bytes(self._image()[off : off + size], "little")

    def store(self, off: int, size: int, value: int) -> None:
        if off < 0 or off + size > SIZE:
            raise AccessFault
        data = value.to_bytes(size, "little")
        image = self._image()
        for reg in range(UE_STATUS, CAP_CTRL, 4):  # Capability & Control and the Header Log are read-only
            lo, hi = max(off, reg), min(off + size, reg + 4)
            if lo >= hi:
                continue
            # W1C registers see only the bytes written (unwritten bytes clear nothing); RW ones keep the rest.
            merged = bytearray(4) if reg in (UE_STATUS, CE_STATUS) else bytearray(image[reg : reg + 4])
            merged[lo - reg : hi - reg] = data[lo - off : hi - off]
            word = int.from_bytes(merged, "little")
            if reg == UE_STATUS:
                self._write_ue_status(word & UE_VALID)
            elif reg == CE_STATUS:
                self.ce_status &= ~word
            elif reg == UE_MASK:
                self.ue_mask = word & UE_VALID
            elif reg == UE_SEVERITY:
                self.ue_severity = word & UE_VALID
            else:
                self.ce_mask = word & CE_VALID

    def _write_ue_status(self, value: int) -> None:
        """W1C with multiple-header recording: writing exactly the FEP bit retires the oldest error; writing any
        other set of bits retires every queued error of those types (QEMU's choice, closest to hardware without
        multiple-header recording). Then the next error, if any, is loaded into FEP and the Header Log."""
        if not value or not self.queue:
            return
        if value == 1 << self.first_error_pointer:
            self.queue.popleft()
        else:
            self.queue = deque(e for e in self.queue if not value >> e[0] & 1)
        self._load_first()
