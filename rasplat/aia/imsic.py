"""AIA Incoming MSI Controller (IMSIC): per hart, one interrupt file per privilege level.

Spec: RISC-V AIA v1.0, `src/IMSIC.adoc` (summarised with citations in the project's reference, §2).

An interrupt file holds the eip (pending) and eie (enable) bit arrays for identities 1..N, receives MSIs on a
4 KiB MMIO page (`seteipnum_le` at 0x000, `seteipnum_be` at 0x004), and is programmed by its hart through the
indirect CSRs `*iselect`/`*ireg` (eidelivery, eithreshold, eip0..63, eie0..63) and `*topei`. Its output is the
external-interrupt line of its level (MEIP for the M file, SEIP for the S file). The hart here is RV64 only, so
the indirect registers are 64 bits wide and the odd eipK/eieK do not exist. Guest (VS) files are not modelled.
"""

from __future__ import annotations

from collections.abc import Callable

from ..bus import AccessFault
from ..errors import ConfigError
from ..events import EventLog

PAGE_SIZE = 0x1000

# *iselect values of the interrupt-file registers (IMSIC.adoc, "CSRs for external interrupts via an IMSIC")
EIDELIVERY = 0x70
EITHRESHOLD = 0x72
EIP0 = 0x80
EIE0 = 0xC0
ISELECT_FIRST, ISELECT_LAST = 0x70, 0xFF

# eidelivery values (IMSIC.adoc "eidelivery"): off, on, and the optional "a PLIC/APLIC delivers directly"
EIDELIVERY_OFF = 0
EIDELIVERY_ON = 1
EIDELIVERY_DIRECT = 0x40000000

TOPEI_ID_SHIFT = 16  # *topei: identity in bits 26:16, priority (= identity) in bits 10:0


class IllegalIndirect(Exception):
    """Internal signal: the `*ireg` access selects no register of this interrupt file.

    Raised for the odd eipK/eieK on RV64 (IMSIC.adoc: "raises an illegal instruction exception") and for
    `*iselect` values outside 0x70-0xFF, which are not IMSIC registers. The hart turns it into an
    illegal-instruction exception (cause 2); a virtual-instruction exception would apply in VS-mode, which
    is not modelled."""


def _bswap32(value: int) -> int:
    return int.from_bytes((value & 0xFFFFFFFF).to_bytes(4, "little"), "big")


