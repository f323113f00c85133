"""Trap semantics of the privileged spec: causes, trap entry with delegation, xRET, interrupt selection.

Kept apart from the execute core so a faster core (a block translator) reuses it unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .csr import IRQ_PRIORITY, MIE, MPIE, MPP, MPP_SHIFT, MPRV, SIE, SPIE, SPP, M, S, U

if TYPE_CHECKING:
    from .hart import Hart

EXCEPTION_NAMES = {
    0: "instruction address misaligned", 1: "instruction access fault", 2: "illegal instruction",
    3: "breakpoint", 4: "load address misaligned", 5: "load access fault", 6: "store/AMO address misaligned",
    7: "store/AMO access fault", 8: "environment call from U-mode", 9: "environment call from S-mode",
    11: "environment call from M-mode", 12: "instruction page fault", 13: "load page fault",
    15: "store/AMO page fault", 18: "software check", 19: "hardware error",
}  # fmt: skip
INTERRUPT_NAMES = {
    1: "supervisor software", 3: "machine software", 5: "supervisor timer", 7: "machine timer",
    9: "supervisor external", 11: "machine external", 13: "counter overflow", 35: "low-priority RAS event",
    43: "high-priority RAS event",
}  # fmt: skip
INTERRUPT = 1 << 63
PRIV_NAMES = {U: "U", S: "S", M: "M"}


class Trap(Exception):
    """Internal signal raised by an instruction: a synchronous exception with its cause and xtval.

    `access`/`size`/`paddr` describe the memory access for hardware errors (cause 19), so the slow path can
    log which line was consumed (paddr defaults to tval: untranslated accesses)."""

    def __init__(self, cause: int, tval: int = 0, access: str = "", size: int = 0, paddr: int | None = None) -> None:
        self.cause = cause
        self.tval = tval
        self.access = access
        self.size = size
        self.paddr = tval if paddr is None else paddr


def cause_name(cause: int) -> str:
    if cause & INTERRUPT:
        return INTERRUPT_NAMES.get(cause & ~INTERRUPT, f"interrupt {cause & ~INTERRUPT}") + " interrupt"
    return EXCEPTION_NAMES.get(cause, f"exception {cause}")


def enter_trap(hart: Hart, cause: int, tval: int, epc: int) -> str:
    """Take a trap: pick M or S by delegation, save state, jump to the vector. Returns "M" or "S"."""
    csr = hart.csr
    interrupt = bool(cause & INTERRUPT)
    code = cause & ~INTERRUPT
    deleg = csr.mideleg if interrupt else csr.medeleg
    hart.reservation = None
    if hart.priv <= S and (deleg >> code) & 1:
        csr.scause, csr.sepc, csr.stval = cause, epc, tval
        st = csr.mstatus
        st = (st & ~SPP) | (SPP if hart.priv == S else 0)
        st = (st & ~SPIE) | (SPIE if st & SIE else 0)
        csr.mstatus = st & ~SIE
        hart.priv = S
        tvec = csr.stvec
        target = "S"
    else:
        csr.mcause, csr.mepc, csr.mtval = cause, epc, tval
        st = csr.mstatus
        st = (st & ~MPP) | (hart.priv << MPP_SHIFT)
        st = (st & ~MPIE) | (MPIE if st & MIE else 0)
        csr.mstatus = st & ~MIE
        hart.priv = M
        tvec = csr.mtvec
        target = "M"
    base = tvec & ~3
    hart.pc = base + 4 * code if (interrupt and tvec & 3 == 1) else base
    hart.set_privilege(hart.priv)
    return target


def mret(hart: Hart) -> None:
    csr = hart.csr
    st = csr.mstatus
    y = (st & MPP) >> MPP_SHIFT
    st = (st & ~MIE) | (MIE if st & MPIE else 0)
    st = (st | MPIE) & ~MPP  # MPP <- U, the least-privileged supported mode
    if y != M:
        st &= ~MPRV
    csr.mstatus = st
    hart.reservation = None
    hart.pc = csr.mepc
    hart.set_privilege(y)


def sret(hart: Hart) -> None:
    csr = hart.csr
    st = csr.mstatus
    y = S if st & SPP else U
    st = (st & ~SIE) | (SIE if st & SPIE else 0)
    st = (st | SPIE) & ~SPP & ~MPRV
    csr.mstatus = st
    hart.reservation = None
    hart.pc = csr.sepc
    hart.set_privilege(y)


def pending_interrupt(hart: Hart) -> int | None:
    """The interrupt the hart takes now, if any: M-level before S-level, then AIA default priority."""
    csr = hart.csr
    pend = csr.mip & csr.mie
    if not pend:
        return None
    priv = hart.priv
    m_on = priv < M or bool(csr.mstatus & MIE)
    s_on = priv < S or (priv == S and bool(csr.mstatus & SIE))
    m_pend = pend & ~csr.mideleg if m_on else 0
    s_pend = pend & csr.mideleg if s_on else 0
    for candidates in (m_pend, s_pend):
        if candidates:
            for i in IRQ_PRIORITY:
                if candidates >> i & 1:
                    return i
            return candidates.bit_length() - 1  # platform interrupts outside the table: highest number first
    return None
