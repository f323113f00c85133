"""Plugin loading: one pluggy PluginManager per platform; built-ins first, then entry points.

Third-party packages register in the entry-point group `rasplat`. Each entry point is loaded on its own,
so a broken plugin is reported by name and distribution and the platform builds without it.
`RASPLAT_PLUGINS` (comma-separated entry-point names) is an allow-list, `RASPLAT_DISABLE_PLUGINS` a
deny-list; built-ins are always loaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError

GROUP = "rasplat"
BUILTINS = ("rasplat.builtins",)
_told: set[tuple[str, str]] = set()  # plugin failures already printed by this process


@dataclass
class PluginInfo:
    name: str
    dist: str
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


class Plugins:
    """The plugins of one platform and the registries they filled."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.info: list[PluginInfo] = []
        self.devices: dict[str, Callable[..., Any]] = {}
        self.backends: dict[str, Callable[..., Any]] = {}
        self.error_sources: dict[str, Callable[..., Any]] = {}
        self._owners: dict[tuple[int, str], str] = {}  # (id(registry), key) -> plugin name
        for module_name in BUILTINS:
            module = __import__(module_name, fromlist=["_"])
            self._register(module, module_name, "rasplat (built-in)")
        for ep in _entry_points():
            self._load(ep)
        self._fill(self.devices, "rasplat_register_devices", "device compatible")
        self._fill(self.backends, "rasplat_register_backends", "memory backend")
        self._fill(self.error_sources, "rasplat_register_error_sources", "error source")

    @property
    def hook(self) -> Any:
        return self.pm.hook

    @property
    def failed(self) -> list[PluginInfo]:
        return [p for p in self.info if p.error]

    def _register(self, plugin: object, name: str, dist: str) -> None:
        info = PluginInfo(name, dist)
        self.info.append(info)
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except Exception as e:  # noqa: BLE001 - any failure of a plugin is reported, never fatal
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            info.error = f"{type(e).__name__}: {e}"
            return
        info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])

    def _load(self, ep: EntryPoint) -> None:
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown distribution"
        try:
            plugin = ep.load()
        except Exception as e:  # noqa: BLE001
            self.info.append(PluginInfo(ep.name, dist, error=f"cannot load {ep.value}: {type(e).__name__}: {e}"))
            return
        self._register(plugin, ep.name, dist)

    def _fill(self, registry: dict[str, Callable[..., Any]], hook_name: str, what: str) -> None:
        """Run one registration hook plugin by plugin (in registration order), so that a plugin that fails
        or claims a name another plugin has is reported by name and skipped, not fatal."""
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            mine: dict[str, Callable[..., Any]] = {}

            def register(key: str, factory: Callable[..., Any], _mine: dict = mine) -> None:
                if key in registry or key in _mine:
                    owner = self._owners.get((id(registry), key), "itself")
                    raise PluginError(f"{what} {key!r} is already registered by {owner!r}")
                _mine[key] = factory

            try:
                impl.function(register=register)
            except Exception as e:  # noqa: BLE001
                self._fail(impl.plugin_name, f"{hook_name}: {type(e).__name__}: {e}")
                continue
            registry.update(mine)
            self._owners.update({(id(registry), key): impl.plugin_name for key in mine})

    def _fail(self, name: str, error: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for registry in (self.devices, self.backends, self.error_sources):
            for key in [k for k in registry if self._owners.get((id(registry), k)) == name]:
                del registry[key]
        for info in self.info:
            if info.name == name:
                info.error = error

    def report_failures(self, emit: Callable[..., object]) -> None:
        """Tell the user, once per platform, which plugins could not be used."""
        for p in self.failed:
            emit("plugin.error", plugin=p.name, dist=p.dist, error=p.error)
            if (p.name, p.dist) not in _told:
                _told.add((p.name, p.dist))
                print(f"rasplat: plugin {p.name!r} ({p.dist}) skipped: {p.error}", file=sys.stderr)


def _entry_points() -> list[EntryPoint]:
    allow = _names("RASPLAT_PLUGINS")
    deny = _names("RASPLAT_DISABLE_PLUGINS") or set()
    selected = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in deny or (allow is not None and ep.name not in allow):
            continue
        selected.append(ep)
    return selected


def _names(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}
