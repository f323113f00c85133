"""ACME's hooks: a device, an error source and a recovery policy, found through the `rasplat` entry point."""

from __future__ import annotations

from typing import Any

from rasplat.bus import AccessFault
from rasplat.hookspecs import hookimpl

LINE = 64
CMD_POISON, CMD_CLEAR = 1, 2


class Einj:
    """MMIO error injector. Registers: 0x00 ADDR (64-bit), 0x08 COUNT (32-bit lines), 0x0C CMD (32-bit,
    write 1 = poison, 2 = clear), 0x10 DONE (32-bit, read-only: lines handled by the last command)."""

    SIZE = 0x1000

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.addr = 0
        self.count = 1
        self.done = 0

    def load(self, off: int, size: int) -> int:
        if (off, size) == (0x00, 8):
            return self.addr
        if (off, size) == (0x08, 4):
            return self.count
        if (off, size) == (0x10, 4):
            return self.done
        if (off, size) == (0x0C, 4):
            return 0
        raise AccessFault

    def store(self, off: int, size: int, value: int) -> None:
        if (off, size) == (0x00, 8):
            self.addr = value
        elif (off, size) == (0x08, 4):
            self.count = value
        elif (off, size) == (0x0C, 4):
            self.command(value)
        else:
            raise AccessFault

    def command(self, cmd: int) -> None:
        if cmd == CMD_POISON:
            self.done = len(burst(self.platform, self.addr, lines=self.count))
        elif cmd == CMD_CLEAR:
            self.done = sum(self.platform.clear_poison(self.addr + i * LINE) for i in range(self.count))


def burst(platform: Any, addr: int, lines: int = 4) -> list[dict]:
    """Poison `lines` adjacent 64-byte lines starting at the line holding addr."""
    start = addr & ~(LINE - 1)
    return [platform.inject("poison", addr=start + i * LINE) for i in range(lines)]


@hookimpl
def rasplat_register_devices(register: Any) -> None:
    register("acme,einj", _einj)
    register("acme,mirror", _mirror)


@hookimpl
def rasplat_register_error_sources(register: Any) -> None:
    register("acme-burst", burst)


@hookimpl
def rasplat_recovery_policy(platform: Any, failure: dict) -> dict | None:
    if failure.get("policy") != "acme-mirror":
        return None
    for base, size, mirror in platform.devices.get("acme,mirror", []):
        if base <= failure["src"] < base + size:
            return {"action": "retry", "src": mirror + failure["src"] - base, "policy": "acme-mirror"}
    return None  # no mirror: let the next policy decide


def _einj(ctx: Any, node: Any) -> None:
    (base, size), *_ = node.reg()
    device = Einj(ctx.platform)
    ctx.map_mmio(node, base, size, device)
    ctx.platform.devices[node.path] = device


def _mirror(ctx: Any, node: Any) -> None:
    mirror = node.u64("acme,mirror-base")
    for base, size in node.reg():
        ctx.platform.devices.setdefault("acme,mirror", []).append((base, size, mirror))
