"""pytest fixtures for RAS tests on rasplat (entry point `pytest11`, loaded when rasplat is installed).

Fixtures: `rasplat_platform`, `rasplat_inject`, `rasplat_events`. The platform comes from, in order: the
`@pytest.mark.rasplat_devicetree(path)` marker, `--rasplat-dt` (ini `rasplat_devicetree`, env `RASPLAT_DT`),
else `Platform.default()`. When a test that used a platform fails, its event trace is saved as
`<rasplat-artifacts>/<test id>.trace.msgpack` (option `--rasplat-artifacts`, ini `rasplat_artifacts`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .platform import Platform
from .trace import Recorder

_PLATFORMS = pytest.StashKey[dict[str, Platform]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rasplat")
    group.addoption("--rasplat-dt", dest="rasplat_dt", default=None,
                    help="device tree (.dts/.dtb) for rasplat_platform (env RASPLAT_DT)")  # fmt: skip
    group.addoption("--rasplat-artifacts", dest="rasplat_artifacts", default=None,
                    help="directory for event traces of failing tests (default: rasplat-artifacts)")  # fmt: skip
    parser.addini("rasplat_devicetree", "device tree (.dts/.dtb) for rasplat_platform", default="")
    parser.addini("rasplat_artifacts", "directory for event traces of failing tests", default="rasplat-artifacts")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rasplat_devicetree(path): build rasplat_platform from this device tree")
    config.stash[_PLATFORMS] = {}


def _devicetree(request: pytest.FixtureRequest) -> str | None:
    marker = request.node.get_closest_marker("rasplat_devicetree")
    if marker is not None:
        path = Path(marker.args[0])
        return str(path if path.is_absolute() else Path(request.node.fspath).parent / path)
    cfg = request.config
    value = cfg.getoption("rasplat_dt") or os.environ.get("RASPLAT_DT") or cfg.getini("rasplat_devicetree")
    if value and not Path(value).is_absolute():
        value = str(cfg.rootpath / value)
    return value or None


@pytest.fixture
def rasplat_platform(request: pytest.FixtureRequest) -> Platform:
    """A fresh platform for this test (from the marker, --rasplat-dt, or the default)."""
    source = _devicetree(request)
    plat = Platform.from_devicetree(source) if source else Platform.default()
    request.config.stash[_PLATFORMS][request.node.nodeid] = plat
    return plat


@pytest.fixture
def rasplat_inject(rasplat_platform: Platform) -> Callable[..., Any]:
    """`rasplat_inject(kind, addr, **params)`: inject an error into the test's platform."""

    def inject(kind: str, addr: int, **params: Any) -> Any:
        return rasplat_platform.inject(kind, addr=addr, **params)

    return inject


class Events:
    """Queries and assertions over the platform's event stream."""

    def __init__(self, platform: Platform) -> None:
        self._log = platform.events

    def __iter__(self) -> Any:
        return iter(self._log)

    def __len__(self) -> int:
        return len(self._log)

    def of_kind(self, *kinds: str) -> list[dict]:
        return self._log.of_kind(*kinds)

    def count(self, kind: str) -> int:
        return len(self._log.of_kind(kind))

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self._log]

    def expect(self, counts: dict[str, int] | None = None, /, **more: int) -> None:
        """Assert exact counts per kind: `expect(fixup=1, panic=0)`, `expect({"poison.consume": 1})`."""
        wanted = {**(counts or {}), **more}
        have = Counter(self.kinds())
        wrong = {k: (n, have[k]) for k, n in wanted.items() if have[k] != n}
        if wrong:
            detail = ", ".join(f"{k}: expected {n}, got {got}" for k, (n, got) in wrong.items())
            raise AssertionError(f"rasplat events: {detail}; stream: {self.kinds()}")

    def expect_order(self, *kinds: str) -> None:
        """Assert these kinds occur in this order (other events may come between them)."""
        stream = iter(self.kinds())
        for kind in kinds:
            if not any(k == kind for k in stream):
                raise AssertionError(f"rasplat events: {kind!r} missing or out of order in {self.kinds()}")


@pytest.fixture
def rasplat_events(rasplat_platform: Platform) -> Events:
    return Events(rasplat_platform)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    platform = item.config.stash.get(_PLATFORMS, {}).get(item.nodeid)
    if platform is not None and report.failed and call.when in ("call", "setup"):
        folder = item.config.getoption("rasplat_artifacts") or item.config.getini("rasplat_artifacts")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid) + ".trace.msgpack"
        recorder = Recorder(meta={"test": item.nodeid})  # with the platform's wiring and symbols, for `trace show`
        recorder.add(platform, label=item.nodeid)
        path = recorder.write(Path(item.config.rootpath, folder, name))
        report.sections.append(("rasplat", f"event trace saved to {path}"))
    if call.when == "teardown":
        item.config.stash.get(_PLATFORMS, {}).pop(item.nodeid, None)
    return report
