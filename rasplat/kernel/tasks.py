"""Running user tasks on the hart, and the kernel's side of their traps: system calls, page faults
(demand paging, copy-on-write), hardware errors and signals — as RISC-V Linux handles them.

RISC-V specifics the model reproduces (sources in the docstrings of the functions):
- a VM_FAULT_HWPOISON from the fault path reaches `mm_fault_error`, which sends SIGBUS with **BUS_ADRERR**
  and no si_addr_lsb (x86 and arm64 send BUS_MCEERR_AR with the page shift);
- a user-mode hardware error (cause 19) is `do_trap_hardware_error`: SIGBUS BUS_MCEERR_AR with si_addr = the
  pc of the faulting instruction; only with memory_failure support does the consumed page get isolated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..hart.csr import SPIE, SPP, U
from ..hart.trap import sret
from .mm import BUS_MCEERR_AR, PAGE_SHIFT, PAGE_SIZE, SIGBUS, SIGKILL, SIGSEGV, Task, Vma

if TYPE_CHECKING:
    from ..hart import Hart
    from .kernel import Kernel

SYS_WRITE, SYS_EXIT, SYS_EXIT_GROUP, SYS_SCHED_YIELD, SYS_GETPID = 64, 93, 94, 124, 172
ENOSYS, EFAULT = 38, 14
SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR = 1, 2, 2  # <asm-generic/siginfo.h>: BUS_ADRALN 1, BUS_ADRERR 2
SIGILL, SIGTRAP = 4, 5
VM_FAULT_HWPOISON = "VM_FAULT_HWPOISON"
QUANTUM = 4096
M64 = (1 << 64) - 1


class Scheduler:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.plat = kernel.plat
        self.current: Task | None = None
        self._yield = False

    # --- running --------------------------------------------------------------------------------------------
    def run(self, max_steps: int = 10_000_000) -> int:
        """Round-robin the runnable tasks on hart 0 until they have all exited or been killed."""
        kernel = self.kernel
        kernel.boot()
        hart = kernel.hart
        done = 0
        while done < max_steps:
            runnable = [t for t in kernel.mm.tasks if t.alive]
            if not runnable:
                break
            for task in runnable:
                if not task.alive:
                    continue
                self._switch_to(hart, task)
                ran, stopped = hart.run(min(QUANTUM, max_steps - done))
                done += ran
                while task.alive and hart.priv != U and not stopped:  # finish a trap taken at the slice's end
                    ran, stopped = hart.run(1)
                if task.alive and not stopped:  # preempted in U-mode (a stop saved the context in user_trap)
                    task.regs, task.pc = list(hart.x), hart.pc
                self.plat.clock.poll()
                if done >= max_steps:
                    break
        self.current = None
        return done

    def _switch_to(self, hart: Hart, task: Task) -> None:
        self.current = task
        hart.x[:] = task.regs
        if hart.csr.satp != task.pagetable.satp:
            hart.csr["satp"] = task.pagetable.satp
        hart.pc = task.pc
        hart.set_privilege(U)

    # --- traps from U-mode -------------------------------------------------------------------------------------
    def user_trap(self, hart: Hart, cause: int) -> bool:
        """Handle an exception from the current task. Returns True when the run must stop (task gone, yield)."""
        task = self.current
        if task is None:
            self.kernel.die(hart, f"trap {cause} from U-mode with no current task")
            return True
        csr = hart.csr
        task.regs, task.pc = list(hart.x), csr.sepc
        stval, epc = csr.stval, csr.sepc
        if cause == 8:
            self._syscall(task)
        elif cause in (12, 13, 15):
            self.page_fault(task, stval, cause)
        elif cause == 19:
            self.hardware_error(task, epc, stval)
        elif cause in (1, 5, 7):
            self.kernel.mm.kill(task, SIGSEGV, SEGV_ACCERR, stval, None, "access fault")
        elif cause in (0, 4, 6):
            self.kernel.mm.kill(task, SIGBUS, 1, stval, None, "misaligned access")  # BUS_ADRALN
        elif cause == 2:
            self.kernel.mm.kill(task, SIGILL, 1, epc, None, "illegal instruction")
        else:
            self.kernel.mm.kill(task, SIGTRAP, 1, epc, None, f"trap {cause}")
        self.kernel.after_operation()
        if not task.alive or self._yield:
            self._yield = False
            return True
        # return to the task (nested kernel calls may have used the trap CSRs and registers)
        hart.x[:] = task.regs
        csr.sepc = task.pc
        csr.mstatus = (csr.mstatus & ~SPP) | SPIE
        sret(hart)
        return False

    def _syscall(self, task: Task) -> None:
        nr, a = task.regs[17], task.regs[10:16]
        task.pc += 4
        ret = 0
        if nr in (SYS_EXIT, SYS_EXIT_GROUP):
            self.kernel.mm.exit(task, a[0] & 0xFF)
            return
        if nr == SYS_WRITE:
            data = self._copy_from_user(task, a[1], a[2])
            if data is None:
                ret = -EFAULT
            else:
                task.output += data
                ret = len(data)
        elif nr == SYS_GETPID:
            ret = task.pid
        elif nr == SYS_SCHED_YIELD:
            self._yield = True
        else:
            ret = -ENOSYS
        task.regs[10] = ret & M64

    def _copy_from_user(self, task: Task, va: int, n: int) -> bytes | None:
        out = bytearray()
        while len(out) < n:
            page = task.pages.get((va + len(out)) & ~(PAGE_SIZE - 1))
            if page is None:
                return None
            off = (va + len(out)) & (PAGE_SIZE - 1)
            chunk = min(PAGE_SIZE - off, n - len(out))
            out += self.plat.bus.peek(page.phys + off, chunk)
        return bytes(out)

    # --- page faults (arch/riscv/mm/fault.c, mm/memory.c) -------------------------------------------------------
    def page_fault(self, task: Task, va: int, cause: int) -> None:
        from .callers import do_cow_fault, wp_page_copy

        mm = self.kernel.mm
        vma = task.vma(va)
        need = {12: "x", 13: "r", 15: "w"}[cause]
        if vma is None:
            mm.kill(task, SIGSEGV, SEGV_MAPERR, va, None, "no mapping")
            return
        if need not in vma.prot and not (need == "r" and "w" in vma.prot):
            mm.kill(task, SIGSEGV, SEGV_ACCERR, va, None, "access_error")
            return
        page_va = va & ~((PAGE_SIZE << vma.order) - 1)
        if page_va in task.hwpoison:
            fault = VM_FAULT_HWPOISON  # a hwpoison swap entry: the page was isolated by memory_failure
        elif page_va not in task.pages:
            fault = self._demand(task, vma, page_va)
        elif cause == 15 and page_va in task.cow:
            fault = (do_cow_fault if vma.kind == "file" else wp_page_copy)(self.kernel, task, page_va)
        else:
            fault = None  # spurious: a stale translation; the return path's sfence is enough
            self.kernel.hart.sfence_vma(va)
        self.plat.events.emit("page_fault", pid=task.pid, addr=va, cause=cause, fault=fault or "handled")
        if fault == VM_FAULT_HWPOISON:
            self.mm_fault_error(task, va, vma.order)

    def _demand(self, task: Task, vma: Vma, page_va: int) -> str | None:
        """A first touch: map the file's page-cache page, or a fresh zeroed anonymous page."""
        mm = self.kernel.mm
        if vma.kind == "file" and vma.file is not None:
            page = vma.file.pages.get((page_va - vma.start) // PAGE_SIZE)
            if page is None:
                return "VM_FAULT_SIGBUS"
            if vma.shared:
                mm._map(task, page_va, page, vma.prot + "u")
            else:  # private: read-only, a write copies it (the retried store takes the COW path)
                mm._map(task, page_va, page, vma.prot.replace("w", "") + "u")
                if "w" in vma.prot:
                    task.cow.add(page_va)
            return None
        page = mm.alloc_page("anon", "lru", order=vma.order)
        mm._map(task, page_va, page, vma.prot + "u")
        return None

    def mm_fault_error(self, task: Task, va: int, order: int) -> None:
        """RISC-V's mm_fault_error: VM_FAULT_SIGBUS, VM_FAULT_HWPOISON and VM_FAULT_HWPOISON_LARGE all become
        do_trap(SIGBUS, BUS_ADRERR, addr) (linux-riscv arch/riscv/mm/fault.c @ 02c5a37a)."""
        self.kernel.mm.kill(task, SIGBUS, BUS_ADRERR, va, None, "VM_FAULT_HWPOISON (RISC-V mm_fault_error)")

    # --- a user load/store/fetch consumed poison -----------------------------------------------------------------
    def hardware_error(self, task: Task, epc: int, va: int) -> None:
        """do_trap_hardware_error: SIGBUS BUS_MCEERR_AR, si_addr = epc (7.x mainline; kernel-copy-mc.md §6).
        With memory_failure support (the HEE->APEI proposals), the consumed page is handled with
        MF_ACTION_REQUIRED instead: the task gets BUS_MCEERR_AR at the data address, the page is isolated."""
        from .memory_failure import MF_ACTION_REQUIRED, memory_failure

        pte = task.pagetable.lookup(va)
        if self.plat.memory_failure == "supported" and pte is not None:
            pfn = ((pte >> 10) << 12 | va & (PAGE_SIZE - 1)) >> PAGE_SHIFT
            memory_failure(self.kernel, pfn, MF_ACTION_REQUIRED, current=task)
            if task.alive:  # not mapped any more (e.g. a shared page): still the consumer's problem
                self.kernel.mm.kill(task, SIGBUS, BUS_MCEERR_AR, va, PAGE_SHIFT, "hardware error")
            return
        self.kernel.mm.kill(task, SIGBUS, BUS_MCEERR_AR, epc, None, "hardware error (do_trap_hardware_error)")

    def kill_all(self) -> None:
        for task in self.kernel.mm.tasks:
            if task.alive:
                self.kernel.mm.kill(task, SIGKILL, 0, None, None, "shutdown")
