"""Control and status registers of an RV64 M/S/U hart (Zicsr), with the privileged spec's access rules.

State lives in plain attributes (`mstatus`, `mip`, ...) so the hart's slow paths read it cheaply.
`read`/`write` apply the architectural rules for an instruction at a privilege level and raise
`IllegalCSR` when the access is illegal; `csr[name]` / `csr[number]` is the host's unchecked view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..aia.imsic import IllegalIndirect
from ..errors import RasplatError

if TYPE_CHECKING:
    from .hart import Hart

M64 = (1 << 64) - 1
U, S, M = 0, 1, 3

# mstatus fields (RV64)
SIE, MIE, SPIE, MPIE, SPP = 1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8
MPP_SHIFT, MPP = 11, 3 << 11
MPRV, SUM, MXR, TVM, TW, TSR = 1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22
UXL_SXL_64 = (2 << 32) | (2 << 34)
MSTATUS_WRITABLE = SIE | MIE | SPIE | MPIE | SPP | MPP | MPRV | SUM | MXR | TVM | TW | TSR
SSTATUS_MASK = SIE | SPIE | SPP | SUM | MXR | (3 << 32)  # UXL is visible (read-only) in sstatus

# interrupt bits: SSI 1, MSI 3, STI 5, MTI 7, SEI 9, MEI 11, LCOFI 13, AIA local RAS 35 (low) / 43 (high)
IRQ_IMPLEMENTED = (1 << 1) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 11) | (1 << 13) | (1 << 35) | (1 << 43)
MIDELEG_WRITABLE = (1 << 1) | (1 << 5) | (1 << 9) | (1 << 13) | (1 << 35) | (1 << 43)
# AIA default priority among interrupts that trap to the same mode, highest first (MSLevel.adoc)
IRQ_PRIORITY = (43, 11, 3, 7, 9, 1, 5, 12, 10, 2, 6, 13, 35)
MIP_SW_WRITABLE = (1 << 1) | (1 << 5) | (1 << 9) | (1 << 13)  # the rest are driven by devices
SIP_SW_WRITABLE = (1 << 1) | (1 << 13)
# exceptions that can be delegated: 0-9, 12, 13, 15, 19 (11 ecall-from-M and 16 double trap are read-only 0)
MEDELEG_WRITABLE = sum(1 << c for c in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 19))

MISA_RV64IMAC_SU = (2 << 62) | sum(1 << (ord(x) - ord("A")) for x in "IMACSU")

SATP_BARE, SATP_SV39 = 0, 8


class IllegalCSR(Exception):
    """Internal signal: this CSR access is illegal (the hart raises an illegal-instruction exception)."""


class CSRFile:
    def __init__(self, hart: Hart, hartid: int) -> None:
        self._hart = hart
        self.mhartid = hartid
        self.mstatus = UXL_SXL_64
        self.misa = MISA_RV64IMAC_SU
        self.medeleg = self.mideleg = 0
        self.mie = 0
        self.mip_sw = 0  # software-written pending bits
        self.mip_hw = 0  # device-driven pending bits (interrupt lines)
        self.mtvec = self.stvec = 0
        self.mscratch = self.sscratch = 0
        self.mepc = self.sepc = 0
        self.mcause = self.scause = 0
        self.mtval = self.stval = 0
        self.satp = 0
        self.mcounteren = self.scounteren = 0
        self.miselect = self.siselect = 0
        self._table = self._build_table()

    # --- checkpoints ---------------------------------------------------------------------------------------
    _STATE = ("mhartid", "mstatus", "misa", "medeleg", "mideleg", "mie", "mip_sw", "mip_hw", "mtvec", "stvec",
              "mscratch", "sscratch", "mepc", "sepc", "mcause", "scause", "mtval", "stval", "satp", "mcounteren",
              "scounteren", "miselect", "siselect")  # fmt: skip

    def snapshot(self) -> dict:
        """The stored CSR state (the counters live in the hart, the interrupt files in the IMSIC)."""
        return {name: getattr(self, name) for name in self._STATE}

    def restore(self, state: dict) -> None:
        """Set the stored state without the write side effects (the hart re-derives its mode and MMU root)."""
        for name in self._STATE:
            setattr(self, name, state[name])

    # --- the table: number -> (name, getter, setter or None for read-only) -------------------------------
    def _build_table(self) -> dict[int, tuple[str, Callable[[], int], Callable[[int], None] | None]]:
        h = self._hart

        def attr(name: str, mask: int = M64) -> tuple[Callable[[], int], Callable[[int], None]]:
            return (lambda: getattr(self, name)), (lambda v: setattr(self, name, v & mask))

        def const(value: int) -> tuple[Callable[[], int], None]:
            return (lambda: value), None

        def warl_zero() -> tuple[Callable[[], int], Callable[[int], None]]:
            return (lambda: 0), (lambda v: None)

        def set_instret(v: int) -> None:
            h.instret = v

        def set_cycle(v: int) -> None:
            h.cycle = v

        t: dict[int, tuple[str, Callable[[], int], Callable[[int], None] | None]] = {}

        def add(num: int, name: str, getter: Callable[[], int], setter: Callable[[int], None] | None) -> None:
            t[num] = (name, getter, setter)

        # user counters (read-only; gated by mcounteren/scounteren below M)
        add(0xC00, "cycle", lambda: h.cycle, None)
        add(0xC01, "time", lambda: h.time_source() & M64, None)  # the platform clock: deterministic, no wall time
        add(0xC02, "instret", lambda: h.instret, None)
        # supervisor
        add(0x100, "sstatus", lambda: self.mstatus & SSTATUS_MASK, self._write_sstatus)
        add(0x104, "sie", lambda: self.mie & self.mideleg, self._write_sie)
        add(0x105, "stvec", *self._tvec("stvec"))
        add(0x106, "scounteren", *attr("scounteren", 7))
        add(0x140, "sscratch", *attr("sscratch"))
        add(0x141, "sepc", *attr("sepc", M64 & ~1))
        add(0x142, "scause", *attr("scause"))
        add(0x143, "stval", *attr("stval"))
        add(0x144, "sip", lambda: self.mip & self.mideleg, self._write_sip)
        add(0x180, "satp", lambda: self.satp, self._write_satp)
        # machine
        add(0xF11, "mvendorid", *const(0))
        add(0xF12, "marchid", *const(0))
        add(0xF13, "mimpid", *const(0))
        add(0xF14, "mhartid", lambda: self.mhartid, None)
        add(0xF15, "mconfigptr", *const(0))
        add(0x300, "mstatus", lambda: self.mstatus, self._write_mstatus)
        add(0x301, "misa", lambda: self.misa, lambda v: None)  # WARL: extensions cannot be switched off
        add(0x302, "medeleg", *attr("medeleg", MEDELEG_WRITABLE))
        add(0x303, "mideleg", *attr("mideleg", MIDELEG_WRITABLE))
        add(0x304, "mie", *attr("mie", IRQ_IMPLEMENTED))
        add(0x305, "mtvec", *self._tvec("mtvec"))
        add(0x306, "mcounteren", *attr("mcounteren", 7))
        add(0x340, "mscratch", *attr("mscratch"))
        add(0x341, "mepc", *attr("mepc", M64 & ~1))
        add(0x342, "mcause", *attr("mcause"))
        add(0x343, "mtval", *attr("mtval"))
        add(0x344, "mip", lambda: self.mip, self._write_mip)
        add(0xB00, "mcycle", lambda: h.cycle, set_cycle)
        add(0xB02, "minstret", lambda: h.instret, set_instret)
        # AIA (Smaia/Ssaia): indirect access to the interrupt files and the iprio array, top-interrupt CSRs
        add(0x350, "miselect", *attr("miselect", 0xFFF))
        add(0x351, "mireg", lambda: self._ireg_read("M"), lambda v: self._ireg_write("M", v))
        add(0x35C, "mtopei", lambda: self._imsic_file("M").topei(), None)
        add(0xFB0, "mtopi", lambda: self._topi(self.mip & self.mie & ~self.mideleg), None)
        add(0x150, "siselect", *attr("siselect", 0xFFF))
        add(0x151, "sireg", lambda: self._ireg_read("S"), lambda v: self._ireg_write("S", v))
        add(0x15C, "stopei", lambda: self._imsic_file("S").topei(), None)
        add(0xDB0, "stopi", lambda: self._topi(self.mip & self.mie & self.mideleg), None)
        # mandatory but may be hard-wired to zero: PMP (0 entries) and the HPM counters/events
        for i in range(0, 16, 2):
            add(0x3A0 + i, f"pmpcfg{i}", *warl_zero())
        for i in range(64):
            add(0x3B0 + i, f"pmpaddr{i}", *warl_zero())
        for i in range(3, 32):
            add(0xB00 + i, f"mhpmcounter{i}", *warl_zero())
            add(0x320 + i, f"mhpmevent{i}", *warl_zero())
            add(0xC00 + i, f"hpmcounter{i}", *const(0))
        return t

    def _tvec(self, name: str) -> tuple[Callable[[], int], Callable[[int], None]]:
        def write(v: int) -> None:
            mode = v & 3
            if mode > 1:  # reserved modes: WARL, keep the old mode
                mode = getattr(self, name) & 3
            setattr(self, name, (v & M64 & ~3) | mode)

        return (lambda: getattr(self, name)), write

    # --- composite registers ----------------------------------------------------------------------------
    @property
    def mip(self) -> int:
        return self.mip_sw | self.mip_hw

    def _write_mstatus(self, v: int) -> None:
        if (v & MPP) >> MPP_SHIFT == 2:  # reserved privilege: WARL, keep the old MPP
            v = (v & ~MPP) | (self.mstatus & MPP)
        self.mstatus = (v & MSTATUS_WRITABLE) | UXL_SXL_64
        self._hart.mode_changed()  # MPRV/MPP decide whether M-mode data accesses translate

    def _write_sstatus(self, v: int) -> None:
        writable = SIE | SPIE | SPP | SUM | MXR
        self.mstatus = (self.mstatus & ~writable) | (v & writable)

    def _write_sie(self, v: int) -> None:
        self.mie = (self.mie & ~self.mideleg) | (v & self.mideleg)

    def _write_mip(self, v: int) -> None:
        self.mip_sw = (self.mip_sw & ~MIP_SW_WRITABLE) | (v & MIP_SW_WRITABLE)

    def _write_sip(self, v: int) -> None:
        mask = SIP_SW_WRITABLE & self.mideleg
        self.mip_sw = (self.mip_sw & ~mask) | (v & mask)

    def _write_satp(self, v: int) -> None:
        mode = v >> 60
        if mode not in (SATP_BARE, SATP_SV39):  # an unsupported MODE makes the whole write have no effect
            return
        # ASIDLEN = 0 (ASID bits read as zero); a Bare satp keeps no PPN
        self.satp = (mode << 60 | (v & ((1 << 44) - 1))) if mode == SATP_SV39 else 0
        self._hart.satp_written()

    # --- AIA -------------------------------------------------------------------------------------------
    def _imsic_file(self, level: str) -> Any:
        imsic = self._hart.imsic
        if imsic is None:
            raise IllegalCSR  # no IMSIC: *topei and the interrupt-file selects do not exist
        return imsic.file(level)

    def _ireg_read(self, level: str) -> int:
        sel = self.miselect if level == "M" else self.siselect
        if 0x30 <= sel <= 0x3F:  # iprio array: read-only zeros (AIA allows it); odd ones do not exist on RV64
            if sel & 1:
                raise IllegalCSR
            return 0
        try:
            return self._imsic_file(level).read_indirect(sel)
        except IllegalIndirect:
            raise IllegalCSR from None

    def _ireg_write(self, level: str, value: int) -> None:
        sel = self.miselect if level == "M" else self.siselect
        if 0x30 <= sel <= 0x3F:
            if sel & 1:
                raise IllegalCSR
            return
        try:
            self._imsic_file(level).write_indirect(sel, value)
        except IllegalIndirect:
            raise IllegalCSR from None

    @staticmethod
    def _topi(pending: int) -> int:
        """mtopi/stopi: the highest-priority pending-and-enabled interrupt of that level (global enables are
        not considered). The iprio arrays are read-only zeros, so IPRIO is always 1 (the simplified form)."""
        for i in IRQ_PRIORITY:
            if pending >> i & 1:
                return i << 16 | 1
        return (pending.bit_length() - 1) << 16 | 1 if pending else 0

    # --- architectural access (from an instruction) -----------------------------------------------------
    def check(self, num: int, priv: int, writes: bool) -> None:
        """Raise IllegalCSR if an instruction at `priv` may not access CSR `num` this way."""
        if num not in self._table:
            raise IllegalCSR
        if priv < (num >> 8) & 3:
            raise IllegalCSR
        if writes and (num >> 10) == 3:
            raise IllegalCSR
        if 0xC00 <= num <= 0xC1F and priv < M:  # user counters are gated by m/scounteren bit (num - 0xC00)
            bit = 1 << (num - 0xC00)
            if not self.mcounteren & bit or (priv == U and not self.scounteren & bit):
                raise IllegalCSR
        if num == 0x180 and priv == S and self.mstatus & TVM:
            raise IllegalCSR
        if num in (0x35C, 0x15C) and self._hart.imsic is None:
            raise IllegalCSR

    def read(self, num: int) -> int:
        """The value an instruction reads (may raise IllegalCSR for indirect registers that do not exist)."""
        return self._table[num][1]() & M64

    def write(self, num: int, value: int) -> None:
        setter = self._table[num][2]
        if setter is not None:
            setter(value & M64)

    # --- host view --------------------------------------------------------------------------------------
    def number(self, key: int | str) -> int:
        if isinstance(key, int):
            if key in self._table:
                return key
        else:
            for num, (name, _, _) in self._table.items():
                if name == key:
                    return num
        raise RasplatError(f"no CSR {key!r} on this hart")

    def __getitem__(self, key: int | str) -> int:
        return self.read(self.number(key))

    def __setitem__(self, key: int | str, value: int) -> None:
        num = self.number(key)
        if self._table[num][2] is None and num != 0xF14:
            raise RasplatError(f"CSR {self._table[num][0]} is read-only")
        if num == 0xF14:
            self.mhartid = value
        else:
            self.write(num, value)

    def names(self) -> dict[int, str]:
        return {num: name for num, (name, _, _) in self._table.items()}


_NAMES: dict[int, str] = {}


def csr_name(num: int) -> str:
    """The CSR's name for disassembly ("mstatus"), or its number in hex if it has none."""
    if not _NAMES:

        class _Counters:
            instret = cycle = 0

            def time_source(self) -> int:
                return 0

        _NAMES.update(CSRFile(_Counters(), 0).names())  # type: ignore[arg-type]
    return _NAMES.get(num, f"{num:#x}")
