"""A platform: the bus with its memory and devices, the harts, the event log and the kernel model."""

from __future__ import annotations

from pathlib import Path

from .bus import Bus, Region
from .clock import Clock
from .elf import Image, load_file, read_elf
from .errors import ConfigError, ElfError
from .events import EventLog
from .hart import Hart
from .kernel import Kernel
from .memory import RAM

DRAM_BASE = 0x8000_0000
DRAM_SIZE = 1 << 30
QUANTUM = 4096  # instructions a hart runs before the next one gets its turn


class Platform:
    def __init__(
        self,
        *,
        dram_base: int = DRAM_BASE,
        dram_size: int = DRAM_SIZE,
        harts: int = 1,
        arch_copy_mc: bool = True,
        misaligned: str = "emulate",
    ) -> None:
        if harts < 1:
            raise ConfigError(f"platform: needs at least one hart, got {harts}")
        self.bus = Bus()
        self.harts: list[Hart] = []
        self.events = EventLog(clock=lambda: self.harts[0].instret if self.harts else 0)
        self.dram = RAM(dram_size, name="dram")
        self.bus.map("dram", dram_base, dram_size, self.dram)
        self.harts = [Hart(i, self.bus, self.events, misaligned=misaligned) for i in range(harts)]
        self.clock = Clock(instret=lambda: self.harts[0].instret)
        self.arch_copy_mc = arch_copy_mc
        self._kernel: Kernel | None = None

    @property
    def kernel(self) -> Kernel:
        """The kernel model; created (and its firmware loaded into DRAM) on first use."""
        if self._kernel is None:
            self._kernel = Kernel(self, arch_copy_mc=self.arch_copy_mc)
        return self._kernel

    @classmethod
    def default(cls, arch_copy_mc: bool = True) -> Platform:
        """The embedded default platform: QEMU-virt-like layout, 1 GiB of DRAM at 0x8000_0000, one hart.

        `arch_copy_mc=False` models a kernel without the RISC-V copy_mc patch (the generic fallback)."""
        return cls(arch_copy_mc=arch_copy_mc)

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
                raise ElfError(
                    f"{image.path}: segment [{vaddr:#x}, {vaddr + memsz:#x}) is not inside one memory region "
                    f"(memory: {', '.join(f'{r.base:#x}-{r.end:#x}' for r in self.bus.regions if r.kind == 'memory')})"
                )
        for vaddr, data, memsz in segments:
            self.bus.write(vaddr, data + bytes(memsz - len(data)))
        self.events.emit("elf.load", path=image.path, entry=image.entry, segments=len(segments))
        return image

    def run(self, max_steps: int) -> int:
        """Run the harts (round robin) for up to max_steps instructions in total; returns how many ran.
        Stops early when a hook asks to."""
        done = 0
        while done < max_steps:
            for hart in self.harts:
                ran, stopped = hart.run(min(QUANTUM, max_steps - done))
                done += ran
                self.clock.poll()
                if stopped:
                    return done
                if done >= max_steps:
                    break
        return done

    def advance(self, seconds: float) -> int:
        """Let simulated time pass with the harts idle (scrubbers, decay windows...). Returns now in ns."""
        return self.clock.advance(seconds)

    # --- errors ---------------------------------------------------------------------------------------------
    def _memory_region(self, addr: int, what: str) -> Region:
        region = self.bus.find(addr)
        if region is None or not hasattr(region.target, "inject"):
            raise ConfigError(f"{what}: address {addr:#x} is not in a memory backend")
        return region

    def inject(self, kind: str, addr: int, **params: object) -> dict:
        """Inject an error into the memory backend holding addr (kind "poison", ...). Returns the event."""
        region = self._memory_region(addr, f"inject {kind!r}")
        fields = region.target.inject(kind, addr - region.base, **params)  # type: ignore[attr-defined]
        if "line" in fields:
            fields["line"] += region.base
        self._forget_code(addr)
        return self.events.emit("inject", error=kind, addr=addr, region=region.name, **fields, **params)

    def clear_poison(self, addr: int) -> bool:
        """Clear the poison of the line holding addr. Returns whether it was poisoned."""
        region = self._memory_region(addr, "clear_poison")
        was = region.target.clear_poison(addr - region.base)  # type: ignore[attr-defined]
        self._forget_code(addr)
        self.events.emit("poison.clear", addr=addr, region=region.name, was_poisoned=was)
        return was

    def _forget_code(self, addr: int) -> None:
        """Decoded instructions of a line whose error state changed must be fetched (and checked) again."""
        line = addr & ~63
        if line >> 12 in self.bus.code_pages:
            self.bus.code_written(line, 64)

    def __repr__(self) -> str:
        return f"<Platform harts={len(self.harts)} regions={self.bus.regions}>"
