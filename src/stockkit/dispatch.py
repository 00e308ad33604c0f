"""Running low-stock actions and stock event listeners after a change is committed.

The inventory calls :func:`dispatch` once its transaction has committed, outside it, with
the events the change caused (see :mod:`stockkit.events`). For each event it runs the
product's low-stock action (low-stock events that name one), then every
``stockkit_stock_event`` listener. A plugin that raises does not stop the others and does
not undo anything: :func:`report` issues a :class:`~stockkit.errors.PluginFailureWarning`
and calls the ``stockkit_plugin_failed`` hook.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stockkit.errors import PluginFailureWarning
from stockkit.events import PluginFailure
from stockkit.model import StockEvent, StockEventKind
from stockkit.plugins import implementations, low_stock_actions, require_key

if TYPE_CHECKING:
    from stockkit.inventory import Inventory

__all__ = ["dispatch", "report"]


def report(inventory: Inventory, failure: PluginFailure) -> None:
    """Report a plugin's failure: a warning, and the ``stockkit_plugin_failed`` hook
    (whose own exceptions are ignored: a failure report must not fail)."""
    warnings.warn(PluginFailureWarning(failure), stacklevel=4)
    for _, function in implementations(inventory.plugins.hook.stockkit_plugin_failed):
        try:
            function(inventory=inventory, failure=failure)
        except Exception:  # noqa: S112, BLE001 - see the docstring
            continue


def dispatch(inventory: Inventory, events: Sequence[StockEvent]) -> None:
    """Run the low-stock actions and the listeners of ``events``, reporting failures."""
    if not events:
        return
    actions = None
    for event in events:
        if event.kind is StockEventKind.LOW_STOCK and event.action is not None:
            during = f"low-stock action {event.action!r}"
            try:
                if actions is None:  # a plugin's registration hook may raise too
                    actions = low_stock_actions(inventory.plugins)
                action = require_key(actions, "low-stock action", event.action)
                action.run(inventory, event)
            except Exception as exc:  # noqa: BLE001 - a failing action is reported, never raised
                plugin = _plugin_of(inventory, (actions or {}).get(event.action))
                report(inventory, PluginFailure(plugin, during, exc, event))
        for name, listener in implementations(inventory.plugins.hook.stockkit_stock_event):
            try:
                listener(inventory=inventory, event=event)
            except Exception as exc:  # noqa: BLE001 - a failing listener is reported, never raised
                report(inventory, PluginFailure(name, "stock event listener", exc, event))


def _plugin_of(inventory: Inventory, action: object) -> str:
    """The name of the plugin whose module defines an action (best effort)."""
    run = getattr(action, "run", None)
    module = getattr(run, "__module__", None)
    for name, plugin in inventory.plugins.list_name_plugin():
        if getattr(plugin, "__name__", None) == module or getattr(type(plugin), "__module__", None) == module:
            return name
    return module or "unknown"
