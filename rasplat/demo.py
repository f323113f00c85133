"""`rasplat demo`: one poisoned line in a 4 KiB page, copied without and with the RISC-V copy_mc patch."""

from __future__ import annotations

from collections.abc import Callable

from . import trace
from .errors import KernelPanic
from .kernel import format_oops
from .kernel.copy_mc import EHWPOISON, copy_mc_user_highpage
from .platform import Platform
from .timeline import describe

SRC, DST = 0x8800_0000, 0x8801_0000
POISON_OFFSET = 0x840  # inside the 17th 128-byte block of the unrolled loop
PAGE = 4096


def _setup(arch_copy_mc: bool) -> Platform:
    plat = Platform.default(arch_copy_mc=arch_copy_mc)
    trace.label(plat, "[2] with the copy_mc patch" if arch_copy_mc else "[1] without the copy_mc patch")
    plat.bus.write(SRC, bytes((i * 7 + 3) & 0xFF for i in range(PAGE)))
    plat.bus.write(DST, b"\xee" * PAGE)
    plat.inject("poison", addr=SRC + POISON_OFFSET)
    return plat


def describe_event(plat: Platform, e: dict) -> str:
    return describe(e, plat.kernel.symbolize)


def _timeline(plat: Platform, out: Callable[[str], None]) -> None:
    for e in plat.events:
        if e["kind"] in ("elf.load", "boot", "ras.setup"):
            continue
        out(f"    t={e['t']:>6}  {e['kind']:<15} {describe_event(plat, e)}")


def _written_prefix(plat: Platform) -> int:
    src, dst = plat.bus.peek(SRC, PAGE), plat.bus.peek(DST, PAGE)
    n = 0
    while n < PAGE and dst[n] == src[n]:
        n += 1
    return n


def run_demo(out: Callable[[str], None] = print) -> int:
    probe = Platform.default()
    trace.label(probe, "firmware probe (the banner's addresses)")
    fw = probe.kernel.firmware
    out("rasplat demo: a 4 KiB page copy whose source holds one poisoned 64-byte line")
    out(
        f"platform: 1 RV64IMAC hart, 1 GiB DRAM at 0x80000000; firmware __memcpy at {fw.symbol('__memcpy'):#x}, "
        f"__memcpy_mc at {fw.symbol('__memcpy_mc'):#x} ({len(fw.extable)} __ex_table entries, loads only)"
    )
    out(f"copy: src {SRC:#x} -> dst {DST:#x}, {PAGE} bytes; poison at src+{POISON_OFFSET:#x}\n")

    out("[1] kernel WITHOUT the patch: generic copy_mc_to_kernel() = memcpy(); return 0;")
    plat = _setup(arch_copy_mc=False)
    try:
        copy_mc_user_highpage(plat.kernel, DST, SRC)
    except KernelPanic as panic:
        _timeline(plat, out)
        out("")
        out("\n".join("    | " + line for line in format_oops(panic.oops).splitlines()))
        out("    => the load that consumed poison has no __ex_table entry: the kernel is dead.\n")
    else:
        out("    unexpected: the generic fallback survived the poisoned copy")
        return 1

    out("[2] kernel WITH the patch: copy_mc_to_kernel() = memcpy_mc()")
    plat = _setup(arch_copy_mc=True)
    ret = copy_mc_user_highpage(plat.kernel, DST, SRC)
    _timeline(plat, out)
    written = _written_prefix(plat)
    out(f'\n    returned {ret} ("bytes not copied"); the destination holds the first {written} bytes, rest untouched.')
    out("    memcpy_mc returns a2 at the fault, the count at the start of the copy phase: an aligned page copy")
    out(f"    reports {PAGE} wherever it faults - an upper bound, never 0 (the contract callers rely on).")
    if ret:
        out(f"    caller: __wp_page_copy_user() sees non-zero -> returns -EHWPOISON (-{EHWPOISON}); wp_page_copy()")
        out("    turns it into VM_FAULT_HWPOISON, and RISC-V's mm_fault_error sends the faulting task SIGBUS")
        out("    with BUS_ADRERR (x86 and arm64 send BUS_MCEERR_AR): `rasplat run cow` runs that path on the hart.")
    clean = plat.kernel.copy_mc_to_kernel(DST, SRC + PAGE, PAGE)
    out(f"    the kernel keeps running: the next copy (a clean page) returns {clean}.")
    return 0 if ret and clean == 0 else 1
