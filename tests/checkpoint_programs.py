"""Runs for the checkpoint tests: each a device tree and a list of steps, every step a function of the platform
alone (no Python objects carried between steps), so a run can stop after any step, be checkpointed, and go on
in another process from the restored platform.

Run as a script, it is that other process: `python checkpoint_programs.py JSON` with JSON
{"program": name, "workdir": dir, "jobs": [[first step, checkpoint file, output file], ...]} restores each
checkpoint, runs the remaining steps and writes the final state's `digest` (msgpack) to the output file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import rasplat  # noqa: E402
from rasplat.checkpoint import pack, snapshot  # noqa: E402
from rasplat.hart.csr import SIE, S  # noqa: E402
from rasplat.kernel.kernel import STACK_TOP  # noqa: E402

Step = Callable[[rasplat.Platform], object]
SRC, DST = 0x8800_0000, 0x8900_0000
PATTERN = bytes((i * 13 + 7) & 0xFF for i in range(8192))


# --- helpers --------------------------------------------------------------------------------------------------------
def start_call(plat: rasplat.Platform, fn: str, *args: int) -> None:
    """Set hart 0 up as kernel.call does, without running it: the steps below run it in slices."""
    kernel = plat.kernel
    kernel.boot()
    hart = plat.harts[0]
    for i, value in enumerate(args):
        hart.x[10 + i] = value
    hart.x[1] = kernel.firmware.symbol("rasplat_call_return")
    hart.x[2] = STACK_TOP
    hart.pc = kernel.resolve(fn)
    hart.set_privilege(S)
    hart.csr.mstatus |= SIE
    kernel._result = None


def run(n: int) -> Step:
    def step(plat: rasplat.Platform) -> None:
        plat.harts[0].run(n)
        plat.clock.poll()

    step.__name__ = f"run{n}"
    return step


def tasks(plat: rasplat.Platform) -> list:
    return plat.kernel.mm.tasks


# --- memcpy_mc on the default platform: poison, a CE on the way, the RERI record and its interrupt ------------------
def mc_setup(plat: rasplat.Platform) -> None:
    plat.kernel.boot()
    plat.bus.write(SRC, PATTERN)
    plat.inject("bitflip", addr=SRC + 0x408, bits=[5])  # a CE the copy corrects (and reports) on the way
    plat.inject("poison", addr=SRC + 0x1040)
    start_call(plat, "__memcpy_mc", DST, SRC, len(PATTERN))


def mc_eid(plat: rasplat.Platform) -> None:
    """RERI error-record injection: record 1 becomes a valid CE when its eid countdown (1 µs) expires, during the
    copy; the CE signal (local interrupt 35) is taken at the next run slice."""
    record = 0x1A00_0000 + 64 + 64 * 1
    plat.bus.write(record + 8, (1 << 1 | 20 << 24).to_bytes(8, "little"))  # status: CE, ec 20; v stays 0
    control = int.from_bytes(plat.bus.read(record, 8), "little")
    plat.bus.write(record, (control | 1 << 32).to_bytes(8, "little"))  # eid = 1 tick


def mc_after(plat: rasplat.Platform) -> None:
    plat.kernel.idle()
    plat.clear_poison(SRC + 0x1040)
    plat.kernel.copy_mc_to_kernel(DST + 0x2000, SRC + 0x1000, 0x100)


# single instructions around the consumed line: checkpoints fall between the trap and the RAS interrupt
MEMCPY_MC: list[Step] = [mc_setup, mc_eid, *[run(61)] * 18, run(40), *[run(1)] * 3, run(61), mc_after]


def ff_setup(plat: rasplat.Platform) -> None:
    plat.ras_delivery = "firmware-first"  # RAS interrupts trap to the firmware model, which injects SBI SSE
    mc_setup(plat)


FIRMWARE_FIRST: list[Step] = [ff_setup, *MEMCPY_MC[1:]]


# --- patrol scrub and AIA delivery on virt-aia-ecc: scrub timers pending between steps ------------------------------
def scrub_setup(plat: rasplat.Platform) -> None:
    plat.kernel.boot()
    plat.bus.write(SRC, PATTERN)
    plat.inject("bitflip", addr=SRC + 0x10, bits=[3])  # transient CE: the scrubber corrects it
    plat.inject("bitflip", addr=SRC + 0x200, bits=[1, 9], mode="stuck")  # UE: the scrubber poisons the line
    plat.inject("bitflip", addr=0x9000_0000, bits=[7], mode="stuck")  # a stuck CE found every pass
    plat.inject("bitflip", addr=0x9100_0000, check_bits=[2])  # a check bit: a 67-bit mask in the overlay


def scrub_consume(plat: rasplat.Platform) -> None:
    """A kernel copy over the line the scrubber poisoned: UEC -> RERI -> APLIC 20 -> MSI -> IMSIC -> SEIP."""
    plat.kernel.copy_mc_to_kernel(DST, SRC + 0x100, 0x200)
    plat.kernel.idle()


SCRUB: list[Step] = [
    scrub_setup,
    lambda plat: plat.advance(7.5),
    lambda plat: plat.advance(31),
    lambda plat: plat.advance(29.25),
    scrub_consume,
    lambda plat: plat.advance(61),
    lambda plat: plat.kernel.copy_mc_to_kernel(DST, 0x9000_0000 - 8, 64),
]


# --- device-tree error sources due at a time (two at the same instant), rasdaemon's CE accounting -------------------
TIMED_DTS = """/include/ "{root}/devicetrees/virt-aia-ecc.dts"

