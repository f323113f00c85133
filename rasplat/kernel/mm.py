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
