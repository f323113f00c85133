"""Scenarios: one per caller of the copy_mc family, each with a poisoned source line, run on the hart.

`rasplat run --list` names them; `rasplat run NAME [--devicetree FILE] [--policy NAME]
[--memory-failure supported]` runs one and prints its timeline and outcome. Each scenario returns a dict of
what Linux's reaction was (return values, signals, page state) so tests can assert on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import ConfigError, KernelPanic
from .kernel import callers
from .kernel.mm import PAGE_SIZE, Task
from .platform import Platform

DATA_VA = 0x2000_0000
PATTERN = bytes((i * 7 + 1) & 0xFF for i in range(PAGE_SIZE))
BOUNCE = 0x8C00_0000  # kernel buffers for reads and core dumps (free DRAM on the default platform)


@dataclass(frozen=True)
class Scenario:
    name: str
    caller: str
    about: str
    run: Callable[[Platform], dict]


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, caller: str, about: str) -> Callable[[Callable[[Platform], dict]], Callable[[Platform], dict]]:
    def register(fn: Callable[[Platform], dict]) -> Callable[[Platform], dict]:
        SCENARIOS[name] = Scenario(name, caller, about, fn)
        return fn

    return register


def run_scenario(name: str, plat: Platform) -> dict:
    if name not in SCENARIOS:
        raise ConfigError(f"no scenario {name!r} (have: {', '.join(sorted(SCENARIOS))})")
    try:
        outcome = SCENARIOS[name].run(plat)
    except KernelPanic as panic:
        outcome = {"panic": str(panic)}
    outcome["memory_failure"] = [
        {k: e[k] for k in ("pfn", "page_type", "action_result")} for e in plat.events.of_kind("mf.result")
    ]
    return outcome


def _poison(plat: Platform, phys: int, offset: int = 0x40) -> int:
    plat.inject("poison", addr=phys + offset)
    return phys + offset


def _task_state(task: Task) -> dict:
    return {"pid": task.pid, "state": task.state, "exit_code": task.exit_code, "signals": task.signals}


def _parent_with_data(plat: Platform, pages: int = 1, order: int = 0, hugetlb: bool = False) -> Task:
    mm = plat.kernel.mm
    parent = mm.spawn("parent", "user_spin", 20000, 2000)
    size = max(pages * PAGE_SIZE, PAGE_SIZE << order)
    mm.map_anon(parent, DATA_VA, size, "rw", PATTERN * (size // PAGE_SIZE), order=order, hugetlb=hugetlb)
    return parent


# --- copy-on-write ---------------------------------------------------------------------------------------------
@scenario("cow", "wp_page_copy", "a forked child stores into a shared page (U-mode store page fault -> COW)")
def _cow(plat: Platform) -> dict:
    kernel = plat.kernel
    parent = _parent_with_data(plat)
    child = kernel.mm.fork(parent)
    assert isinstance(child, Task)
    child.pc = kernel.user_program().symbol("user_store")
    child.regs[10:13] = [DATA_VA + 0x100, 0x55, 1]
    page = parent.pages[DATA_VA]
    _poison(plat, page.phys)
    kernel.scheduler.run()
    return {"child": _task_state(child), "parent": _task_state(parent), "page_hwpoison": page.has("hwpoison")}


@scenario("do-cow-fault", "do_cow_fault", "a write to a private file mapping copies the page-cache page")
def _do_cow_fault(plat: Platform) -> dict:
    kernel = plat.kernel
    mm = kernel.mm
    file = _file(plat, "data.bin")
    task = mm.spawn("writer", "user_store", DATA_VA + 8, 0x77, 1)
    mm.map_file(task, DATA_VA, file, 1, "rw")
    _poison(plat, file.pages[0].phys)
    kernel.scheduler.run()
    return {"task": _task_state(task), "file_error": file.error}


@scenario("fork-pinned", "copy_present_page", "fork() of a task with a DMA-pinned page copies it at once")
def _fork_pinned(plat: Platform) -> dict:
    parent = _parent_with_data(plat)
    page = parent.pages[DATA_VA]
    page.refs = 1  # pinned by get_user_pages (e.g. RDMA)
    _poison(plat, page.phys)
    child = plat.kernel.mm.fork(parent)
    plat.kernel.after_operation()
    return {"fork": child if isinstance(child, int) else child.pid, "parent": _task_state(parent)}


# --- hugetlb and THP -----------------------------------------------------------------------------------------------
@scenario("hugetlb", "copy_subpage", "a write to a shared 2 MiB hugetlb page copies it subpage by subpage")
def _hugetlb(plat: Platform) -> dict:
    kernel = plat.kernel
    parent = _parent_with_data(plat, order=9, hugetlb=True)
    child = kernel.mm.fork(parent)
    assert isinstance(child, Task)
    huge = parent.pages[DATA_VA]
    _poison(plat, huge.phys + 37 * PAGE_SIZE)
    fault = callers.hugetlb_wp(kernel, child, DATA_VA)
    if fault:
        kernel.scheduler.mm_fault_error(child, DATA_VA, 9)
    kernel.after_operation()
    return {"fault": fault, "child": _task_state(child)}


@scenario("thp-collapse", "__collapse_huge_page_copy", "khugepaged collapses 512 small pages into a THP")
def _thp_collapse(plat: Platform) -> dict:
    task = _parent_with_data(plat, pages=512)
    _poison(plat, task.pages[DATA_VA + 100 * PAGE_SIZE].phys)
    result = callers.collapse_huge_page(plat.kernel, task, DATA_VA)
    plat.kernel.after_operation()
    return {"result": result, "small_pages_still_mapped": len(task.pages) >= 512}


@scenario("collapse-file", "collapse_file", "khugepaged collapses a file's page cache into a THP")
def _collapse_file(plat: Platform) -> dict:
    task = _parent_with_data(plat, pages=512)
    _poison(plat, task.pages[DATA_VA + 3 * PAGE_SIZE].phys)
    result = callers.collapse_huge_page(plat.kernel, task, DATA_VA, file=True)
    plat.kernel.after_operation()
    return {"result": result}


# --- migration, compaction, NUMA balancing, KSM ---------------------------------------------------------------------
def _migrate(plat: Platform, reason: str) -> dict:
    task = _parent_with_data(plat)
    page = task.pages[DATA_VA]
    _poison(plat, page.phys)
    ret = callers.migrate_folio(plat.kernel, page, reason)
    plat.kernel.after_operation()
    return {"ret": ret, "page_not_moved": task.pages.get(DATA_VA) is page or page.has("hwpoison")}


for _reason, _about in (("migration", "page migration"), ("compaction", "memory compaction"),
                        ("numa-balancing", "NUMA balancing")):  # fmt: skip
    scenario(_reason, "folio_mc_copy", f"{_about} moves a page with folio_mc_copy")(
        lambda plat, r=_reason: _migrate(plat, r)
    )


@scenario("ksm", "ksm_might_need_to_copy", "swapping in a KSM page that this task must get its own copy of")
def _ksm(plat: Platform) -> dict:
    kernel = plat.kernel
    task = _parent_with_data(plat)
    page = task.pages[DATA_VA]
    page.flags.add("ksm")
    _poison(plat, page.phys)
    result = callers.ksm_might_need_to_copy(kernel, task, DATA_VA)
    if isinstance(result, int):
        kernel.scheduler.mm_fault_error(task, DATA_VA, 0)  # do_swap_page -> VM_FAULT_HWPOISON
    kernel.after_operation()
    return {"ret": result if isinstance(result, int) else 0, "task": _task_state(task)}


# --- file I/O and core dumps -------------------------------------------------------------------------------------
@scenario("dax-read", "_copy_mc_to_iter", "read(2) of 64 KiB of DAX memory through _copy_mc_to_iter")
def _dax_read(plat: Platform) -> dict:
    src = 0x8A00_0000
    plat.bus.write(src, PATTERN * 16)
    _poison(plat, src + 5 * PAGE_SIZE, 0x100)
    plat.bus.write(BOUNCE, bytes(16 * PAGE_SIZE))
    ret = callers.dax_read(plat.kernel, BOUNCE, src, 16 * PAGE_SIZE)
    landed = plat.bus.peek(BOUNCE, 16 * PAGE_SIZE)
    actually = next((i for i in range(16 * PAGE_SIZE) if landed[i] != (PATTERN * 16)[i]), 16 * PAGE_SIZE)
    # memcpy_mc reports the count at the start of the unrolled phase: read(2) sees 0 bytes (-EFAULT) although
    # the first 5 pages did land in the buffer (kernel-copy-mc.md "Over-estimated bytes not copied")
    return {"ret": ret, "bytes_actually_copied": actually}


@scenario("coredump", "dump_page_copy", "a core dump copies every page of the task; a bad one becomes a hole")
def _coredump(plat: Platform) -> dict:
    task = _parent_with_data(plat, pages=4)
    _poison(plat, task.pages[DATA_VA + 2 * PAGE_SIZE].phys)
    result = callers.coredump(plat.kernel, task, BOUNCE)
    plat.kernel.after_operation()
    return {"holes": result["holes"], "pages": len(result["written"]) + len(result["holes"])}


# --- a user task consumes poison itself ------------------------------------------------------------------------------
@scenario("user-load", "do_trap_hardware_error", "a task loads a poisoned line (cause 19 from U-mode)")
def _user_load(plat: Platform) -> dict:
    kernel = plat.kernel
    task = _parent_with_data(plat)
    task.pc = kernel.user_program().symbol("user_load")
    task.regs[10] = DATA_VA + 0x48
    page = task.pages[DATA_VA]
    _poison(plat, page.phys)
    kernel.scheduler.run()
    return {"task": _task_state(task), "page_hwpoison": page.has("hwpoison")}


def _file(plat: Platform, name: str) -> object:
    from .kernel.mm import File

    mm = plat.kernel.mm
    file = File(name)
    page = mm.alloc_page("lru", "uptodate")
    page.file, page.index = file, 0
    plat.bus.write(page.phys, PATTERN)
    file.pages[0] = page
    return file
