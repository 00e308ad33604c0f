"""The example plugin package in examples/ is really installed and found through its
``stockkit`` entry point.

The package is built and installed with pip (``--no-build-isolation --no-index``: its
build backend, hatchling, comes with stockkit's test extra, so no network is needed)
into a temporary folder. The folder is put on ``sys.path`` only while this module's tests
run, so no other test ever autoloads the plugin; ``importlib.metadata`` (which pluggy
uses to read entry points) scans ``sys.path`` at every call.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import stockkit
from stockkit import InventoryConfig
from stockkit.plugins import AUTOLOAD_ENV, BLOCKED_ENV, ENTRY_POINT_GROUP

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "stockkit-example-plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder the example plugin was pip-installed into, on ``sys.path``."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(EXAMPLE)],
        check=True, capture_output=True, text=True,
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("stockkit_example_plugin", None)
    importlib.invalidate_caches()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    monkeypatch.delenv(BLOCKED_ENV, raising=False)


def test_pip_installed_it_with_its_entry_point(installed):
    points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)

    assert {(p.name, p.value, p.dist.name) for p in points} >= {
        ("example", "stockkit_example_plugin", "stockkit-example-plugin")}
    assert any(installed in Path(p.dist._path).parents for p in points if p.name == "example")


def test_stockkit_finds_it_through_the_entry_point(installed, environment):
    inv = stockkit.open()

    assert inv.plugins.has_plugin("example")
    assert "reorder" in [a.key for a in inv.low_stock_actions()]


def test_it_can_be_turned_off_or_blocked_by_name(installed, environment, monkeypatch):
    assert not stockkit.open(autoload_plugins=False).plugins.has_plugin("example")
    assert not stockkit.open(blocked_plugins=["example"]).plugins.has_plugin("example")
    monkeypatch.setenv(BLOCKED_ENV, "example")
    assert not stockkit.open().plugins.has_plugin("example")


def test_its_hooks_work(installed, environment):
    example = importlib.import_module("stockkit_example_plugin")
    example.EVENTS.clear()
    today = dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC)
    inv = stockkit.open(clock=lambda: today)
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.9, active=True)
    inv.create_channel("web", "Web")
    inv.link_warehouse("web", "ams")
    inv.create_product("tee", "T-shirt", status="approved",
                       config=InventoryConfig(low_stock_threshold=2, low_stock_action="reorder"))
    inv.add_sku("tee", "TEE-M")
    inv.set_level("TEE-M", "ams", on_hand=5)

    inv.place_order("o-1", "web", [("TEE-M", 3)])

    assert example.EVENTS == [("back_in_stock", "tee", "TEE-M"), ("low_stock", "tee", "TEE-M")]
    [reorder] = inv.replenishments("TEE-M")
    assert (reorder.warehouse, reorder.quantity, reorder.expected_on) == ("ams", 50, dt.date(2025, 6, 9))
    assert inv.estimate("TEE-M", 100).source == "stockkit-example-plugin"
