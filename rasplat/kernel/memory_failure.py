"""memory_failure_queue() as RISC-V Linux has it today.

RISC-V does not select ARCH_SUPPORTS_MEMORY_FAILURE, so CONFIG_MEMORY_FAILURE cannot be enabled and
memory_failure_queue() is the empty inline stub of include/linux/mm.h: the error is reported to the
caller but the page is never isolated (reference: kernel-copy-mc.md §6, "memory_failure on RISC-V").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kernel import Kernel

STUB_REASON = "empty stub: RISC-V does not select ARCH_SUPPORTS_MEMORY_FAILURE"


def memory_failure_queue(kernel: Kernel, pfn: int, flags: int) -> None:
    kernel.plat.events.emit("mf.queue", pfn=pfn, flags=flags, queued=False, reason=STUB_REASON)
