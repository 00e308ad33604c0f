"""How the conformance suite opens a store, in the test's process and in the worker
processes it starts. Kept apart from the test classes, with nothing but stockkit to
import: each worker process imports it, and the crash tests start 40 of them a test."""

from __future__ import annotations

import importlib
import os
from typing import Any

import stockkit
from stockkit.inventory import Inventory

__all__ = ["PLUGINS_ENV", "open_inventory"]

#: The environment variable naming, comma-separated, the modules of the plugins that every
#: inventory the suite opens registers. :attr:`ConformanceBase.plugins` sets it during
#: each test; the suite's worker processes inherit it.
PLUGINS_ENV = "STOCKKIT_CONFORMANCE_PLUGINS"


def open_inventory(url: str, **options: Any) -> Inventory:
    """Open ``url`` as every part of the suite does, in the test's process and in its
    worker processes: no entry-point plugins (what else is installed must not change the
    outcome), but the plugins named by :data:`PLUGINS_ENV`, so that a backend served by a
    third-party plugin is found. ``options`` go to :func:`stockkit.open`."""
    plugins = []
    for name in filter(None, (n.strip() for n in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            plugins.append(importlib.import_module(name))
        except ImportError as exc:
            raise ImportError(
                f"{PLUGINS_ENV} names the plugin module {name!r}, which cannot be imported ({exc}); "
                "name an importable module (installed, or on the path of the worker processes too)"
            ) from exc
    return stockkit.open(url, autoload_plugins=False, plugins=plugins, **options)
