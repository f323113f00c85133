"""Checkpoint state of the kernel model: what it keeps beside the hardware, as plain data.

The hardware (memory, harts, devices) is saved by the platform; this is the rest. What the model's boot
creates — trap-vector hooks, interrupt handlers (closures), the CXL driver's hosts — is not data: a restore
boots the fresh kernel model again, which re-creates them deterministically from the device tree, and
`check_boot` verifies that the new wiring is the saved one. Then `restore` applies this state.

The memory manager is an object graph (pages shared by tasks and files, rmap entries pointing back at
tasks), saved as tables: pages and files by index in discovery order, tasks by pid. Dicts and lists keep
their order, because the model's behaviour depends on it (free lists pop from the end; exit unmaps in
mapping order). Sets of numbers are saved sorted; page flags are looked up, never iterated in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..elf import ExtableEntry, Image
from ..errors import CheckpointError
from .firmware import SseEvent
from .mm import File, Mm, Page, Task, Vma
from .pagetable import PageTable

if TYPE_CHECKING:
    from .kernel import Kernel


def snapshot(kernel: Kernel) -> dict:
    if kernel._depth:
        raise CheckpointError(
            f"checkpoint: the kernel model is inside a call (depth {kernel._depth}); its Python stack cannot be "
            "saved: checkpoint between calls, or drive the hart with run() and checkpoint between steps"
        )
    sbi = kernel.sbi
    current = kernel.scheduler.current
    return {
        "booted": kernel.booted,
        "result": kernel._result,
        "mf_queue": [list(item) for item in kernel.mf_queue],
        "modules": [_image(image) for image in kernel.images[1:]],
        "irq": _irq_wiring(kernel),
        "sse": [[e.event_id, e.state, e.entry_pc, e.entry_arg, e.one_shot, e.pending, e.saved]
                for e in sbi.sse.values()],  # fmt: skip
        "error_status": list(sbi.error_status),
        "scheduler": {"current": current.pid if current is not None else None, "yield": kernel.scheduler._yield},
        "mm": None if kernel._mm is None else _mm_snapshot(kernel._mm),
    }


def check_boot(kernel: Kernel, state: dict) -> None:
    """After the fresh model booted: its interrupt wiring must be the one the checkpoint was taken with."""
    if _irq_wiring(kernel) != state["irq"]:
        raise CheckpointError(
            "the kernel model's interrupt wiring after boot differs from the checkpoint's (was "
            "ras_delivery changed after boot, or a handler registered by hand?)"
        )


def restore(kernel: Kernel, state: dict) -> None:
    kernel._result = state["result"]
    kernel.mf_queue = [(pfn, flags) for pfn, flags in state["mf_queue"]]
    for saved in state["modules"]:  # as load_module, without writing memory (restored already)
        image = _load_image(saved)
        kernel.images.append(image)
        kernel.extable.add(image.extable)
    for event_id, *fields in state["sse"]:
        if event_id not in kernel.sbi.sse:
            raise CheckpointError(f"SSE event {event_id:#x} is not one the firmware model implements")
        kernel.sbi.sse[event_id] = SseEvent(event_id, *fields)
    kernel.sbi.error_status = list(state["error_status"])
    if state["mm"] is not None:
        _mm_restore(kernel.mm, state["mm"])
    pid = state["scheduler"]["current"]
    kernel.scheduler.current = None if pid is None else {t.pid: t for t in kernel.mm.tasks}[pid]
    kernel.scheduler._yield = state["scheduler"]["yield"]


def _irq_wiring(kernel: Kernel) -> dict:
    irq = kernel.irq
    return {"next_eiid": dict(irq._next_eiid), "m_signals": [[i, s] for i, s in irq.m_signals.items()],
            "handlers": sorted([level, identity] for level, identity in irq.handlers)}  # fmt: skip


# --- images (modules loaded after boot) --------------------------------------------------------------------------
def _image(image: Image) -> dict:
    return {
        "path": image.path, "entry": image.entry, "symbols": list(image.symbols.items()),
        "sizes": list(image.sizes.items()), "weak": sorted(image.weak),
        "extable": [[e.insn, e.fixup, e.type, e.data] for e in image.extable], "segments": image.segments,
        "contents": list(image.contents.items()),
    }  # fmt: skip


def _load_image(saved: dict) -> Image:
    return Image(
        saved["path"], saved["entry"], dict(saved["symbols"]), dict(saved["sizes"]), set(saved["weak"]),
        [ExtableEntry(*e) for e in saved["extable"]], [(a, n) for a, n in saved["segments"]], dict(saved["contents"]),
    )  # fmt: skip


# --- the memory manager ----------------------------------------------------------------------------------------
class _Index:
    """Numbers objects in the order they are first seen."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._ids: dict[int, int] = {}

    def add(self, obj: Any) -> int:
        i = self._ids.get(id(obj))
        if i is None:
            i = self._ids[id(obj)] = len(self.items)
            self.items.append(obj)
        return i

    def __getitem__(self, obj: Any) -> int:
        return self._ids[id(obj)]


