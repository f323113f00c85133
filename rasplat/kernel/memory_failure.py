"""memory_failure() and memory_failure_queue(), per page class, with the outcomes Linux gives.

Two platforms (`Platform.memory_failure`):
- "riscv-today" (default): RISC-V does not select ARCH_SUPPORTS_MEMORY_FAILURE, so CONFIG_MEMORY_FAILURE
  cannot be enabled and memory_failure_queue() is the empty inline stub of include/linux/mm.h: the error is
  reported to the caller, the page is never isolated (kernel-copy-mc.md §6).
- "supported": what x86 and arm64 have: the queue runs memory_failure() on the page after the operation
  (a workqueue in Linux), which isolates it and signals the tasks that map it (memory-ras.md §5).

Results follow `enum mf_result` (Ignored/Failed/Delayed/Recovered); page types `enum mf_action_page_type`
with the strings of include/ras/ras_event.h; every call emits `mf.result` shaped like rasdaemon's
`memory_failure_event` (pfn, page_type, action_result).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .mm import BUS_MCEERR_AO, BUS_MCEERR_AR, PAGE_SHIFT, SIGBUS, SIGKILL, Page

if TYPE_CHECKING:
    from .kernel import Kernel
    from .mm import Task

STUB_REASON = "empty stub: RISC-V does not select ARCH_SUPPORTS_MEMORY_FAILURE"
MF_ACTION_REQUIRED, MF_MUST_KILL, MF_SOFT_OFFLINE = 1 << 0, 1 << 2, 1 << 3
IGNORED, FAILED, DELAYED, RECOVERED = "Ignored", "Failed", "Delayed", "Recovered"
EIO = 5


def memory_failure_queue(kernel: Kernel, pfn: int, flags: int) -> None:
    """Queue memory_failure(pfn) for after the current operation — or do nothing, on RISC-V today."""
    if kernel.plat.memory_failure != "supported":
        kernel.plat.events.emit("mf.queue", pfn=pfn, flags=flags, queued=False, reason=STUB_REASON)
        return
    kernel.mf_queue.append((pfn, flags))
    kernel.plat.events.emit("mf.queue", pfn=pfn, flags=flags, queued=True)


def drain_queue(kernel: Kernel) -> list[dict]:
    """The workqueue: handle every queued pfn (called when the kernel operation that queued them ends)."""
    results = []
    while kernel.mf_queue:
        pfn, flags = kernel.mf_queue.pop(0)
        results.append(memory_failure(kernel, pfn, flags))
    return results


def memory_failure(kernel: Kernel, pfn: int, flags: int, current: Task | None = None) -> dict:
    """Handle a poisoned page frame. `current` is the task that consumed it (MF_ACTION_REQUIRED)."""
    mm = kernel.mm
    page = mm.allocator.page(pfn)
    actions: list[str] = []
    if kernel.plat.memory_failure != "supported":
        return _result(kernel, pfn, "unknown page", IGNORED, [STUB_REASON])
    if kernel.plat.memory_failure_recovery is False:
        kernel.panic(f"Memory failure on page {pfn:#x} (vm.memory_failure_recovery = 0)")
    if page is None or page.has("kernel", "reserved", "slab"):
        kind = "kernel slab page" if page is not None and page.has("slab") else "reserved kernel page"
        return _result(kernel, pfn, kind, IGNORED, ["marked HWPoison only"])
    if page.has("hwpoison"):
        if flags & MF_ACTION_REQUIRED and current is not None:
            _kill(kernel, current, page, BUS_MCEERR_AR, actions)
        return _result(kernel, pfn, "already poisoned", FAILED, actions or ["already hardware poisoned"])
    page.flags.add("hwpoison")
    if page.has("buddy"):
        mm.allocator.isolated.add(pfn)
        return _result(kernel, pfn, "free buddy page", RECOVERED, ["taken off the free lists"])
    if page.order and not page.has("huge") and page.refs:  # a THP that cannot be split
        return _result(kernel, pfn, "unsplit thp", FAILED, ["split_huge_page failed (extra references)"])
    if page.refs:  # pinned (GUP) or in-flight: cannot unmap, owners are killed
        for task, _va in list(page.mappers):
            mm.kill(task, SIGKILL, 0, None, None, "failure to unmap corrupted page")
            actions.append(f"SIGKILL pid {task.pid}")
        return _result(kernel, pfn, "unmapping failed page", FAILED, actions)
    if page.has("huge"):
        page_type = "huge page"
    elif page.has("swapcache"):
        if page.has("dirty"):
            page.flags.discard("dirty")
            return _result(kernel, pfn, "dirty swapcache page", DELAYED, ["dirty and uptodate cleared"])
        return _result(kernel, pfn, "clean swapcache page", RECOVERED, ["dropped from the swap cache"])
    elif page.file is not None:
        page_type = "dirty LRU page" if page.has("dirty") else "clean LRU page"
        if page.has("dirty"):
            page.file.error = -EIO  # mapping_set_error: a later fsync/write reports EIO
            actions.append(f"mapping_set_error(-EIO) on {page.file.name}")
        page.file.pages.pop(page.index, None)
        actions.append("truncated from the page cache")
    else:
        page_type = "dirty LRU page"  # anonymous memory is always dirty
    for task, va in list(page.mappers):
        mm.unmap_poisoned(task, va)
        actions.append(f"unmapped from pid {task.pid} at {va:#x}")
        if current is task and flags & MF_ACTION_REQUIRED:
            _kill(kernel, task, page, BUS_MCEERR_AR, actions, va)
        elif task.early_kill or flags & MF_MUST_KILL:
            _kill(kernel, task, page, BUS_MCEERR_AO, actions, va)
    mm.allocator.isolated.add(pfn)
    return _result(kernel, pfn, page_type, RECOVERED, actions)


def _kill(kernel: Kernel, task: Task, page: Page, code: int, actions: list[str], va: int | None = None) -> None:
    lsb = PAGE_SHIFT + page.order if page.has("huge") else PAGE_SHIFT
    kernel.mm.kill(task, SIGBUS, code, va, lsb, "memory failure")
    actions.append(f"SIGBUS {'BUS_MCEERR_AR' if code == BUS_MCEERR_AR else 'BUS_MCEERR_AO'} to pid {task.pid}")


def _result(kernel: Kernel, pfn: int, page_type: str, result: str, actions: list[str]) -> dict:
    """The ras:memory_failure_event of this call (what rasdaemon's memory_failure_event table records)."""
    return kernel.plat.events.emit("mf.result", pfn=pfn, page_type=page_type, action_result=result, actions=actions)
