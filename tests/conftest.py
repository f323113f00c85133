"""Shared test helpers: tests/rvasm.py on the path, pytester, and the example plugin packages pip-installed
into a directory of their own (so only the tests that ask for them see them)."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/rvasm.py

pytest_plugins = ["pytester"]
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example packages, pip-installed into a directory of their own (so other tests never see them)."""
    target = tmp_path_factory.mktemp("site")
    for package in ("rasplat-example-vendor", "rasplat-broken-example"):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                        str(ROOT / "plugins" / package)], check=True, capture_output=True)  # fmt: skip
    return target


@pytest.fixture
def installed(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("RASPLAT_PLUGINS", raising=False)
    monkeypatch.delenv("RASPLAT_DISABLE_PLUGINS", raising=False)
    return site
