"""How fast the hart runs the firmware's memcpy_mc on 4 KiB page copies (run by hand, not in CI).

    python benchmarks/bench_hart.py [--pages N]

Reports guest MIPS per copy shape and, to make figures comparable across machines, the ratio to a
baseline measured in the same run: the fastest a decode-once interpreter of this design could go, i.e.
a Python loop that calls one trivial cached function per "instruction" (`pc = ops[pc]()`).
"""

from __future__ import annotations

import argparse
import time

import rasplat

FLOOR_MIPS = 2.0
SRC, DST = 0x8800_0000, 0x8900_0000
SHAPES = {  # name: (src offset, dst offset) within a page pair
    "aligned (unrolled ld/sd)": (0, 0),
    "co-aligned, lead bytes": (3, 3),
    "4-aligned, word tail": (4, 0),
    "unaligned, byte tail": (1, 2),
}


def baseline_loop_mips(n: int = 2_000_000) -> float:
    ops = {}
    for pc in range(0, 64, 4):
        ops[pc] = (lambda nxt: lambda: nxt)((pc + 4) % 64)
    get = ops.get
    pc = 0
    t = time.perf_counter()
    for _ in range(n):
        pc = get(pc)()
    return n / (time.perf_counter() - t) / 1e6


def copy_mips(pages: int, src_off: int, dst_off: int) -> float:
    plat = rasplat.Platform.default()
    plat.bus.write(SRC, bytes(i & 0xFF for i in range(pages * 4096 + 8)))
    hart = plat.harts[0]
    plat.kernel.copy_mc_to_kernel(DST + dst_off, SRC + src_off, 4096)  # warm: decode and translate once
    start_instret, t = hart.retired, time.perf_counter()
    for p in range(pages):
        ret = plat.kernel.copy_mc_to_kernel(DST + p * 4096 + dst_off, SRC + p * 4096 + src_off, 4096)
        assert ret == 0
    return (hart.retired - start_instret) / (time.perf_counter() - t) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=64)
    args = parser.parse_args()
    base = baseline_loop_mips()
    print(f"baseline: bare dispatch loop {base:6.2f} M calls/s (ceiling for a per-instruction design)")
    for name, (s, d) in SHAPES.items():
        mips = copy_mips(args.pages, s, d)
        verdict = "ok" if mips >= FLOOR_MIPS or not name.startswith("aligned") else f"BELOW the {FLOOR_MIPS} floor"
        print(f"memcpy_mc 4 KiB, {name:<26} {mips:6.2f} MIPS  ratio to baseline {mips / base:5.3f}  {verdict}")


if __name__ == "__main__":
    main()