/ {{
    rasplat {{
        rasplat,memory-failure = "supported";
        rasplat,ce-threshold = <3>;
        error-sources {{
            first {{
                rasplat,source = "poison";
                rasplat,addr = /bits/ 64 <0x88000040>;
                rasplat,at-ns = /bits/ 64 <2000000000>;
            }};
            same-instant {{
                rasplat,source = "poison";
                rasplat,addr = /bits/ 64 <0x88000400>;
                rasplat,at-ns = /bits/ 64 <2000000000>;
            }};
            later {{
                rasplat,source = "poison";
                rasplat,addr = /bits/ 64 <0x88001000>;
                rasplat,at-ns = /bits/ 64 <95000000000>;
            }};
        }};
    }};
}};
"""


def timed_devicetree(workdir: Path) -> Path:
    path = workdir / "timed.dts"
    path.write_text(TIMED_DTS.format(root=ROOT))
    return path


def timed_setup(plat: rasplat.Platform) -> None:
    plat.kernel.boot()
    plat.bus.write(SRC, PATTERN)
    plat.inject("bitflip", addr=0x9000_0008, bits=[7], mode="stuck")  # a CE the scrubber finds every pass


TIMED: list[Step] = [
    timed_setup,
    lambda plat: plat.advance(1),
    lambda plat: plat.advance(1.5),
    lambda plat: plat.advance(60),
    lambda plat: plat.kernel.copy_mc_to_kernel(DST, SRC, 0x100),
    lambda plat: plat.advance(60),
    lambda plat: plat.advance(60),
]


# --- user tasks in the kernel model: fork, copy-on-write over poison, memory_failure --------------------------------
DATA_VA = 0x2000_0000


def tasks_setup(plat: rasplat.Platform) -> None:
    plat.memory_failure = "supported"
    mm = plat.kernel.mm
    parent = mm.spawn("parent", "user_spin", 9000, 700)
    mm.map_anon(parent, DATA_VA, 2 * 4096, "rw", PATTERN)
    child = mm.fork(parent)
    child.pc = plat.kernel.user_program().symbol("user_store")
    child.regs[10:13] = [DATA_VA + 0x1100, 0x55, 300]
    mm.spawn("writer", "user_spin", 5000, 1000)


def tasks_poison(plat: rasplat.Platform) -> None:
    parent = tasks(plat)[0]
    plat.inject("poison", addr=parent.pages[DATA_VA + 0x1000].phys + 0x40)  # the page the child will COW


def tasks_reader(plat: rasplat.Platform) -> None:
    mm = plat.kernel.mm
    reader = mm.spawn("reader", "user_load", DATA_VA + 0x48)
    mm.map_anon(reader, DATA_VA, 4096, "rw", PATTERN[:4096])
    plat.inject("poison", addr=reader.pages[DATA_VA].phys + 0x40)


TASKS: list[Step] = [
    tasks_setup, lambda plat: plat.kernel.scheduler.run(1500), tasks_poison,
    *[lambda plat: plat.kernel.scheduler.run(2500)] * 3, tasks_reader,
    *[lambda plat: plat.kernel.scheduler.run(4000)] * 4,
]  # fmt: skip


# --- CXL: mailbox poison, event interrupts, a Scan Media running in the background ----------------------------------
CXL_WINDOW = 0x1_0000_0000


def cxl_setup(plat: rasplat.Platform) -> None:
    plat.kernel.boot()
    plat.bus.write(CXL_WINDOW, PATTERN)
    plat.inject("cxl-poison", addr=CXL_WINDOW + 0x300)  # Inject Poison: event record, interrupt on the idle
    plat.inject("poison", addr=CXL_WINDOW + 0x1100, detected=False)  # latent: a scan or a reader finds it
    plat.kernel.idle()


def cxl_scan(plat: rasplat.Platform) -> None:
    from rasplat.memory.cxl import Opcode

    dev = plat.devices["/soc/cxl-memdev@30000000"]
    payload = (0).to_bytes(8, "little") + (0x4000 // 64).to_bytes(8, "little") + b"\0"
    rc, _ = dev.mailbox.execute(Opcode.SCAN_MEDIA, payload)
    assert rc == 1, rc  # background command started


def cxl_consume(plat: rasplat.Platform) -> None:
    plat.kernel.copy_mc_to_kernel(DST, CXL_WINDOW + 0x280, 0x100)
    plat.kernel.idle()


CXL: list[Step] = [
    cxl_setup, cxl_scan, lambda plat: plat.clock.advance(ns=40_000), lambda plat: plat.clock.advance(ns=10_000_000),
    lambda plat: plat.kernel.idle(), cxl_consume,
]  # fmt: skip


# --- pmem with a backing file: persisted and dirty data, a latent bad block, an ARS in flight -----------------------
PMEM_BASE = 0x1_4000_0000
PMEM_DTS = """/include/ "{root}/devicetrees/pmem-dax.dts"

