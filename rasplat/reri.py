"""RAS error banks with the RISC-V RERI v1.0 register layout (RAS Error-record Register Interface).

Spec: `riscv-non-isa/riscv-ras-eri`, ratified 1.0, `reri_err_reporting.adoc` (summarised with citations in the
project's reference, §5).

A bank is one MMIO device: a 64-byte header, then 64-byte error records at 64 + 64·i. Hardware (a memory
backend, a hart, a CXL device model) reports errors with `log()`, which applies the spec's record-writing
rules (severity UEC > UED > CE > informational, priority tie-break, sticky class bits, `mo`, `rdip`, the CE
counter) and raises the RAS signal that `control_i` selects through `on_signal(kind, record)`. Where a signal
goes — a local interrupt 35/43, an APLIC wire, firmware — is the platform's wiring, not the bank's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .bus import AccessFault
from .clock import Clock
from .errors import ConfigError
from .events import EventLog

SIZE = 0x1000  # 64-byte header + up to 63 records of 64 bytes: exactly one 4 KiB page
MAX_RECORDS = 63
VERSION = 0x01  # bank_info.version of RERI 1.0; layout 0

# Header offsets
VENDOR_N_IMP_ID, BANK_INFO, VALID_SUMMARY = 0, 8, 16
# Register offsets inside a record
CONTROL, STATUS, ADDR_INFO, INFO, SUPPL_INFO, TIMESTAMP = 0, 8, 16, 24, 32, 40

M64 = (1 << 64) - 1


@dataclass(frozen=True)
class Field:
    """A bit field of a 64-bit RERI register."""

    lsb: int
    width: int = 1

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def get(self, reg: int) -> int:
        return (reg >> self.lsb) & ((1 << self.width) - 1)

    def put(self, reg: int, value: int) -> int:
        return (reg & ~self.mask) | ((value << self.lsb) & self.mask)


# control_i (reri_err_reporting.adoc "Control Register"); WPRI 31:8 and 59:50 and custom 63:60 read zero here
ELSE, CECE, CES, UEDS, UECS = Field(0), Field(1), Field(2, 2), Field(4, 2), Field(6, 2)
EID, SINV, SRDP = Field(32, 16), Field(48), Field(49)
CONTROL_STORED = ELSE.mask | CECE.mask | CES.mask | UEDS.mask | UECS.mask

# status_i (reri_err_reporting.adoc "Status Register"); WPRI 19:18, 22 and 47:32 read zero
V, CE, UED, UEC, PRI, MO, C = Field(0), Field(1), Field(2), Field(3), Field(4, 2), Field(6), Field(7)
TT, IV, AIT, SIV, TSV = Field(8, 3), Field(11), Field(12, 4), Field(16), Field(17)
SCRUB, CECO, RDIP, EC, CEC = Field(20), Field(21), Field(23), Field(24, 8), Field(48, 16)
STATUS_FIELDS = {"v": V, "ce": CE, "ued": UED, "uec": UEC, "pri": PRI, "mo": MO, "c": C, "tt": TT, "iv": IV,
                 "ait": AIT, "siv": SIV, "tsv": TSV, "scrub": SCRUB, "ceco": CECO, "rdip": RDIP, "ec": EC,
                 "cec": CEC}  # fmt: skip
STATUS_DEFINED = sum(f.mask for f in STATUS_FIELDS.values())
# Fields a new error writes when it (over)writes a record (the pseudocode's "if overwrite" block)
ERROR_FIELDS = PRI.mask | C.mask | TT.mask | AIT.mask | IV.mask | SIV.mask | TSV.mask | SCRUB.mask | EC.mask

# Error classes in severity order; informational (no class bit) is below CE.
INFO_SEV, CE_SEV, UED_SEV, UEC_SEV = 0, 1, 2, 3
SEVERITIES = {"INFO": INFO_SEV, "CE": CE_SEV, "UED": UED_SEV, "UEC": UEC_SEV}
SEVERITY_NAMES = {v: k for k, v in SEVERITIES.items()}
CLASS_BIT = {INFO_SEV: 0, CE_SEV: CE.mask, UED_SEV: UED.mask, UEC_SEV: UEC.mask}

# ces/ueds/uecs encodings (reri_err_reporting.adoc "Error signaling enable field encodings")
SIGNAL_KINDS = {0: None, 1: "low", 2: "high", 3: "platform"}
SIGNAL_CODES = {"off": 0, None: 0, "low": 1, "high": 2, "platform": 3}

# ait and tt encodings
AIT_NONE, AIT_SPA, AIT_GPA, AIT_VA = 0, 1, 2, 3
TT_UNSPECIFIED, TT_CUSTOM, TT_EXPLICIT_READ, TT_EXPLICIT_WRITE, TT_IMPLICIT_READ, TT_IMPLICIT_WRITE = 0, 1, 4, 5, 6, 7
# error codes this platform produces (the full table is in the spec, "Error codes")
EC_NONE, EC_OTHER, EC_CORRUPTED_DATA_ACCESS = 0, 1, 2
EC_MEM_CMD_ADDR, EC_MEM_UNSPECIFIED, EC_MEM_DATA, EC_MEM_SCRUB = 18, 19, 20, 21


def severity_of(status: int) -> int:
    """The class a status register reports: the highest class bit set (informational when none is)."""
    if status & UEC.mask:
        return UEC_SEV
    if status & UED.mask:
        return UED_SEV
    return CE_SEV if status & CE.mask else INFO_SEV


def decode_status(status: int) -> dict[str, int]:
    """status_i as named fields."""
    return {name: f.get(status) for name, f in STATUS_FIELDS.items()}


@dataclass
class _Record:
    control: int
    status: int = 0
    addr_info: int = 0
    info: int = 0
    suppl_info: int = 0
    timestamp: int = 0
    eid_deadline: int | None = None  # clock time (ns) at which the eid countdown reaches 0
    eid_generation: int = 0  # bumped on every eid write, so a superseded countdown does nothing
    asserted: set[str] = field(default_factory=set)  # signal kinds this record holds asserted


class ReriBank:
    """A RERI error bank: an MMIO device of `SIZE` bytes with `n_records` error records.

    Callbacks the platform wires:
    - `on_signal(kind, record)`: a RAS signal was asserted ("low", "high" or "platform") by `record`.
    - `on_level(kind, level)`: the bank's aggregate output for `kind` changed. A record keeps the signals it
      raised asserted until software invalidates it (v = 0) and ceco = 0 — a level for mip bits 35/43.
    `clock` timestamps records and runs `eid` countdowns (`eid_tick_ns` per count); without a clock,
    records carry no timestamp and eid is read-only zero (error-record injection unsupported).
    """

    SIZE = SIZE

    def __init__(
        self,
        name: str = "reri",
        n_records: int = 1,
        *,
        vendor_id: int = 0,
        imp_id: int = 0,
        inst_id: int = 0,
        clock: Clock | None = None,
        events: EventLog | None = None,
        on_signal: Callable[[str, int], None] | None = None,
        on_level: Callable[[str, bool], None] | None = None,
        eid_tick_ns: int = 1000,
        control: int = ELSE.mask,
        source_type: str = "unknown",
        hart_id: int | None = None,
    ) -> None:
        if not 1 <= n_records <= MAX_RECORDS:
            raise ConfigError(f"reri {name!r}: {n_records} error records is invalid; a bank holds 1..{MAX_RECORDS}")
        if eid_tick_ns <= 0:
            raise ConfigError(f"reri {name!r}: eid tick {eid_tick_ns} ns is invalid; it must be positive")
        self.name = name
        self.n_records = n_records
        self.vendor_id = vendor_id & 0xFFFFFFFF
        self.imp_id = imp_id & 0xFFFFFFFF
        self.inst_id = inst_id & 0xFFFF
        self.clock = clock
        self.events = events
        self.on_signal = on_signal
        self.on_level = on_level
        self.eid_tick_ns = eid_tick_ns
        self.source_type = source_type
        self.hart_id = hart_id
        # Reset values are UNSPECIFIED; `else` may reset to 0 or 1 and the signal enables typically reset to 0.
        self._records = [_Record(control & CONTROL_STORED) for _ in range(n_records)]
        self._levels: dict[str, bool] = {"low": False, "high": False, "platform": False}

    def __repr__(self) -> str:
        valid = [i for i, r in enumerate(self._records) if r.status & V.mask]
        return f"<ReriBank {self.name} records={self.n_records} valid={valid}>"

    # --- host helpers ------------------------------------------------------------------------------------
    def _rec(self, record: int) -> _Record:
        if not 0 <= record < self.n_records:
            raise ConfigError(f"reri {self.name!r}: no error record {record} (records are 0..{self.n_records - 1})")
        return self._records[record]

    def set_control(
        self,
        record: int,
        *,
        enable: bool | None = None,
        cece: bool | None = None,
        ces: str | int | None = None,
        ueds: str | int | None = None,
        uecs: str | int | None = None,
    ) -> None:
        """Configure a record as firmware or the device tree would (signals as "off"/"low"/"high"/"platform")."""
        rec = self._rec(record)
        c = rec.control
        if enable is not None:
            c = ELSE.put(c, int(enable))
        if cece is not None:
            c = CECE.put(c, int(cece))
        for f, value in ((CES, ces), (UEDS, ueds), (UECS, uecs)):
            if value is not None:
                code = value if isinstance(value, int) else SIGNAL_CODES.get(value)
                if code is None or not 0 <= code <= 3:
                    raise ConfigError(f"reri {self.name!r}: signal {value!r} is invalid; use off/low/high/platform")
                c = f.put(c, code)
        rec.control = c & CONTROL_STORED

    def status(self, record: int) -> int:
        return self._rec(record).status

    def read_record(self, record: int) -> dict[str, int]:
        """The record's registers with status decoded (what a RAS handler reads out)."""
        rec = self._rec(record)
        return {"control": self._control_value(rec), "status": rec.status, **decode_status(rec.status),
                "addr_info": rec.addr_info, "info": rec.info, "suppl_info": rec.suppl_info,
                "timestamp": rec.timestamp}  # fmt: skip

    def asserted(self, kind: str) -> bool:
        """The bank's aggregate output for a signal kind ("low", "high", "platform")."""
        return self._levels[kind]

    # --- the hardware side: reporting an error -----------------------------------------------------------
    def log(
        self,
        record: int,
        severity: str = "CE",
        *,
        ec: int = EC_OTHER,
        pri: int = 0,
        c: bool = False,
        addr: int | None = None,
        ait: int | None = None,
        tt: int = TT_UNSPECIFIED,
        info: int | None = None,
        suppl_info: int | None = None,
        scrub: bool = False,
    ) -> dict:
        """Report an error to `record` and apply the record-writing rules (reri_err_reporting.adoc
        "Error Record Overwrite Rules"). Returns (and emits as `reri.log`) what happened:
        `outcome` is "logged" (record was invalid), "overwritten", "counted-only" (a CE that did not overwrite
        but was counted in cec), "lost" (the error's details were not kept; `mo` tells whether it was of the
        same class) or "disabled" (control.else = 0: not logged, counted or signalled)."""
        rec = self._rec(record)
        sev = SEVERITIES.get(severity.upper() if isinstance(severity, str) else severity)
        if sev is None:
            raise ConfigError(f"reri {self.name!r}: severity {severity!r} is invalid; use CE, UED, UEC or INFO")
        if addr is not None and ait is None:
            ait = AIT_SPA
        ait = ait or AIT_NONE
        ts = self.clock.now() if self.clock is not None else None
        if not rec.control & ELSE.mask:
            return self._report(record, rec, "disabled", sev, ec, tt, ait, pri, c, addr, info, suppl_info, ts, [])

        st = rec.status
        signals: list[str] = []
        counted = False
        if sev == CE_SEV and rec.control & CECE.mask:
            # cec counts every CE, valid record or not; an overflow sets ceco, and ceco 0 -> 1 signals via ces
            counted = True
            cec = CEC.get(st) + 1
            if cec >> CEC.width:
                if not st & CECO.mask:
                    signals.append("ceco")
                st |= CECO.mask
            st = CEC.put(st, cec)
        new_class = CLASS_BIT[sev]
        overwrite = False
        if st & V.mask:
            old_sev = severity_of(st)
            if sev > old_sev:
                st &= ~MO.mask  # a higher severity overwrites and clears mo
                overwrite = True
            if sev == old_sev:
                st |= MO.mask  # a second error of the same severity sets mo
                overwrite = pri > PRI.get(st)  # and overwrites only if of higher priority
            st &= ~RDIP.mask  # any update of a valid record clears rdip
            st |= new_class  # class bits are sticky
            outcome = "overwritten" if overwrite else ("counted-only" if counted else "lost")
        else:
            # Invalid record: logged afresh; the one class bit of the error, mo = 0, rdip = 1.
            st = (st & ~(CE.mask | UED.mask | UEC.mask | MO.mask)) | new_class | RDIP.mask
            overwrite = True
            outcome = "logged"
        if overwrite:
            new = (PRI.put(0, pri) | C.put(0, int(c)) | TT.put(0, tt) | AIT.put(0, ait) | IV.put(0, info is not None)
                   | SIV.put(0, suppl_info is not None) | TSV.put(0, ts is not None) | SCRUB.put(0, int(scrub))
                   | EC.put(0, ec))  # fmt: skip
            st = (st & ~ERROR_FIELDS) | new | V.mask
            if ait:
                rec.addr_info = (addr or 0) & M64
            if info is not None:
                rec.info = info & M64
            if suppl_info is not None:
                rec.suppl_info = suppl_info & M64
            if ts is not None:
                rec.timestamp = ts & M64
        rec.status = st
        # Every logged error asserts the signal of its class; a CE does not while cece = 1 (only the ceco
        # overflow does); informational updates use ces.
        if not (sev == CE_SEV and counted):
            signals.insert(0, "class")
        kinds = self._signal_kinds(rec, sev, signals)
        # the log event comes first, then whatever the signals cause downstream
        result = self._report(record, rec, outcome, sev, ec, tt, ait, pri, c, addr, info, suppl_info, ts, kinds)
        self._assert(record, rec, kinds)
        return result

    @staticmethod
    def _signal_kinds(rec: _Record, sev: int, which: list[str]) -> list[str]:
        """The configured signals: "class" = the enable of `sev`'s class, "ceco" = ces; disabled ones drop out."""
        enable = {UEC_SEV: UECS, UED_SEV: UEDS}.get(sev, CES)
        kinds = [SIGNAL_KINDS[(enable if w == "class" else CES).get(rec.control)] for w in which]
        return [k for k in kinds if k is not None]

    def _assert(self, record: int, rec: _Record, kinds: list[str]) -> None:
        for kind in kinds:
            rec.asserted.add(kind)
            if self.on_signal is not None:
                self.on_signal(kind, record)
        self._update_levels()
        return kinds

    def _report(
        self,
        record: int,
        rec: _Record,
        outcome: str,
        sev: int,
        ec: int,
        tt: int,
        ait: int,
        pri: int,
        c: bool,
        addr: int | None,
        info: int | None,
        suppl_info: int | None,
        ts: int | None,
        signals: list[str],
    ) -> dict:
        # Shaped after rasdaemon's ras:reri_event (err_src_id, source_type, hart_id, status, addr_info, info,
        # suppl_info, timestamp_val) plus the decoded fields of the reported error.
        st = rec.status
        fields = {
            "bank": self.name, "record": record, "outcome": outcome, "severity": SEVERITY_NAMES[sev],
            "ec": ec, "tt": tt, "ait": ait, "pri": pri, "c": int(bool(c)), "addr_info": addr,
            "info": info, "suppl_info": suppl_info, "timestamp_val": ts, "status": st, "mo": MO.get(st),
            "rdip": RDIP.get(st), "cec": CEC.get(st), "ceco": CECO.get(st), "signals": signals,
            "err_src_id": self.inst_id, "source_type": self.source_type, "hart_id": self.hart_id,
        }  # fmt: skip
        if self.events is not None:
            self.events.emit("reri.log", **fields)
        return fields

    def _update_levels(self) -> None:
        for rec in self._records:
            if not rec.status & (V.mask | CECO.mask):
                rec.asserted.clear()
        for kind in self._levels:
            level = any(kind in rec.asserted for rec in self._records)
            if level != self._levels[kind]:
                self._levels[kind] = level
                if self.on_level is not None:
                    self.on_level(kind, level)

    # --- eid: error-record injection ---------------------------------------------------------------------
    def _eid_remaining(self, rec: _Record) -> int:
        if rec.eid_deadline is None or self.clock is None:
            return 0
        left = rec.eid_deadline - self.clock.now()
        return max(0, -(-left // self.eid_tick_ns))

    def _start_eid(self, record: int, rec: _Record, count: int) -> None:
        rec.eid_generation += 1
        rec.eid_deadline = None
        if count == 0 or self.clock is None:
            return  # writing 0 disables the counter; without a clock eid is read-only zero
        rec.eid_deadline = self.clock.now() + count * self.eid_tick_ns
        self._eid_timer(record, rec)

    def _eid_timer(self, record: int, rec: _Record) -> None:
        assert self.clock is not None and rec.eid_deadline is not None
        generation = rec.eid_generation
        self.clock.at(rec.eid_deadline, lambda _now: self._eid_expired(record, rec, generation),
                      tag=f"{self.name}:eid{record}")  # fmt: skip

    def _eid_expired(self, record: int, rec: _Record, generation: int) -> None:
        if generation != rec.eid_generation:
            return  # rewritten or cancelled since
        rec.eid_deadline = None
        if rec.status & V.mask:
            return  # already valid (e.g. overwritten by a hardware error): no 0 -> 1 transition, no signal
        # v 0 -> 1 signals for the class set up in status_i. We also set rdip, as for any record that becomes
        # valid from invalid, so the handler's sinv works (the spec names only v).
        rec.status |= V.mask | RDIP.mask
        sev = severity_of(rec.status)
        fired = self._signal_kinds(rec, sev, ["class"]) if rec.control & ELSE.mask else []
        st = rec.status
        self._report(record, rec, "injected", sev, EC.get(st), TT.get(st), AIT.get(st), PRI.get(st), bool(C.get(st)),
                     rec.addr_info if AIT.get(st) else None, rec.info if IV.get(st) else None,
                     rec.suppl_info if SIV.get(st) else None, rec.timestamp if TSV.get(st) else None,
                     fired)  # fmt: skip
        self._assert(record, rec, fired)

    # --- checkpoints -----------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Every record's registers, its eid countdown (deadline and generation) and the signals it holds
        asserted, and the bank's output levels (what the wired interrupt lines already saw)."""
        records = [[r.control, r.status, r.addr_info, r.info, r.suppl_info, r.timestamp, r.eid_deadline,
                    r.eid_generation, sorted(r.asserted)] for r in self._records]  # fmt: skip
        return {"records": records, "levels": dict(self._levels)}

    def restore(self, state: dict) -> None:
        for i, (rec, saved) in enumerate(zip(self._records, state["records"], strict=True)):
            (rec.control, rec.status, rec.addr_info, rec.info, rec.suppl_info, rec.timestamp, rec.eid_deadline,
             rec.eid_generation, asserted) = saved  # fmt: skip
            rec.asserted = set(asserted)
            if rec.eid_deadline is not None and self.clock is not None:
                self._eid_timer(i, rec)
        self._levels.update(state["levels"])  # no on_level calls: the lines' receivers restore their own state

    # --- MMIO ----------------------------------------------------------------------------------------------
    def _control_value(self, rec: _Record) -> int:
        return rec.control | EID.put(0, self._eid_remaining(rec))

    def _read_reg(self, reg: int) -> int:
        if reg < 64:
            if reg == VENDOR_N_IMP_ID:
                return self.imp_id << 32 | self.vendor_id
            if reg == BANK_INFO:
                return VERSION << 56 | self.n_records << 16 | self.inst_id  # layout 0
            if reg == VALID_SUMMARY:
                bitmap = sum(1 << (i + 1) for i, r in enumerate(self._records) if r.status & V.mask)
                return bitmap | 1  # sv = 1: bit i+1 mirrors record i's v
            return 0  # reserved and custom
        i, r = divmod(reg - 64, 64)
        if i >= self.n_records:
            return 0  # unimplemented registers read zero
        rec = self._records[i]
        return {CONTROL: self._control_value(rec), STATUS: rec.status, ADDR_INFO: rec.addr_info, INFO: rec.info,
                SUPPL_INFO: rec.suppl_info, TIMESTAMP: rec.timestamp}.get(r, 0)  # fmt: skip

    def load(self, off: int, size: int) -> int:
        # Aligned 4- and 8-byte accesses are defined; anything else is UNSPECIFIED — this model faults.
        if size not in (4, 8) or off % size:
            raise AccessFault
        value = self._read_reg(off & ~7)
        return (value >> 32) & 0xFFFFFFFF if size == 4 and off & 4 else value & ((1 << (8 * size)) - 1)

    def store(self, off: int, size: int, value: int) -> None:
        if size not in (4, 8) or off % size:
            raise AccessFault
        reg = off & ~7
        # An 8-byte access may act as two 4-byte halves; `mask` marks the half (or both) written.
        shift = 32 if size == 4 and off & 4 else 0
        mask = (((1 << (8 * size)) - 1) << shift) & M64
        value = (value << shift) & mask
        if reg < 64:
            return  # the header is read-only
        i, r = divmod(reg - 64, 64)
        if i >= self.n_records:
            return
        rec = self._records[i]
        if r == CONTROL:
            self._write_control(i, rec, value, mask)
        elif r == STATUS:
            if rec.status & V.mask:
                return  # status_i does not accept software writes while v = 1
            rec.status = ((rec.status & ~mask) | value) & STATUS_DEFINED
            self._update_levels()
        elif r in (ADDR_INFO, INFO, SUPPL_INFO, TIMESTAMP):
            # WARL and writable (software sets up a record before an eid injection); the spec write-protects
            # only status_i while v = 1.
            name = {ADDR_INFO: "addr_info", INFO: "info", SUPPL_INFO: "suppl_info", TIMESTAMP: "timestamp"}[r]
            setattr(rec, name, (getattr(rec, name) & ~mask) | value)

    def _write_control(self, record: int, rec: _Record, value: int, mask: int) -> None:
        rec.control = ((rec.control & ~mask) | value) & CONTROL_STORED
        if mask & EID.mask:
            self._start_eid(record, rec, EID.get(value))
        if value & SRDP.mask:
            rec.status |= RDIP.mask
        if value & SINV.mask and rec.status & RDIP.mask:
            rec.status &= ~V.mask  # sinv clears v only while rdip = 1 (with srdp in the same write: set, clear)
        self._update_levels()