def _mm_snapshot(mm: Mm) -> dict:
    alloc = mm.allocator
    pages, files = _Index(), _Index()
    for page in alloc.pages.values():
        pages.add(page)
    if mm.program is not None:
        files.add(mm.program)
    for task in mm.tasks:
        for vma in task.vmas:
            if vma.file is not None:
                files.add(vma.file)
        for page in task.pages.values():
            pages.add(page)
    i = 0
    while i < max(len(pages.items), len(files.items)):  # files reach pages and pages reach files
        if i < len(files.items):
            for page in files.items[i].pages.values():
                pages.add(page)
        if i < len(pages.items) and pages.items[i].file is not None:
            files.add(pages.items[i].file)
        i += 1
    return {
        "allocator": {
            "range": [alloc.base, alloc.end], "pages": [[pfn, pages[p]] for pfn, p in alloc.pages.items()],
            "next": alloc._next, "free": [[order, pfns] for order, pfns in alloc._free.items()],
            "isolated": sorted(alloc.isolated),
        },
        "pages": [[p.pfn, p.order, sorted(p.flags), [[t.pid, va] for t, va in p.mappers],
                   None if p.file is None else files[p.file], p.index, p.refs] for p in pages.items],
        "files": [[f.name, [[index, pages[p]] for index, p in f.pages.items()], f.error] for f in files.items],
        "tasks": [_task(t, pages, files) for t in mm.tasks],
        "pid": mm._pid,
        "program": None if mm.program is None else files[mm.program],
    }  # fmt: skip


def _task(t: Task, pages: _Index, files: _Index) -> dict:
    return {
        "pid": t.pid, "comm": t.comm, "pagetable": t.pagetable.root,
        "vmas": [[v.start, v.end, v.prot, v.kind, None if v.file is None else files[v.file], v.pgoff, v.shared,
                  v.order] for v in t.vmas],
        "pages": [[va, pages[p]] for va, p in t.pages.items()], "cow": sorted(t.cow), "state": t.state,
        "exit_code": t.exit_code, "signals": t.signals, "early_kill": t.early_kill, "pc": t.pc, "regs": t.regs,
        "output": bytes(t.output), "hwpoison": sorted(t.hwpoison),
    }  # fmt: skip


def _mm_restore(mm: Mm, state: dict) -> None:
    alloc, saved = mm.allocator, state["allocator"]
    if [alloc.base, alloc.end] != saved["range"]:
        raise CheckpointError(f"the kernel page pool is {saved['range']}, this platform's is "
                              f"{[alloc.base, alloc.end]}")  # fmt: skip
    rows = state["pages"]  # [pfn, order, flags, mappers, file, index, refs]
    pages = [Page(pfn, order, set(flags), index=index, refs=refs) for pfn, order, flags, _, _, index, refs in rows]
    files = [File(name, {index: pages[p] for index, p in entries}, error) for name, entries, error in state["files"]]
    tasks = {}
    for t in state["tasks"]:
        vmas = [Vma(start, end, prot, kind, None if f is None else files[f], pgoff, shared, order)
                for start, end, prot, kind, f, pgoff, shared, order in t["vmas"]]  # fmt: skip
        tasks[t["pid"]] = Task(
            pid=t["pid"], comm=t["comm"], pagetable=PageTable(mm.bus, mm._table_page, t["pagetable"]), vmas=vmas,
            pages={va: pages[p] for va, p in t["pages"]}, cow=set(t["cow"]), state=t["state"],
            exit_code=t["exit_code"], signals=t["signals"], early_kill=t["early_kill"], pc=t["pc"],
            regs=list(t["regs"]), output=bytearray(t["output"]), hwpoison=set(t["hwpoison"]),
        )  # fmt: skip
    for page, (_, _, _, mappers, file, _, _) in zip(pages, rows, strict=True):
        page.file = None if file is None else files[file]
        page.mappers = [(tasks[pid], va) for pid, va in mappers]
    alloc.pages = {pfn: pages[p] for pfn, p in saved["pages"]}
    alloc._next = saved["next"]
    alloc._free = {order: list(pfns) for order, pfns in saved["free"]}
    alloc.isolated = set(saved["isolated"])
    mm.tasks = list(tasks.values())
    mm._pid = state["pid"]
    mm.program = None if state["program"] is None else files[state["program"]]
