"""The callers of the copy_mc family the patch names, each reacting to a failed copy as Linux does
(kernel-copy-mc.md §5.2). Every page copy runs the firmware's memcpy_mc on the hart through
`copy_mc_user_highpage` / `copy_mc_highpage`, which also queue the source pfn for memory_failure.

| caller | on a failed copy |
|---|---|
| COW: `__wp_page_copy_user` / `wp_page_copy`, `do_cow_fault` | -EHWPOISON -> VM_FAULT_HWPOISON |
| fork: `copy_present_page` (pinned page) | -EHWPOISON, which copy_pmd_range turns into fork() = -ENOMEM |
| hugetlb: `copy_user_gigantic_page`, `copy_subpage` | -EHWPOISON -> VM_FAULT_HWPOISON_LARGE |
| THP: `__collapse_huge_page_copy`, `collapse_file` | SCAN_COPY_MC: the collapse is abandoned |
| migration, compaction, NUMA balancing: `folio_mc_copy` | -EHWPOISON: the folio stays where it was |
| KSM: `ksm_might_need_to_copy` | ERR_PTR(-EHWPOISON) -> VM_FAULT_HWPOISON |
| DAX/CXL reads: `_copy_mc_to_iter` | a short count (bytes copied), -EFAULT when nothing was copied |
| core dump: `dump_page_copy` | the page is skipped: a hole in the core file |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .copy_mc import copy_mc_highpage, copy_mc_to_kernel, copy_mc_user_highpage
from .mm import PAGE_SIZE, Page, Task

if TYPE_CHECKING:
    from .kernel import Kernel

EHWPOISON, ENOMEM, EFAULT, EAGAIN = 133, 12, 14, 11
VM_FAULT_HWPOISON, VM_FAULT_HWPOISON_LARGE = "VM_FAULT_HWPOISON", "VM_FAULT_HWPOISON"  # both SIGBUS on RISC-V
SCAN_SUCCEED, SCAN_COPY_MC = "SCAN_SUCCEED", "SCAN_COPY_MC"


def _outcome(kernel: Kernel, caller: str, **fields: object) -> None:
    kernel.plat.events.emit("caller", caller=caller, **fields)


# --- copy-on-write --------------------------------------------------------------------------------------------
def __wp_page_copy_user(kernel: Kernel, dst: Page, src: Page) -> int:
    """0, or -EHWPOISON when the source page could not be read (mm/memory.c)."""
    return -EHWPOISON if copy_mc_user_highpage(kernel, dst.phys, src.phys) else 0


def wp_page_copy(kernel: Kernel, task: Task, va: int) -> str | None:
    """A write to a copy-on-write page: copy it into a new page for this task (do_wp_page)."""
    mm = kernel.mm
    old = task.pages[va]
    if len(old.mappers) == 1 and old.file is None:  # wp_page_reuse: the last user of an anonymous page
        task.pagetable.protect(va, "rwu")
        task.cow.discard(va)
        kernel.hart.sfence_vma(va)
        _outcome(kernel, "wp_page_reuse", pid=task.pid, va=va)
        return None
    new = mm.alloc_page("anon", "lru", "dirty", zero=False)
    ret = __wp_page_copy_user(kernel, new, old)
    _outcome(kernel, "__wp_page_copy_user", pid=task.pid, va=va, src_pfn=old.pfn, ret=ret)
    if ret:
        mm.allocator.free(new)
        return VM_FAULT_HWPOISON
    mm.unmap(task, va)
    mm._map(task, va, new, "rwu")
    return None


def do_cow_fault(kernel: Kernel, task: Task, va: int) -> str | None:
    """A write to a private file mapping: copy the page-cache page into an anonymous one."""
    return wp_page_copy(kernel, task, va)


def copy_present_page(kernel: Kernel, parent: Task, va: int, page: Page) -> Page | int:
    """fork() of a page that may be DMA-pinned: copied now instead of shared. On a failed copy
    copy_present_page returns -EHWPOISON and copy_pmd_range turns any copy_pte_range error into -ENOMEM, so
    fork() fails with -ENOMEM (derived from mm/memory.c)."""
    new = kernel.mm.alloc_page("anon", "lru", "dirty", zero=False)
    if copy_mc_user_highpage(kernel, new.phys, page.phys):
        kernel.mm.allocator.free(new)
        _outcome(kernel, "copy_present_page", pid=parent.pid, va=va, ret=-EHWPOISON, fork=-ENOMEM)
        return -ENOMEM
    _outcome(kernel, "copy_present_page", pid=parent.pid, va=va, ret=0)
    return new


# --- hugetlb and THP --------------------------------------------------------------------------------------------
def copy_user_large_folio(kernel: Kernel, dst: Page, src: Page, caller: str = "copy_user_gigantic_page") -> int:
    """copy_user_gigantic_page / copy_subpage: subpage by subpage; the first failure ends the copy."""
    for i in range(1 << src.order):
        if copy_mc_user_highpage(kernel, dst.phys + i * PAGE_SIZE, src.phys + i * PAGE_SIZE):
            _outcome(kernel, caller, src_pfn=src.pfn + i, subpage=i, ret=-EHWPOISON)
            return -EHWPOISON
    _outcome(kernel, caller, src_pfn=src.pfn, ret=0)
    return 0


def hugetlb_wp(kernel: Kernel, task: Task, va: int) -> str | None:
    """A write to a shared-COW hugetlb page: copy the whole huge page; -EHWPOISON -> VM_FAULT_HWPOISON_LARGE."""
    mm = kernel.mm
    old = task.pages[va]
    new = mm.alloc_page("anon", "huge", order=old.order, zero=False)
    caller = "copy_user_gigantic_page" if old.order >= 18 else "copy_subpage"
    if copy_user_large_folio(kernel, new, old, caller):
        mm.allocator.free(new)
        return VM_FAULT_HWPOISON_LARGE
    mm.unmap(task, va)
    mm._map(task, va, new, "rwu")
    return None


def collapse_huge_page(kernel: Kernel, task: Task, va: int, file: bool = False) -> str:
    """khugepaged: copy 512 small pages into a new THP (__collapse_huge_page_copy, or collapse_file for the
    page cache). A failed copy gives SCAN_COPY_MC: the new page is freed, the small pages stay mapped."""
    mm = kernel.mm
    new = mm.alloc_page("anon", "lru", order=9, zero=False)
    for i in range(512):
        small = task.pages.get(va + i * PAGE_SIZE)
        if small is None:
            continue
        if copy_mc_user_highpage(kernel, new.phys + i * PAGE_SIZE, small.phys):
            mm.allocator.free(new)
            _outcome(kernel, "collapse_file" if file else "__collapse_huge_page_copy", pid=task.pid, va=va,
                     subpage=i, result=SCAN_COPY_MC)  # fmt: skip
            return SCAN_COPY_MC
    for i in range(512):
        if va + i * PAGE_SIZE in task.pages:
            mm.unmap(task, va + i * PAGE_SIZE)
    mm._map(task, va, new, "rwu")
    _outcome(kernel, "collapse_file" if file else "__collapse_huge_page_copy", pid=task.pid, va=va,
             result=SCAN_SUCCEED)  # fmt: skip
    return SCAN_SUCCEED


# --- migration, compaction, NUMA balancing, KSM -----------------------------------------------------------------------
def folio_mc_copy(kernel: Kernel, dst: Page, src: Page) -> int:
    """mm/util.c: copy_mc_highpage per page; -EHWPOISON on the first failure."""
    for i in range(1 << src.order):
        if copy_mc_highpage(kernel, dst.phys + i * PAGE_SIZE, src.phys + i * PAGE_SIZE, caller="folio_mc_copy"):
            return -EHWPOISON
    return 0


def migrate_folio(kernel: Kernel, page: Page, reason: str = "compaction") -> int:
    """Move a page (migration, compaction, NUMA balancing). On a failed copy the migration of this folio
    fails and it stays where it was, still mapped."""
    mm = kernel.mm
    new = mm.alloc_page(*sorted(page.flags - {"buddy"}), order=page.order, zero=False)
    ret = folio_mc_copy(kernel, new, page)
    if ret:
        mm.allocator.free(new)
        _outcome(kernel, "migrate_folio", reason=reason, pfn=page.pfn, ret=ret)
        return ret
    for task, va in list(page.mappers):
        mm.unmap(task, va)
        mm._map(task, va, new, task.vma(va).prot + "u" if task.vma(va) else "ru")
    _outcome(kernel, "migrate_folio", reason=reason, pfn=page.pfn, new_pfn=new.pfn, ret=0)
    return 0


def ksm_might_need_to_copy(kernel: Kernel, task: Task, va: int) -> Page | int:
    """Swapping in a KSM page that must be copied for this task: ERR_PTR(-EHWPOISON) when the copy fails,
    which do_swap_page turns into VM_FAULT_HWPOISON."""
    page = task.pages[va]
    new = kernel.mm.alloc_page("anon", "lru", zero=False)
    if copy_mc_user_highpage(kernel, new.phys, page.phys):
        kernel.mm.allocator.free(new)
        _outcome(kernel, "ksm_might_need_to_copy", pid=task.pid, va=va, ret=-EHWPOISON)
        return -EHWPOISON
    _outcome(kernel, "ksm_might_need_to_copy", pid=task.pid, va=va, ret=0)
    return new


# --- file I/O and core dumps -------------------------------------------------------------------------------------
def copy_mc_to_iter(kernel: Kernel, dst: int, src: int, n: int) -> int:
    """_copy_mc_to_iter for a kernel-vector iterator: returns the bytes copied (n minus memcpy_mc's
    "not copied", which is an upper bound: progress can be under-reported, never over-reported)."""
    rem = copy_mc_to_kernel(kernel, dst, src, n)
    return n - rem


def dax_read(kernel: Kernel, dst: int, src: int, n: int) -> int:
    """dax_iomap_iter's read: the bytes copied, or -EFAULT when nothing was."""
    copied = copy_mc_to_iter(kernel, dst, src, n)
    ret = copied if copied else -EFAULT
    _outcome(kernel, "dax_iomap_iter", src=src, n=n, ret=ret)
    return ret


def coredump(kernel: Kernel, task: Task, dst: int) -> dict:
    """dump_user_range through dump_page_copy: each page is copied with copy_mc_user_highpage into a bounce
    buffer; a page that cannot be read is skipped (a hole of zeros in the core), the dump goes on."""
    written, holes = [], []
    for i, va in enumerate(sorted(task.pages)):
        page = task.pages[va]
        out = dst + i * PAGE_SIZE
        if copy_mc_user_highpage(kernel, out, page.phys):
            kernel.plat.bus.write(out, bytes(PAGE_SIZE))  # dump_skip: the core file gets a hole
            holes.append(va)
        else:
            written.append(va)
    _outcome(kernel, "coredump", pid=task.pid, pages=len(written) + len(holes), holes=holes)
    return {"written": written, "holes": holes}
