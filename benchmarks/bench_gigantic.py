"""A 1 GiB gigantic hugetlb page copy with one poisoned line, through the real caller
(copy_user_gigantic_page: 262,144 subpage copies, each the firmware's memcpy_mc on the hart). Run by hand:

    python benchmarks/bench_gigantic.py [--poison-at FRACTION]

It prints the wall time, the guest instructions and the outcome; the poisoned line sits at FRACTION of the
page (default 1.0 = the last line, so the whole page is copied before the failure).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import rasplat
from rasplat.kernel.callers import copy_user_large_folio
from rasplat.kernel.mm import Page

BOARD = """/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
    cpus { #address-cells = <1>; #size-cells = <0>;
        cpu@0 { device_type = "cpu"; reg = <0>; riscv,isa = "rv64imac"; }; };
    memory@80000000 { device_type = "memory"; reg = <0x0 0x80000000 0x0 0xc0000000>; }; };
"""
SRC, DST = 0xC000_0000, 0x1_0000_0000  # two 1 GiB-aligned frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poison-at", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "board.dts"
        path.write_text(BOARD)
        plat = rasplat.Platform.from_devicetree(path)
    kernel = plat.kernel
    kernel.boot()
    line = min(int(args.poison_at * (1 << 30)), (1 << 30) - 64) & ~63
    plat.inject("poison", addr=SRC + line)
    src, dst = Page(SRC >> 12, order=18, flags={"huge"}), Page(DST >> 12, order=18, flags={"huge"})
    start_instret, t = plat.harts[0].retired, time.perf_counter()
    ret = copy_user_large_folio(kernel, dst, src)
    dt = time.perf_counter() - t
    n = plat.harts[0].retired - start_instret
    subpage = plat.events.of_kind("caller")[-1].get("subpage")
    print(f"copy_user_gigantic_page of 1 GiB, poison at +{line:#x}: ret={ret} (failed at subpage {subpage})")
    print(f"wall time {dt:.1f} s, {n:,} guest instructions, {n / dt / 1e6:.2f} MIPS, "
          f"{len(plat.events.of_kind('copy_mc')):,} copy_mc calls")  # fmt: skip


if __name__ == "__main__":
    main()
