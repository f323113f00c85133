"""The kernel model's memory management: physical pages with Linux's page states, files with a page cache,
tasks with Sv39 address spaces (fork shares anonymous pages copy-on-write), and signals.

Page contents live in the platform's simulated memory; these objects hold what Linux keeps in struct page,
struct vm_area_struct and struct task_struct that matters for RAS: flags, mappings and reverse mappings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .pagetable import PageTable

if TYPE_CHECKING:
    from ..bus import Bus
    from ..elf import Image
    from .kernel import Kernel

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
HPAGE_ORDER = 9  # 2 MiB
GIGANTIC_ORDER = 18  # 1 GiB
SIGBUS, SIGKILL, SIGSEGV = 7, 9, 11
BUS_MCEERR_AR, BUS_MCEERR_AO = 4, 5
# page flags (the subset of enum pageflags that decides memory_failure's path)
FLAGS = frozenset("""kernel reserved slab buddy anon lru dirty uptodate swapcache mlocked unevictable huge
                     ksm hwpoison dax pinned""".split())  # fmt: skip


@dataclass(eq=False)
class Page:
    """struct page / folio head: one physical frame, or the head of 2^order frames."""

    pfn: int
    order: int = 0
    flags: set[str] = field(default_factory=set)
    mappers: list[tuple[Task, int]] = field(default_factory=list)  # rmap: (task, user va)
    file: File | None = None  # page cache owner
    index: int = 0  # page index in the file
    refs: int = 0  # extra references (GUP pins, in-flight I/O)

    @property
    def phys(self) -> int:
        return self.pfn << PAGE_SHIFT

    @property
    def size(self) -> int:
        return PAGE_SIZE << self.order

    def has(self, *flags: str) -> bool:
        return any(f in self.flags for f in flags)

    def __repr__(self) -> str:
        return f"<Page pfn={self.pfn:#x} order={self.order} {sorted(self.flags)}>"


class PageAllocator:
    """A buddy-like allocator over [base, end): naturally aligned blocks of 2^order pages. HWPoison pages
    are never handed out again (take_off_buddy)."""

    def __init__(self, base: int, end: int) -> None:
        if base % PAGE_SIZE or end % PAGE_SIZE or end <= base:
            raise ConfigError(f"page allocator: [{base:#x}, {end:#x}) is not a page-aligned range")
        self.base, self.end = base, end
        self.pages: dict[int, Page] = {}  # allocated heads and isolated frames, by pfn
        self._next = base >> PAGE_SHIFT  # bump pointer; freed frames go to free lists by order
        self._free: dict[int, list[int]] = {}
        self.isolated: set[int] = set()

    def alloc(self, order: int = 0, flags: tuple[str, ...] = ()) -> Page:
        free = self._free.get(order)
        pfn = free.pop() if free else self._bump(order)
        page = Page(pfn, order, set(flags))
        self.pages[pfn] = page
        return page

    def _bump(self, order: int) -> int:
        count = 1 << order
        pfn = (self._next + count - 1) & ~(count - 1)
        while any(p in self.isolated for p in range(pfn, pfn + count)):
            pfn += count
        if (pfn + count) << PAGE_SHIFT > self.end:
            raise ConfigError(f"page allocator: out of memory for an order-{order} block in [{self.base:#x}, "
                              f"{self.end:#x})")  # fmt: skip
        self._next = pfn + count
        return pfn

    def free(self, page: Page) -> None:
        self.pages.pop(page.pfn, None)
        if "hwpoison" in page.flags:
            self.isolated.add(page.pfn)  # a poisoned frame never goes back on the free lists
            return
        page.flags = {"buddy"}
        self._free.setdefault(page.order, []).append(page.pfn)

    def page(self, pfn: int) -> Page | None:
        """The page holding pfn: an allocated head or a frame inside a compound page."""
        if pfn in self.pages:
            return self.pages[pfn]
        for head in self.pages.values():
            if head.pfn <= pfn < head.pfn + (1 << head.order):
                return head
        if self.base >> PAGE_SHIFT <= pfn < self.end >> PAGE_SHIFT:
            return Page(pfn, 0, {"buddy"} if pfn not in self.isolated else {"hwpoison"})
        return None


@dataclass(eq=False)
class File:
    """A file with a page cache. `error` is the mapping error a later write or fsync reports (-EIO)."""

    name: str
    pages: dict[int, Page] = field(default_factory=dict)
    error: int = 0


@dataclass(eq=False)
class Vma:
    start: int
    end: int
    prot: str  # "r", "rw", "rx", "rwx"
    kind: str = "anon"  # "anon", "file", "hugetlb"
    file: File | None = None
    pgoff: int = 0
    shared: bool = False
    order: int = 0  # page order of hugetlb mappings

    def __contains__(self, va: int) -> bool:
        return self.start <= va < self.end


@dataclass(eq=False)
class Task:
    pid: int
    comm: str
    pagetable: PageTable
    vmas: list[Vma] = field(default_factory=list)
    pages: dict[int, Page] = field(default_factory=dict)  # user va (page aligned) -> page
    cow: set[int] = field(default_factory=set)  # va of pages write-protected for copy-on-write
    state: str = "runnable"  # "runnable", "exited", "killed"
    exit_code: int | None = None
    signals: list[dict] = field(default_factory=list)
    early_kill: bool = False  # prctl(PR_MCE_KILL_EARLY)
    pc: int = 0
    regs: list[int] = field(default_factory=lambda: [0] * 32)
    output: bytearray = field(default_factory=bytearray)  # what it wrote to fd 1/2
    hwpoison: set[int] = field(default_factory=set)  # va whose PTE is a hwpoison entry (unmapped poison)

    def vma(self, va: int) -> Vma | None:
        return next((v for v in self.vmas if va in v), None)

    @property
    def alive(self) -> bool:
        return self.state == "runnable"

    def __repr__(self) -> str:
        return f"<Task {self.pid} {self.comm} {self.state}>"


def page_frames(page: Page) -> Iterator[int]:
    return iter(range(page.pfn, page.pfn + (1 << page.order)))


def zero_page(bus: Bus, page: Page) -> None:
    bus.write(page.phys, bytes(page.size))


USER_TEXT = 0x10000  # where user programs are linked (rasplat/firmware/user.S)
USER_STACK_TOP = 0x7FFF_F000
USER_STACK_SIZE = 4 * PAGE_SIZE
GIGAPAGE = 1 << 30


class Mm:
    """The kernel's memory manager: page allocator, tasks and their address spaces."""

    def __init__(self, kernel: Kernel, pool: tuple[int, int]) -> None:
        self.kernel = kernel
        self.plat = kernel.plat
        self.bus: Bus = kernel.plat.bus
        self.allocator = PageAllocator(*pool)
        self.tasks: list[Task] = []
        self._pid = 1
        self.program: File | None = None  # the user program text, shared by every task (page cache)

    # --- pages ------------------------------------------------------------------------------------------------
    def alloc_page(self, *flags: str, order: int = 0, zero: bool = True) -> Page:
        page = self.allocator.alloc(order, flags)
        if zero:
            zero_page(self.bus, page)
        return page

    def _table_page(self) -> int:
        return self.alloc_page("kernel").phys

    def new_pagetable(self) -> PageTable:
        """A task page table: user mappings below, and the kernel's linear map of memory (identity, S-only,
        1 GiB pages), as every Linux page table carries the kernel half."""
        pt = PageTable(self.bus, self._table_page)
        gigas = sorted({g for r in self.bus.regions if r.kind == "memory"
                        for g in range(r.base // GIGAPAGE, -(-r.end // GIGAPAGE))})  # fmt: skip
        for giga in gigas:
            pt.map(giga * GIGAPAGE, giga * GIGAPAGE, GIGAPAGE, "rwx", level=2)
        return pt

    # --- tasks ------------------------------------------------------------------------------------------------
    def spawn(self, comm: str, entry: str, *args: int) -> Task:
        """A task running the user program `entry` (a symbol of user.elf) with a0.. = args."""
        kernel = self.kernel
        image = kernel.user_program()
        task = Task(self._pid, comm, self.new_pagetable())
        self._pid += 1
        text = self._program_file(image)
        task.vmas.append(Vma(USER_TEXT, USER_TEXT + len(text.pages) * PAGE_SIZE, "rx", "file", text))
        for index, page in text.pages.items():
            self._map(task, USER_TEXT + index * PAGE_SIZE, page, "rxu")
        self.map_anon(task, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE, "rw")
        task.pc = image.symbol(entry)
        task.regs[2] = USER_STACK_TOP
        for i, value in enumerate(args):
            task.regs[10 + i] = value & ((1 << 64) - 1)
        self.tasks.append(task)
        self.plat.events.emit("task.spawn", pid=task.pid, comm=comm, entry=entry)
        return task

    def _program_file(self, image: Image) -> File:
        if self.program is None:
            file = File("user.elf")
            for vaddr, memsz in image.segments:
                data = image.data(vaddr, memsz)
                for off in range(0, memsz, PAGE_SIZE):
                    page = self.alloc_page("lru", "uptodate")
                    page.file, page.index = file, (vaddr - USER_TEXT + off) // PAGE_SIZE
                    self.bus.write(page.phys, data[off : off + PAGE_SIZE])
                    file.pages[page.index] = page
            self.program = file
        return self.program

    def map_anon(self, task: Task, va: int, size: int, prot: str, data: bytes = b"", order: int = 0,
                 hugetlb: bool = False) -> list[Page]:  # fmt: skip
        """An anonymous private mapping, populated now (optionally with 2 MiB THP or hugetlb pages)."""
        step = PAGE_SIZE << order
        task.vmas.append(Vma(va, va + size, prot, "hugetlb" if hugetlb else "anon", order=order))
        pages = []
        for off in range(0, size, step):
            flags = ("anon", "lru", "dirty") + (("huge",) if hugetlb else ())
            page = self.alloc_page(*flags, order=order)
            chunk = data[off : off + step]
            if chunk:
                self.bus.write(page.phys, chunk)
            self._map(task, va + off, page, prot + "u")
            pages.append(page)
        return pages

    def map_file(self, task: Task, va: int, file: File, npages: int, prot: str, shared: bool = False) -> None:
        task.vmas.append(Vma(va, va + npages * PAGE_SIZE, prot, "file", file, shared=shared))
        for index in range(npages):
            page = file.pages[index]
            self._map(task, va + index * PAGE_SIZE, page, (prot if shared else prot.replace("w", "")) + "u")
            if not shared and "w" in prot:
                task.cow.add(va + index * PAGE_SIZE)  # a private writable file mapping copies on write

    def _map(self, task: Task, va: int, page: Page, perms: str) -> None:
        level = {0: 0, 9: 1, 18: 2}[page.order]
        task.pagetable.map(va, page.phys, page.size, perms, level=level)
        task.pages[va] = page
        page.mappers.append((task, va))

    def unmap(self, task: Task, va: int) -> Page | None:
        page = task.pages.pop(va, None)
        if page is None:
            return None
        task.pagetable.unmap(va, level={0: 0, 9: 1, 18: 2}[page.order])
        task.cow.discard(va)
        page.mappers = [(t, v) for t, v in page.mappers if not (t is task and v == va)]
        if not page.mappers and page.file is None and not page.has("hwpoison"):
            self.allocator.free(page)
        self._flush(task)
        return page

    def unmap_poisoned(self, task: Task, va: int) -> None:
        """try_to_unmap of a poisoned page: the PTE becomes a hwpoison entry; touching it later is
        VM_FAULT_HWPOISON."""
        self.unmap(task, va)
        task.hwpoison.add(va)

    def _flush(self, task: Task) -> None:
        hart = self.kernel.hart
        if hart.csr.satp == task.pagetable.satp:
            hart.sfence_vma()

    def fork(self, parent: Task) -> Task | int:
        """fork(): private anonymous pages are shared copy-on-write (both sides write-protected); a page that
        may be DMA-pinned is copied now (copy_present_page). Returns the child, or a negative errno."""
        from .callers import copy_present_page

        child = Task(self._pid, parent.comm, self.new_pagetable(), pc=parent.pc, regs=list(parent.regs))
        for vma in parent.vmas:
            child.vmas.append(Vma(vma.start, vma.end, vma.prot, vma.kind, vma.file, vma.pgoff, vma.shared, vma.order))
        for va, page in sorted(parent.pages.items(), key=lambda item: item[0]):
            vma = parent.vma(va)
            writable = vma is not None and "w" in vma.prot
            if page.refs and writable and page.file is None:
                new = copy_present_page(self.kernel, parent, va, page)
                if isinstance(new, int):
                    self.exit_mm(child)
                    return new
                self._map(child, va, new, vma.prot + "u")  # type: ignore[union-attr]
                continue
            perms = (vma.prot if vma else "r").replace("w", "") + "u"
            self._map(child, va, page, perms)
            if writable and not (vma and vma.shared):
                parent.pagetable.protect(va, perms)
                parent.cow.add(va)
                child.cow.add(va)
        child.hwpoison = set(parent.hwpoison)
        self._pid += 1
        self._flush(parent)
        self.tasks.append(child)
        self.plat.events.emit("task.fork", parent=parent.pid, pid=child.pid)
        return child

    def kill(self, task: Task, signo: int, code: int, addr: int | None, lsb: int | None, reason: str) -> None:
        """Deliver a signal whose default action terminates the task (SIGBUS, SIGSEGV, SIGKILL)."""
        info = {"signo": signo, "code": code, "addr": addr, "addr_lsb": lsb, "reason": reason}
        task.signals.append(info)
        self.plat.events.emit("signal", pid=task.pid, comm=task.comm, **info)
        if task.alive:
            task.state = "killed"
            task.exit_code = 128 + signo
            self.exit_mm(task)

    def exit(self, task: Task, code: int) -> None:
        task.state, task.exit_code = "exited", code
        self.plat.events.emit("task.exit", pid=task.pid, code=code)
        self.exit_mm(task)

    def exit_mm(self, task: Task) -> None:
        for va in list(task.pages):
            self.unmap(task, va)
