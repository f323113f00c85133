"""The modeled kernel: it owns hart 0's S-mode trap vector and runs firmware functions in S-mode.

It boots hart 0 the way an SBI firmware hands over to Linux (exceptions and supervisor interrupts
delegated, the S-mode vector pointing at the model), runs S-mode functions with `call`, and handles the
traps they take as RISC-V Linux does: a kernel-mode exception consults the exception table and either
resumes at the fixup or dies with an oops. The M-mode vector is a minimal SBI firmware.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from ..errors import ConfigError, KernelPanic, RunError
from ..hart.csr import SPP, S
from ..hart.decode import REG_NAMES
from ..hart.trap import INTERRUPT, cause_name, mret, sret
from . import copy_mc
from .extable import ExceptionTable, ExtableBug, fixup_exception

if TYPE_CHECKING:
    from ..elf import Image
    from ..hart import Hart
    from ..platform import Platform

M64 = (1 << 64) - 1
FIRMWARE = "firmware.elf"
STACK_TOP = 0x8100_0000  # top of the kernel-model area (the first 16 MiB of DRAM)
# What an SBI implementation delegates to Linux: misaligned, access faults, illegal, breakpoint,
# ecall from U, page faults, and hardware errors (cause 19).
MEDELEG = sum(1 << c for c in (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15, 19))
MIDELEG = (1 << 1) | (1 << 5) | (1 << 9)  # supervisor software, timer and external interrupts
SBI_ERR_NOT_SUPPORTED = -2
# die() messages of arch/riscv/kernel/traps.c, by cause
OOPS_MESSAGES = {
    0: "Oops - instruction address misaligned", 1: "Oops - instruction access fault",
    2: "Oops - illegal instruction", 3: "Kernel BUG", 4: "Oops - load address misaligned",
    5: "Oops - load access fault", 6: "Oops - store (or AMO) address misaligned",
    7: "Oops - store (or AMO) access fault", 8: "Oops - environment call from U-mode",
    19: "Oops - hardware error",
}  # fmt: skip
PAGE_FAULTS = (12, 13, 15)


def firmware_path() -> str:
    return str(resources.files("rasplat.firmware") / FIRMWARE)


class Kernel:
    def __init__(self, plat: Platform, arch_copy_mc: bool = True) -> None:
        self.plat = plat
        self.hart: Hart = plat.harts[0]
        self.arch_copy_mc = arch_copy_mc
        self.firmware: Image = plat.load_elf(firmware_path())
        self.extable = ExceptionTable(self.firmware.extable)
        self.images: list[Image] = [self.firmware]
        self.booted = False
        self._result: int | None = None

    # --- boot and calls ------------------------------------------------------------------------------------
    def boot(self) -> None:
        """Hand hart 0 over to the kernel model as an SBI firmware would (done on the first call)."""
        if self.booted:
            return
        h, fw = self.hart, self.firmware
        h.csr["medeleg"] = MEDELEG
        h.csr["mideleg"] = MIDELEG
        h.csr["mcounteren"] = 7
        h.csr["mtvec"] = fw.symbol("rasplat_mtrap_vector")
        h.csr["stvec"] = fw.symbol("rasplat_strap_vector")
        h.hooks[fw.symbol("rasplat_strap_vector")] = self._supervisor_trap
        h.hooks[fw.symbol("rasplat_mtrap_vector")] = self._machine_trap
        h.hooks[fw.symbol("rasplat_call_return")] = self._returned
        self.booted = True
        self.plat.events.emit("boot", hart=h.hartid, medeleg=MEDELEG, mideleg=MIDELEG)

    def resolve(self, fn: str | int) -> int:
        if isinstance(fn, int):
            return fn
        for image in reversed(self.images):
            if fn in image.symbols:
                return image.symbols[fn]
        raise ConfigError(f"kernel: no symbol {fn!r} in {', '.join(i.path for i in self.images)}")

    def load_module(self, path: str) -> Image:
        """Load another ELF whose functions and __ex_table entries join the kernel's (like a module)."""
        image = self.plat.load_elf(path)
        self.images.append(image)
        self.extable.add(image.extable)
        return image

    def call(self, fn: str | int, *args: int, max_steps: int = 50_000_000) -> int:
        """Run an S-mode function on hart 0 with the standard calling convention until it returns; → a0."""
        if len(args) > 8:
            raise ConfigError(f"kernel.call: at most 8 register arguments, got {len(args)}")
        self.boot()
        h = self.hart
        addr = self.resolve(fn)
        for i, value in enumerate(args):
            h.x[10 + i] = value & M64
        h.x[1] = self.firmware.symbol("rasplat_call_return")
        h.x[2] = STACK_TOP
        h.pc = addr
        h.set_privilege(S)
        self._result = None
        retired, stopped = h.run(max_steps)
        if not stopped or self._result is None:
            raise RunError(
                f"kernel.call({fn!r}) did not return within {max_steps} instructions "
                f"(pc={h.pc:#x}, {self.symbolize(h.pc) or 'no symbol'})"
            )
        return self._result

    def _returned(self, hart: Hart) -> bool:
        self._result = hart.x[10]
        return True

    # --- S-mode trap handling (arch/riscv/kernel/traps.c, mm/fault.c) ------------------------------------------
    def _supervisor_trap(self, hart: Hart) -> bool:
        csr = hart.csr
        cause = csr.scause
        if cause & INTERRUPT:
            self.die(hart, f"unexpected {cause_name(cause)} (no handler registered)")
        if not csr.mstatus & SPP:
            self.die(hart, f"{cause_name(cause)} from U-mode: the kernel model has no user tasks yet")
        if cause == 3:
            self.die(hart, OOPS_MESSAGES[3])
        try:
            fields = fixup_exception(hart, self.extable)
        except ExtableBug as e:
            self.die(hart, f"kernel BUG: {e}")
        if fields is None:
            if cause in PAGE_FAULTS:
                self.die(hart, f"Unable to handle kernel paging request at virtual address {csr.stval:016x}")
            self.die(hart, OOPS_MESSAGES.get(cause, f"Oops - {cause_name(cause)}"))
        self.plat.events.emit("fixup", hart=hart.hartid, cause=cause, name=cause_name(cause), **fields)
        sret(hart)
        return False

    # --- M-mode: a minimal SBI firmware ------------------------------------------------------------------------
    def _machine_trap(self, hart: Hart) -> bool:
        csr = hart.csr
        if csr.mcause == 9:  # ecall from S: an SBI call. No extension is implemented yet.
            self.plat.events.emit("sbi", hart=hart.hartid, eid=hart.x[17], fid=hart.x[16], error="not supported")
            hart.x[10] = SBI_ERR_NOT_SUPPORTED & M64
            hart.x[11] = 0
            csr.mepc = csr.mepc + 4
            mret(hart)
            return False
        self.die(hart, f"firmware: unhandled M-mode trap: {cause_name(csr.mcause)}", machine=True)
        return False  # unreachable: die raises

    # --- recovery policy -------------------------------------------------------------------------------------
    def decide(self, failure: dict) -> dict:
        """Ask the recovery-policy plugins what to do about a failure (the built-in `linux` policy answers
        last: propagate). A `panic` decision kills the kernel model."""
        failure = {**failure, "policy": self.plat.policy}
        decision = self.plat.plugins.hook.rasplat_recovery_policy(platform=self.plat, failure=failure)
        decision = decision or {"action": "propagate"}
        self.plat.events.emit("policy", caller=failure.get("caller"), selected=failure["policy"], **decision)
        if decision["action"] == "panic":
            self.panic(f"recovery policy {decision.get('policy', failure['policy'])!r}: {decision.get('reason', '')}")
        if decision["action"] not in ("propagate", "retry"):
            raise ConfigError(f"recovery policy returned unknown action {decision['action']!r} for {failure}")
        return decision

    def panic(self, message: str) -> None:
        """panic() outside any trap: the event, then KernelPanic."""
        oops = {"hart": self.hart.hartid, "message": message, "cause": None, "epc": self.hart.pc}
        self.plat.events.emit("panic", **oops)
        raise KernelPanic(f"kernel panic: {message}", oops)

    # --- death -----------------------------------------------------------------------------------------------
    def die(self, hart: Hart, message: str, machine: bool = False) -> None:
        csr = hart.csr
        epc = csr.mepc if machine else csr.sepc
        oops = {
            "hart": hart.hartid,
            "message": message,
            "cause": (csr.mcause if machine else csr.scause) & ~INTERRUPT,
            "interrupt": bool((csr.mcause if machine else csr.scause) & INTERRUPT),
            "epc": epc,
            "tval": csr.mtval if machine else csr.stval,
            "status": csr.mstatus,
            "symbol": self.symbolize(epc),
            "insn": hart.disassemble_at(epc),
            "regs": {REG_NAMES[r]: hart.x[r] for r in range(1, 32)},
        }
        self.plat.events.emit("panic", **oops)
        raise KernelPanic(f"kernel panic: {message} at {oops['symbol'] or hex(epc)}", oops)

    def symbolize(self, addr: int) -> str | None:
        for image in reversed(self.images):
            name = image.symbol_at(addr)
            if name:
                return name
        return None

    # --- the copy_mc family ------------------------------------------------------------------------------------
    def copy_mc_to_kernel(self, dst: int, src: int, n: int) -> int:
        """The arch hook (see copy_mc.py): 0, or the bytes not copied."""
        return copy_mc.copy_mc_to_kernel(self, dst, src, n)

    def memcpy(self, dst: int, src: int, n: int) -> int:
        """The firmware's plain memcpy; returns dst."""
        return self.call("__memcpy", dst, src, n)


def format_oops(oops: dict) -> str:
    """The oops as RISC-V Linux prints it (show_regs layout)."""
    r = oops["regs"]
    names = ["ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6",
             "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"]  # fmt: skip
    cells = [f"epc : {oops['epc']:016x}"] + [f"{n:>3} : {r[n]:016x}" for n in names]
    lines = [f"{oops['message']} [#1]", f"CPU: {oops['hart']} Comm: rasplat-kernel-model"]
    lines.append(f"epc : {oops['symbol'] or '?'}")
    lines += [" ".join(cells[i : i + 3]) for i in range(0, len(cells), 3)]
    lines.append(f"status: {oops['status']:016x} badaddr: {oops['tval']:016x} cause: {oops['cause']:016x}")
    lines.append(f"Code: {oops['insn']}")
    lines.append("Kernel panic - not syncing: Fatal exception")
    return "\n".join(lines)