/ {{
    pmem@140000000 {{
        rasplat,backing-file = "pmem0.img";
    }};
}};
"""


def pmem_devicetree(workdir: Path) -> Path:
    path = workdir / "pmem.dts"
    path.write_text(PMEM_DTS.format(root=ROOT))
    return path


def _namespace(plat: rasplat.Platform) -> object:
    from rasplat.kernel.pmem import PmemNamespace

    return PmemNamespace.attach(plat.kernel, "/pmem@140000000")


def pmem_setup(plat: rasplat.Platform) -> None:
    from rasplat.kernel.pmem import pmem_do_write

    plat.kernel.boot()
    plat.bus.write(SRC, PATTERN)
    pmem_do_write(plat.kernel, _namespace(plat), 8, SRC, 8192)  # durable: flushed and persisted
    plat.bus.write(PMEM_BASE + 0x10000, PATTERN[:4096])  # dirty: in the working copy only
    plat.inject("pmem-badblock", addr=PMEM_BASE + 0x1400, length=512, known=False)
    plat.devices["/pmem@140000000"].ars_start(PMEM_BASE, 1 << 20)


def pmem_finish(plat: rasplat.Platform) -> None:
    from rasplat.kernel.pmem import dax_read, pmem_do_read

    ns = _namespace(plat)
    pmem_do_read(plat.kernel, ns, 10, DST, 1024)  # refused: ARS made the block known
    dax_read(plat.kernel, ns, 0x10000, DST + 0x1000, 4096)
    plat.devices["/pmem@140000000"].persist()
    plat.kernel.idle()


PMEM: list[Step] = [
    pmem_setup, lambda plat: plat.clock.advance(ns=500_000), lambda plat: plat.advance(0.01), pmem_finish,
]  # fmt: skip

PROGRAMS: dict[str, tuple[Callable[[Path], Path], list[Step]]] = {
    "memcpy_mc": (lambda _: ROOT / "devicetrees/default.dts", MEMCPY_MC),
    "firmware_first": (lambda _: ROOT / "devicetrees/default.dts", FIRMWARE_FIRST),
    "scrub": (lambda _: ROOT / "devicetrees/virt-aia-ecc.dts", SCRUB),
    "timed": (timed_devicetree, TIMED),
    "tasks": (lambda _: ROOT / "devicetrees/default.dts", TASKS),
    "cxl": (lambda _: ROOT / "devicetrees/cxl-expander.dts", CXL),
    "pmem": (pmem_devicetree, PMEM),
}


# --- what "the same final state" means ------------------------------------------------------------------------------
def _sha(obj: object) -> str:
    return hashlib.sha256(pack(obj)).hexdigest()


def digest(plat: rasplat.Platform) -> dict:
    """The final state: every event, and hashes of the memory (read back through the backends), the harts (every
    CSR as an instruction reads it), each component's and the kernel model's state."""
    state = snapshot(plat)
    del state["recipe"]
    state["clock"] = state["clock"]["advanced"]  # superseded timers (no-ops when they fire) are not re-armed
    memory = {}
    for region in plat.bus.regions:
        pages = getattr(region.target, "pages", None)
        if region.kind == "memory" and pages:
            memory[region.name] = _sha([[n, region.target.read_bytes(n << 12, 4096)] for n in sorted(pages)])
    harts = {}
    for hart in plat.harts:
        csr = hart.csr
        harts[hart.hartid] = _sha([hart.pc, hart.priv, hart.retired, list(hart.x),
                                   [csr.read(n) for n in sorted(csr.names()) if n not in (0x351, 0x151)]])  # fmt: skip
    pmem = plat.devices.get("/pmem@140000000")
    if pmem is not None:
        memory["pmem-durable"] = _sha(pmem.durable_bytes(0, 1 << 20))
    return {"events": list(plat.events), "memory": memory, "harts": harts,
            "state": {key: _sha(value) for key, value in state.items() if key != "events"}}  # fmt: skip


def run_steps(plat: rasplat.Platform, steps: list[Step]) -> None:
    for step in steps:
        step(plat)


def main(spec: dict) -> None:
    _, steps = PROGRAMS[spec["program"]]
    for first, checkpoint, out in spec["jobs"]:
        plat = rasplat.Platform.restore(checkpoint)
        run_steps(plat, steps[first:])
        Path(out).write_bytes(pack(digest(plat)))
        for backend in plat.devices.values():  # release a pmem backing file for the next job
            if hasattr(backend, "close") and hasattr(backend, "persist"):
                backend.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