class ImsicFile:
    """One interrupt file (M or S level) and its 4 KiB MMIO page.

    `on_line(level)` is called whenever the file's external-interrupt output changes; connect it to the
    hart's MEIP (11) or SEIP (9) with `connect()`."""

    SIZE = PAGE_SIZE

    def __init__(
        self,
        num_ids: int,
        *,
        hart: int = 0,
        level: str = "S",
        events: EventLog | None = None,
        on_line: Callable[[bool], None] | None = None,
        direct_delivery: bool = False,
        big_endian_port: bool = True,
    ) -> None:
        if not isinstance(num_ids, int) or not 63 <= num_ids <= 2047 or num_ids % 64 != 63:
            raise ConfigError(
                f"imsic: hart {hart} {level}-level file: num-ids {num_ids!r} is invalid; it must be one less "
                f"than a multiple of 64, from 63 to 2047 (AIA IMSIC.adoc, 'Interrupt files and identities')"
            )
        if level not in ("M", "S"):
            raise ConfigError(f"imsic: level {level!r} is invalid; interrupt files here are 'M' or 'S'")
        self.num_ids = num_ids
        self.hart = hart
        self.level = level
        self.events = events
        self.on_line = on_line
        # Value 0x40000000 is optional; when supported it is also the reset value (IMSIC.adoc "eidelivery").
        self.direct_delivery = direct_delivery
        # Little-endian-only systems may ignore seteipnum_be; this one accepts it unless told otherwise.
        self.big_endian_port = big_endian_port
        self._valid = ((1 << (num_ids + 1)) - 1) & ~1  # identity 0 is never valid (IMSIC.adoc)
        self.eip = 0  # bit i = pending bit of identity i
        self.eie = 0
        # Reset: 0x40000000 if supported, else an unspecified 0 or 1; we pick 0 so nothing is delivered before
        # software has set the file up.
        self.eidelivery = EIDELIVERY_DIRECT if direct_delivery else EIDELIVERY_OFF
        self.eithreshold = 0
        self.direct_input = False  # the PLIC/APLIC line used while eidelivery = 0x40000000
        self.line = False

    def __repr__(self) -> str:
        return f"<ImsicFile hart {self.hart} {self.level} N={self.num_ids} line={int(self.line)}>"

    def connect(self, on_line: Callable[[bool], None]) -> None:
        """Attach the output line and drive it with the current level."""
        self.on_line = on_line
        on_line(self.line)

    # --- MMIO page (the MSI write port) ----------------------------------------------------------------
    def load(self, off: int, size: int) -> int:
        # Only naturally aligned 32-bit accesses are supported; others "should preferably report an access
        # fault" (IMSIC.adoc "Memory region for an interrupt file"). Every readable byte reads as zero.
        if size != 4 or off % 4:
            raise AccessFault
        return 0

    def store(self, off: int, size: int, value: int) -> None:
        if size != 4 or off % 4:
            raise AccessFault
        if off == 0x000:  # seteipnum_le
            self.set_pending(value & 0xFFFFFFFF)
        elif off == 0x004 and self.big_endian_port:  # seteipnum_be: the identity in big-endian byte order
            self.set_pending(_bswap32(value))
        # everything else is read-only zero: writes are ignored

    # --- state changes --------------------------------------------------------------------------------
    def set_pending(self, identity: int) -> bool:
        """Set eip[identity] as an MSI does; a value that is not an implemented identity is ignored.

        Returns whether the identity was implemented."""
        if not 1 <= identity <= self.num_ids:
            return False
        self._set_eip(self.eip | 1 << identity)
        return True

    def clear_pending(self, identity: int) -> None:
        if 1 <= identity <= self.num_ids:
            self._set_eip(self.eip & ~(1 << identity))

    def enable(self, identity: int, on: bool = True) -> None:
        """Host helper: set or clear eie[identity] (what software does through eie registers)."""
        if 1 <= identity <= self.num_ids:
            self.eie = self.eie | 1 << identity if on else self.eie & ~(1 << identity)
            self._update_line()

    def is_pending(self, identity: int) -> bool:
        return bool(self.eip >> identity & 1)

    def is_enabled(self, identity: int) -> bool:
        return bool(self.eie >> identity & 1)

    def set_direct_input(self, level: bool) -> None:
        """The external-interrupt signal of a PLIC/APLIC in direct mode, used while eidelivery = 0x40000000."""
        self.direct_input = bool(level)
        self._update_line()

    def _set_eip(self, new: int) -> None:
        new &= self._valid
        newly = new & ~self.eip
        self.eip = new
        if newly and self.events is not None:
            while newly:
                low = newly & -newly
                self.events.emit("imsic.pending", hart=self.hart, level=self.level, identity=low.bit_length() - 1)
                newly ^= low
        self._update_line()

    # --- checkpoints ---------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return {"eip": self.eip, "eie": self.eie, "eidelivery": self.eidelivery, "eithreshold": self.eithreshold,
                "direct_input": self.direct_input, "line": self.line}  # fmt: skip

    def restore(self, state: dict) -> None:
        """The saved registers and output level, without driving the line: the hart restores its mip itself."""
        for name in ("eip", "eie", "eidelivery", "eithreshold", "direct_input", "line"):
            setattr(self, name, state[name])

    # --- *topei ---------------------------------------------------------------------------------------
    def top_identity(self) -> int:
        """The lowest pending-and-enabled identity below eithreshold (when nonzero), or 0."""
        ready = self.eip & self.eie
        if self.eithreshold:
            ready &= (1 << self.eithreshold) - 1  # identities >= eithreshold do not count
        return (ready & -ready).bit_length() - 1 if ready else 0

    def topei(self) -> int:
        """The `*topei` value: identity in bits 26:16 and its priority (the same number) in bits 10:0.

        Not affected by eidelivery or by mie/sie (IMSIC.adoc "Top external interrupt CSRs")."""
        i = self.top_identity()
        return i << TOPEI_ID_SHIFT | i

    def claim_topei(self) -> int:
        """A CSR write to `*topei` (csrrw/csrrs/csrrc with a write): returns the value read, and clears the
        pending bit of the identity that value reports. The written data is ignored; a write while the value
        is 0 has no effect."""
        value = self.topei()
        if value:
            self._set_eip(self.eip & ~(1 << (value >> TOPEI_ID_SHIFT)))
        return value

    # --- indirect registers (*iselect / *ireg), RV64 --------------------------------------------------
    def read_indirect(self, sel: int) -> int:
        array, k = self._decode(sel)
        if array is None:
            if sel == EIDELIVERY:
                return self.eidelivery
            if sel == EITHRESHOLD:
                return self.eithreshold
            return 0  # 0x71, 0x73-0x7F are reserved: read zero
        bits = self.eip if array == "eip" else self.eie
        return (bits >> (32 * k)) & ((1 << 64) - 1)

    def write_indirect(self, sel: int, value: int) -> None:
        array, k = self._decode(sel)
        value &= (1 << 64) - 1
        if array is None:
            if sel == EIDELIVERY:
                self._write_eidelivery(value)
            elif sel == EITHRESHOLD:
                # WLRL 0..N: keep the 11 bits an identity needs; a value above N masks nothing.
                self.eithreshold = value & 0x7FF
                self._update_line()
            return  # reserved selects ignore writes
        shift = 32 * k
        field = ((1 << 64) - 1) << shift
        if array == "eip":
            self._set_eip((self.eip & ~field) | (value << shift))
        else:
            self.eie = ((self.eie & ~field) | (value << shift)) & self._valid
            self._update_line()

    def _decode(self, sel: int) -> tuple[str | None, int]:
        """(array, k) for eipK/eieK, (None, 0) for the other IMSIC selects; raises for the rest."""
        if not ISELECT_FIRST <= sel <= ISELECT_LAST:
            raise IllegalIndirect(sel)
        if sel < EIP0:
            return None, 0
        k = (sel - EIP0) & 0x3F
        if k & 1:  # RV64: eip1, eip3, ... and eie1, eie3, ... do not exist (IMSIC.adoc "eip0-eip63")
            raise IllegalIndirect(sel)
        return ("eip" if sel < EIE0 else "eie"), k

    def _write_eidelivery(self, value: int) -> None:
        # WARL: an unsupported value keeps bit 0 (on/off), as QEMU does.
        if value == EIDELIVERY_DIRECT and self.direct_delivery:
            self.eidelivery = EIDELIVERY_DIRECT
        else:
            self.eidelivery = value & 1
        self._update_line()

    # --- the output line ------------------------------------------------------------------------------
    def _update_line(self) -> None:
        # eidelivery = 1: asserted iff some identity is pending, enabled and passes the threshold;
        # 0: held low; 0x40000000: the file acts as if 0 and the PLIC/APLIC supplies the line (IMSIC.adoc
        # "Interrupt delivery and handling", "eidelivery").
        if self.eidelivery == EIDELIVERY_ON:
            level = self.top_identity() != 0
        elif self.eidelivery == EIDELIVERY_DIRECT:
            level = self.direct_input
        else:
            level = False
        if level != self.line:
            self.line = level
            if self.on_line is not None:
                self.on_line(level)


class Imsic:
    """A hart's IMSIC: an M-level and an S-level interrupt file (`m`, `s`)."""

    def __init__(
        self,
        hart: int,
        num_ids: int = 255,
        *,
        s_num_ids: int | None = None,
        events: EventLog | None = None,
        direct_delivery: bool = False,
        big_endian_port: bool = True,
    ) -> None:
        self.hart = hart

        def make(n: int, level: str) -> ImsicFile:
            return ImsicFile(n, hart=hart, level=level, events=events, direct_delivery=direct_delivery,
                             big_endian_port=big_endian_port)  # fmt: skip

        self.m = make(num_ids, "M")
        self.s = make(num_ids if s_num_ids is None else s_num_ids, "S")

    def file(self, level: str) -> ImsicFile:
        """The interrupt file behind miselect/mireg/mtopei ("M") or siselect/sireg/stopei ("S")."""
        if level == "M":
            return self.m
        if level == "S":
            return self.s
        raise ConfigError(f"imsic: hart {self.hart} has no {level!r}-level interrupt file (only 'M' and 'S')")

    def __repr__(self) -> str:
        return f"<Imsic hart {self.hart} M={self.m.num_ids} S={self.s.num_ids}>"
