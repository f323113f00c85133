"""A platform: the bus with its memory and devices, the harts, the event log, the clock, the plugins and
the kernel model. Platforms are built from device trees; `Platform.default()` from the embedded one."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from . import trace
from .bus import Bus, Region
from .clock import Clock
from .elf import Image, load_file, read_elf
from .errors import ConfigError, ElfError
from .events import EventLog
from .hart import Hart
from .kernel import Kernel
from .memory.ram import PoisonSet
from .plugins import Plugins
from .ras.router import RasRouter

QUANTUM = 4096  # instructions a hart runs before the next one gets its turn
DEFAULT_DTS = "default.dts"


class Platform:
    def __init__(
        self,
        *,
        hart_ids: Sequence[int] = (0,),
        arch_copy_mc: bool = True,
        misaligned: str = "emulate",
        plugins: Plugins | None = None,
    ) -> None:
        if not hart_ids:
            raise ConfigError("platform: needs at least one hart")
        self.bus = Bus()
        self.harts: list[Hart] = []
        self.events = EventLog(clock=lambda: self.harts[0].retired if self.harts else 0)
        trace.platform_created(self)  # an active trace Recorder (`--trace FILE`) records every event from here on
        self.harts = [Hart(i, self.bus, self.events, misaligned=misaligned) for i in hart_ids]
        self.clock = Clock(instret=lambda: self.harts[0].retired)
        for hart in self.harts:
            hart.time_source = self.mtime
        self.plugins = plugins or Plugins()
        self.plugins.report_failures(self.events.emit)
        self.arch_copy_mc = arch_copy_mc
        self.timebase_hz = 1_000_000_000  # /cpus timebase-frequency
        # "riscv-today": no ARCH_SUPPORTS_MEMORY_FAILURE (memory_failure_queue is an empty stub); "supported"
        self.memory_failure = "riscv-today"
        self.memory_failure_recovery = True  # vm.memory_failure_recovery
        self.ce_policy = {"action": "soft", "threshold": 50, "cycle_s": 24 * 3600}  # rasdaemon PAGE_CE_*
        self.ras_delivery = "kernel-first"  # or "firmware-first" (device tree: /rasplat rasplat,ras-delivery)
        self.policy = "linux"  # the recovery policy the kernel model asks plugins for (device tree: rasplat,policy)
        self.devices: dict[str, Any] = {}  # devices built from the device tree, by node path
        self.aplic_root: Any = None  # the root APLIC domain, when the platform has an APLIC
        self.ras = RasRouter(self)  # which RERI bank logs the errors of which memory region
        self.bus.on_map.append(self._watch_poison)
        self.description: dict[str, Any] = {}  # what the device tree described (cpus, AIA, ...), for `dt show`
        # The recipe a checkpoint stores: the tree this platform was built from and the regions it mapped.
        self.devicetree: Any = None
        self.built_regions: tuple[str, ...] = ()
        # error sources the device tree schedules at a time: tag -> (when_ns, fire), re-armed by a restore
        self.timed_injections: dict[str, tuple[int, Callable[[int], None]]] = {}
        self._kernel: Kernel | None = None
        for observer in self.plugins.hook.rasplat_event_observer(platform=self):
            if observer is not None:
                self.events.subscribe(observer)

    # --- construction ---------------------------------------------------------------------------------------
    @classmethod
    def default(cls, arch_copy_mc: bool = True) -> Platform:
        """The embedded default platform (`devicetrees/default.dts`): QEMU-virt-like layout, 1 GiB of DRAM at
        0x8000_0000, one RV64IMAC hart. `arch_copy_mc=False` models a kernel without the RISC-V copy_mc patch
        (the generic fallback)."""
        return cls.from_devicetree(_default_tree(), arch_copy_mc=arch_copy_mc)

    @classmethod
    def from_devicetree(
        cls,
        source: str | os.PathLike | bytes | Any,
        *,
        arch_copy_mc: bool = True,
        misaligned: str = "emulate",
        plugins: Plugins | None = None,
    ) -> Platform:
        """Build a platform from a `.dts` or `.dtb` (a path, or the file's bytes)."""
        from .devicetree.build import build, hart_ids, load_tree
        from .devicetree.tree import Tree

        tree = source if isinstance(source, Tree) else load_tree(source)
        plat = cls(hart_ids=[h for h, _ in hart_ids(tree)], arch_copy_mc=arch_copy_mc, misaligned=misaligned,
                   plugins=plugins)  # fmt: skip
        build(tree, plat)
        plat.devicetree = tree
        plat.built_regions = tuple(r.name for r in plat.bus.regions)
        return plat

    @classmethod
    def restore(cls, path: str | os.PathLike, *, plugins: Plugins | None = None) -> Platform:
        """A platform in the state `checkpoint(path)` saved: built again from the saved device tree, the kernel
        model booted again if it had been, then every component's state applied and its timers re-armed.
        Raises CheckpointError (one line, naming the file) for a corrupt, truncated or foreign file."""
        from .checkpoint import load

        return load(path, plugins=plugins)

    def checkpoint(self, path: str | os.PathLike) -> Path:
        """Save the whole state (memory, poison, ECC faults, devices, harts, kernel model, timers, events) to
        path as msgpack, atomically. Continuing a restored platform gives what continuing this one would."""
        from .checkpoint import save

        return save(self, path)

    def mtime(self) -> int:
        """The platform timer in ticks of `timebase_hz` (what the `time` CSR reads)."""
        return self.clock.now() * self.timebase_hz // 1_000_000_000

    def add_memory(self, name: str, base: int, size: int, backend: Any) -> Region:
        return self.bus.map(name, base, size, backend, "memory")

    def add_mmio(self, name: str, base: int, size: int, device: Any) -> Region:
        return self.bus.map(name, base, size, device, "mmio")

    @property
    def kernel(self) -> Kernel:
        """The kernel model; created (and its firmware loaded into DRAM) on first use."""
        if self._kernel is None:
            self._kernel = Kernel(self, arch_copy_mc=self.arch_copy_mc)
        return self._kernel

    # --- software -------------------------------------------------------------------------------------------
    def load_elf(self, path: str | Path | bytes) -> Image:
        """Load a linked RV64 ELF into memory. Every PT_LOAD segment must lie inside mapped memory."""
        if isinstance(path, bytes | bytearray):
            image, segments = read_elf(bytes(path), "<bytes>")
        else:
            image, segments = load_file(path)
        for vaddr, _data, memsz in segments:
            region = self.bus.find(vaddr, max(memsz, 1))
            if region is None or region.kind != "memory":
                memory = ", ".join(f"{r.base:#x}-{r.end:#x}" for r in self.bus.regions if r.kind == "memory")
                raise ElfError(
                    f"{image.path}: segment [{vaddr:#x}, {vaddr + memsz:#x}) is not inside one memory region "
                    f"(memory: {memory})"
                )
        for vaddr, data, memsz in segments:
            self.bus.write(vaddr, data + bytes(memsz - len(data)))
        self.events.emit("elf.load", path=image.path, entry=image.entry, segments=len(segments))
        return image

    def run(self, max_steps: int) -> int:
        """Run the harts (round robin) for up to max_steps instructions in total; returns how many ran.
        Stops early when a hook asks to, or when the harts stop retiring instructions (trapping forever)."""
        done = idle = 0
        while done < max_steps:
            progress = False
            for hart in self.harts:
                ran, stopped = hart.run(min(QUANTUM, max_steps - done))
                done += ran
                progress = progress or ran > 0
                self.clock.poll()
                if stopped:
                    return done
                if done >= max_steps:
                    break
            idle = 0 if progress else idle + 1
            if idle > 1:  # every hart already used its trap/hook allowance without retiring anything
                break
        return done

    def advance(self, seconds: float) -> int:
        """Let simulated time pass with the harts idle (scrubbers, decay windows...). Returns now in ns."""
        return self.clock.advance(seconds)

    # --- errors ---------------------------------------------------------------------------------------------
    def memory_at(self, addr: int, what: str = "access") -> Region:
        """The memory region holding addr (ConfigError naming the address otherwise)."""
        region = self.bus.find(addr)
        if region is None or not hasattr(region.target, "inject"):
            raise ConfigError(f"{what}: address {addr:#x} is not in a memory backend")
        return region

    def can_inject(self, kind: str, addr: int) -> bool:
        region = self.bus.find(addr)
        return region is not None and kind in getattr(region.target, "inject_kinds", ())

    def inject(self, kind: str, addr: int, **params: object) -> dict | list[dict]:
        """Inject an error at addr: a backend's own kind ("poison", "bitflip"...), or a plugin error source.
        Returns the `inject` event (a list of them for an error source that injects several)."""
        source = self.plugins.error_sources.get(kind)
        if source is not None:
            return source(self, addr, **params)
        region = self.memory_at(addr, f"inject {kind!r}")
        fields = region.target.inject(kind, addr - region.base, **params)
        if "line" in fields:
            fields["line"] += region.base
        self._forget_code(addr)
        return self.events.emit("inject", **{"error": kind, "addr": addr, "region": region.name, **params, **fields})

    def clear_poison(self, addr: int) -> bool:
        """Clear the poison of the line holding addr. Returns whether it was poisoned."""
        region = self.memory_at(addr, "clear_poison")
        was = region.target.clear_poison(addr - region.base)
        self._forget_code(addr)
        self.events.emit("poison.clear", addr=addr, region=region.name, was_poisoned=was)
        return was

    def _watch_poison(self, region: Region) -> None:
        """However a line of this memory gets poisoned (an injection, an ECC UE a read or the scrubber found, the
        CXL mailbox, ARS), instructions decoded from it must be fetched, and so checked, again."""
        poison = getattr(region.target, "poison", None)
        if isinstance(poison, PoisonSet):
            poison.watchers.append(lambda line, base=region.base: self._forget_code(base + (line << 6)))
        for dev in getattr(getattr(region.target, "region", None), "devices", ()):  # a CXL window: device media
            dev.media.poison.watchers.append(lambda line, dev=dev: self._forget_dpa(dev, line << 6))

    def _forget_dpa(self, device: Any, dpa: int) -> None:
        _, hpa = device.dpa_to_hpa(dpa)
        if hpa is not None:
            self._forget_code(hpa)

    def _forget_code(self, addr: int) -> None:
        """Decoded instructions of a line whose error state changed must be fetched (and checked) again."""
        line = addr & ~63
        if line >> 12 in self.bus.code_pages:
            self.bus.code_written(line, 64)

    def __repr__(self) -> str:
        return f"<Platform harts={len(self.harts)} regions={self.bus.regions}>"


def default_devicetree_path() -> str:
    return str(resources.files("rasplat.devicetree") / DEFAULT_DTS)


@lru_cache(maxsize=1)
def _default_tree() -> Any:
    """The parsed default tree; trees are read-only, so one parse serves every default platform."""
    from .devicetree.build import load_tree

    return load_tree(default_devicetree_path())
