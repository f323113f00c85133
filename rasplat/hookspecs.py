"""The hooks plugins implement. Built-in devices, backends, error sources and policies use them too.

Every hook here runs at platform-build time or on a slow path (an injection, a failed copy); none runs
per instruction or per memory access. Implementations must not give parameters default values (pluggy 1.7
passes the caller's value to them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "rasplat"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def rasplat_register_devices(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register device factories by device-tree `compatible`: `register("vendor,widget", factory)`.

    `factory(ctx, node)` builds the device for that node (ctx: `rasplat.devicetree.BuildContext`, node:
    `rasplat.devicetree.Node`), maps its regions on `ctx.platform.bus` and wires it up."""


@hookspec
def rasplat_register_backends(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register memory backends by name: `register("dram-ecc", factory)`, chosen by a memory node's
    `rasplat,backend` property. `factory(ctx, node, base, size)` returns the backend object for the range
    [base, base+size) (see `rasplat.memory.base.MemoryBackend`); `ctx.platform.ras.sink(region)` gives it an
    error_sink that logs into the region's RERI bank."""


@hookspec
def rasplat_register_error_sources(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register error sources: `register("poison-burst", source)`. `source(platform, addr, **params)`
    injects an error pattern and returns the list of injection events. It becomes a `plat.inject()` kind
    and can be declared under the device tree's `/rasplat/error-sources` node to fire at a simulated time."""


@hookspec(firstresult=True)
def rasplat_recovery_policy(platform: Any, failure: dict) -> dict | None:
    """Decide what the kernel model does about a failed copy or a bad page.

    `failure` describes it: {"caller": "copy_mc_highpage", "src": ..., "dst": ..., "n": ..., "ret": ...,
    "pfn": ...}. Return None to pass, or a decision such as {"action": "retry", "src": mirror_address},
    {"action": "propagate"} (what Linux does), {"action": "panic", "reason": ...}. The first non-None wins."""


@hookspec
def rasplat_event_observer(platform: Any) -> Callable[[dict], None] | None:
    """Return a callable to receive every event of this platform (or None). Called once per platform."""
