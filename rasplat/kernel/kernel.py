"""The modeled kernel: it owns hart 0's S-mode trap vector and runs firmware functions in S-mode.

It boots hart 0 the way an SBI firmware hands over to Linux (exceptions and supervisor interrupts
delegated, the S-mode vector pointing at the model), runs S-mode functions with `call`, and handles the
traps they take as RISC-V Linux does: a kernel-mode exception consults the exception table and either
resumes at the fixup or dies with an oops. The M-mode vector is a minimal SBI firmware.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from ..elf import load_file
from ..errors import ConfigError, KernelPanic, RunError
from ..hart.csr import SIE, SPP, S
from ..hart.decode import REG_NAMES
from ..hart.trap import INTERRUPT, cause_name, pending_interrupt, sret
from . import copy_mc
from .cxl import probe_cxl
from .extable import ExceptionTable, ExtableBug, fixup_exception
from .firmware import EID_SSE, LOCAL_HIGH_PRIO_RAS, LOCAL_LOW_PRIO_RAS, SSE_COMPLETE, SSE_ENABLE, SSE_REGISTER, Firmware
from .irq import Irq
from .memory_failure import drain_queue
from .mm import Mm
from .tasks import Scheduler

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
USER_ELF = "user.elf"
POOL_OFFSET, POOL_SIZE = 16 << 20, 112 << 20  # tasks' pages: 0x8100_0000..0x8800_0000 on the default platform
KTEXT = 0x80F0_0000  # kernel-model text the model writes at boot (below the kernel stacks)
SBI_STUB, SSE_COMPLETE_STUB, SSE_ENTRY = KTEXT, KTEXT + 8, KTEXT + 0x40
KSTACK = 16 << 10
ECALL, RET = 0x00000073, 0x00008067
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
        self._depth = 0  # nested calls (a trap handler calling firmware code) get their own stack frames
        self.irq = Irq(self)
        self.sbi = Firmware(self)
        self.scheduler = Scheduler(self)
        self.mf_queue: list[tuple[int, int]] = []  # memory_failure_queue() work, drained by after_operation()
        self._mm: Mm | None = None
        self._user: Image | None = None

    @property
    def mm(self) -> Mm:
        """The memory manager; its page pool is the DRAM between the kernel-model area and 0x8800_0000."""
        if self._mm is None:
            region = self.plat.memory_at(self.firmware.entry, "kernel page pool")
            base = region.base + POOL_OFFSET
            self._mm = Mm(self, (base, min(region.end, base + POOL_SIZE)))
        return self._mm

    def user_program(self) -> Image:
        """rasplat/firmware/user.elf: the programs tasks run (linked at a user address, loaded into pages)."""
        if self._user is None:
            self._user, _ = load_file(resources.files("rasplat.firmware") / USER_ELF)
        return self._user

    def after_operation(self) -> list[dict]:
        """Work the kernel defers to the end of an operation: the memory_failure() queue."""
        return drain_queue(self)

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
        # a page of kernel text the model writes itself: SBI call stubs and the SSE entry point
        stubs = b"".join(i.to_bytes(4, "little") for i in (ECALL, RET, ECALL))  # sbi_call: ecall; ret / complete
        self.plat.bus.write(KTEXT, stubs)
        h.hooks[SSE_ENTRY] = self._sse_entry
        self.booted = True
        delivery = self.plat.ras_delivery
        self.plat.events.emit("boot", hart=h.hartid, medeleg=MEDELEG, mideleg=MIDELEG, ras=delivery)
        self.irq.setup(h, delivery)
        self.cxl = probe_cxl(self)
        if delivery == "firmware-first":
            for event_id in (LOCAL_HIGH_PRIO_RAS, LOCAL_LOW_PRIO_RAS):
                for fid, args in ((SSE_REGISTER, (event_id, SSE_ENTRY, event_id)), (SSE_ENABLE, (event_id,))):
                    error, _ = self.sbi_call(EID_SSE, fid, *args)
                    if error:
                        raise ConfigError(f"kernel: SBI SSE fid {fid} for event {event_id:#x} failed ({error})")

    def idle(self) -> None:
        """Let the kernel take whatever interrupts are pending (as its idle loop would), then return."""
        self.call(SBI_STUB + 4)  # the stub's `ret`: interrupts are enabled, so pending ones are taken first

    def sbi_call(self, eid: int, fid: int, *args: int) -> tuple[int, int]:
        """An SBI call made the way Linux makes it: `ecall` from S-mode with a7 = EID, a6 = FID. → (error, value)"""
        regs = [*args, *[0] * (6 - len(args))][:6]
        error = self.call(SBI_STUB, *regs, fid, eid)
        value = self.hart.x[11]
        return error - (1 << 64) if error >> 63 else error, value

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
        h = self.hart
        self.prepare_call(fn, args)
        self._result = None
        self._depth += 1
        try:
            retired, stopped = h.run(max_steps)
            # an interrupt that became pending at the very end is still taken before the call is over
            while stopped and pending_interrupt(h) is not None:
                retired, stopped = h.run(max_steps)
        finally:
            self._depth -= 1
        if not stopped or self._result is None:
            raise RunError(
                f"kernel.call({fn!r}) did not return within {max_steps} instructions "
                f"(pc={h.pc:#x}, {self.symbolize(h.pc) or 'no symbol'})"
            )
        return self._result

    def prepare_call(self, fn: str | int, args: tuple[int, ...], *, interrupts: bool = True,
                     clean: bool = False) -> int:  # fmt: skip
        """Set hart 0 up to run fn(*args) as `call` does: a0.. = args, ra = the model's return hook, sp = the
        kernel stack (below any call in progress), S-mode, interrupts enabled (kernel code runs with them on).
        `clean` zeroes every other register first, for runs that must depend on their inputs only."""
        self.boot()
        h = self.hart
        addr = self.resolve(fn)
        if clean:
            h.x[:] = [0] * 32
        for i, value in enumerate(args):
            h.x[10 + i] = value & M64
        h.x[1] = self.firmware.symbol("rasplat_call_return")
        h.x[2] = STACK_TOP - self._depth * KSTACK
        h.pc = addr
        h.set_privilege(S)
        h.csr.mstatus = h.csr.mstatus | SIE if interrupts else h.csr.mstatus & ~SIE
        return addr

    def _returned(self, hart: Hart) -> bool:
        self._result = hart.x[10]
        return True

    # --- S-mode trap handling (arch/riscv/kernel/traps.c, mm/fault.c) ------------------------------------------
    def _supervisor_trap(self, hart: Hart) -> bool:
        csr = hart.csr
        cause = csr.scause
        if cause & INTERRUPT:
            self.irq.supervisor(hart, cause & ~INTERRUPT)
            sret(hart)
            return False
        if not csr.mstatus & SPP:
            return self.scheduler.user_trap(hart, cause)
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

    # --- M-mode: the firmware model (SBI, firmware-first RAS) ------------------------------------------------
    def _machine_trap(self, hart: Hart) -> bool:
        return self.sbi.trap(hart)

    def _sse_entry(self, hart: Hart) -> bool:
        """The kernel's SSE RAS handler (what GHES does on an SSE notification): log what the firmware read,
        then `sbi_sse_complete`, which resumes the interrupted context."""
        records, self.sbi.error_status = self.sbi.error_status, []
        for record in records:
            self.plat.events.emit("reri_event", **{**record, "reader": "kernel (SSE)"})
        hart.x[17], hart.x[16] = EID_SSE, SSE_COMPLETE
        hart.pc = SSE_COMPLETE_STUB
        return False

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
        if decision["action"] == "isolate" and "pfn" in failure:
            self.isolate_page(failure["pfn"])
        if decision["action"] not in ("propagate", "retry", "isolate"):
            raise ConfigError(f"recovery policy returned unknown action {decision['action']!r} for {failure}")
        return decision

    def soft_offline_page(self, pfn: int) -> bool:
        """soft_offline_page: move a still-readable page's contents elsewhere and retire the frame. False when
        the copy fails (the page went bad meanwhile)."""
        from .callers import migrate_folio

        page = self.mm.allocator.page(pfn)
        if page is not None and page.mappers:
            if migrate_folio(self, page, reason="soft-offline"):
                return False
        self.isolate_page(pfn)
        return True

    def hard_offline_page(self, pfn: int) -> bool:
        """hard_offline_page: memory_failure() on the frame, as rasdaemon's sysfs write does."""
        from .memory_failure import RECOVERED, memory_failure

        return memory_failure(self, pfn, 0)["action_result"] == RECOVERED

    def isolate_page(self, pfn: int) -> None:
        """Take a frame out of use (HWPoison, never allocated again) without memory_failure()."""
        page = self.mm.allocator.page(pfn)
        if page is not None:
            page.flags.add("hwpoison")
        self.mm.allocator.isolated.add(pfn)
        self.plat.events.emit("page.isolate", pfn=pfn)

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
