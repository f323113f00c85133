"""The copy_mc family: the arch hook and the highmem page wrappers its callers use.

copy_mc_to_kernel() runs real machine code on hart 0: the firmware's `__memcpy_mc` when the kernel has
the RISC-V patch (arch_copy_mc), otherwise the generic fallback of <linux/uaccess.h>, `memcpy()` and
`return 0`, which has no exception-table entry and dies on poison.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .memory_failure import memory_failure_queue

if TYPE_CHECKING:
    from .kernel import Kernel

PAGE_SIZE = 4096
PAGE_SHIFT = 12
EHWPOISON = 133


def copy_mc_to_kernel(kernel: Kernel, dst: int, src: int, n: int) -> int:
    """0 on success, else the number of bytes not copied (memcpy_mc's a2 at the fault: an upper bound)."""
    if kernel.arch_copy_mc:
        ret = kernel.call("__memcpy_mc", dst, src, n)
    else:
        kernel.call("__memcpy", dst, src, n)
        ret = 0
    kernel.plat.events.emit("copy_mc", dst=dst, src=src, n=n, ret=ret, arch=kernel.arch_copy_mc)
    return ret


def copy_mc_highpage(kernel: Kernel, to: int, frm: int, caller: str = "copy_mc_highpage") -> int:
    """include/linux/highmem.h: copy one page; on failure queue the *source* pfn for memory_failure.

    Before returning a failure the kernel model asks the recovery policy (plugins): Linux's own policy
    propagates it; a vendor policy may retry from a clean replica, and a successful retry returns 0."""
    ret = copy_mc_to_kernel(kernel, to, frm, PAGE_SIZE)
    if ret:
        memory_failure_queue(kernel, frm >> PAGE_SHIFT, 0)  # the *source* pfn (a destination fault panics)
        decision = kernel.decide({"caller": caller, "src": frm, "dst": to, "n": PAGE_SIZE, "ret": ret,
                                  "pfn": frm >> PAGE_SHIFT})  # fmt: skip
        if decision["action"] == "retry":
            ret = copy_mc_to_kernel(kernel, to, decision["src"], PAGE_SIZE)
            kernel.plat.events.emit("policy.retry", caller=caller, src=decision["src"], ret=ret)
    return ret


def copy_mc_user_highpage(kernel: Kernel, to: int, frm: int) -> int:
    """Same contract as copy_mc_highpage; the COW path (__wp_page_copy_user) uses this one."""
    return copy_mc_highpage(kernel, to, frm, caller="copy_mc_user_highpage")


def copy_mc_to_user(kernel: Kernel, task: object, to: int, frm: int, n: int) -> int:
    """The patch's copy_mc_to_user(): raw_copy_to_user, i.e. the firmware's __asm_copy_to_user, run in S-mode
    with the task's address space and sstatus.SUM set. Every load and store has a fixup, so a poisoned source
    or an unmapped user page gives a short copy; the return is exactly the bytes of `to` not written."""
    from ..hart.csr import SUM

    hart = kernel.hart
    kernel.boot()
    satp, status = hart.csr.satp, hart.csr.mstatus
    if satp != task.pagetable.satp:  # type: ignore[attr-defined]
        hart.csr["satp"] = task.pagetable.satp  # type: ignore[attr-defined]
    hart.csr.mstatus |= SUM
    try:
        ret = kernel.call("__asm_copy_to_user", to, frm, n)
    finally:
        hart.csr.mstatus = (hart.csr.mstatus & ~SUM) | (status & SUM)
        if hart.csr.satp != satp:
            hart.csr["satp"] = satp
    kernel.plat.events.emit("copy_mc_to_user", pid=task.pid, to=to, frm=frm, n=n, ret=ret)  # type: ignore[attr-defined]
    return ret
