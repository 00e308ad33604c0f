"""Every hook stockkit calls, with when it is called, what it receives and what it returns.

Plugins implement these with :data:`stockkit.hookimpl`. Built-in behaviour (the storage
backends, the ``"unpublish"`` low-stock action, the ``"default"`` inventory engine and
the default availability estimator) is registered exactly like a third-party plugin, and
third-party plugins are found through the ``stockkit`` entry-point group (see
:mod:`stockkit.plugins`).

The hooks come in four families, each with its own documentation page: storage backends
(:func:`stockkit_register_backends`); low-stock actions and stock events
(:func:`stockkit_register_low_stock_actions`, :func:`stockkit_stock_event`,
:func:`stockkit_plugin_failed`); availability estimators
(:func:`stockkit_estimate_availability`); inventory engines
(:func:`stockkit_register_inventory_engines`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import pluggy

from stockkit.model import Estimate, InventoryConfig, Product, StockEvent
from stockkit.store import Store

if TYPE_CHECKING:
    from stockkit.events import PluginFailure
    from stockkit.inventory import Inventory

__all__ = [
    "BackendFactory",
    "InventoryEngine",
    "LowStockActionFunction",
    "RegisterLowStockAction",
    "hookimpl",
    "hookspec",
    "stockkit_estimate_availability",
    "stockkit_plugin_failed",
    "stockkit_register_backends",
    "stockkit_register_inventory_engines",
    "stockkit_register_low_stock_actions",
    "stockkit_stock_event",
]

#: Marks a function in this module as a hook specification.
hookspec = pluggy.HookspecMarker("stockkit")
#: Marks a plugin's function as the implementation of a stockkit hook.
hookimpl = pluggy.HookimplMarker("stockkit")

#: The callable a backend registers, ``factory(url) -> Store``, which opens a store for
#: a URL. The URL is the one given to
#: :func:`stockkit.open`, scheme included.
BackendFactory = Callable[[str], Store]

#: A low-stock action, ``action(inventory, event) -> None``: what to do when a SKU of a
#: product whose configuration names the action becomes low (``event.kind`` is
#: :attr:`~stockkit.model.StockEventKind.LOW_STOCK`). It runs after the change was
#: committed, outside any transaction, so it may call the inventory.
LowStockActionFunction = Callable[["Inventory", StockEvent], None]

#: A per-product inventory engine, ``engine(product, sku) -> InventoryConfig``: the rules
#: (order quantities, back orders, threshold, display switches, action, estimate) that
#: apply to the SKU code ``sku`` of ``product``. The ``"default"`` engine returns
#: ``product.config``.
InventoryEngine = Callable[[Product, str], InventoryConfig]


class RegisterLowStockAction(Protocol):
    """The ``register`` callable :func:`stockkit_register_low_stock_actions` receives."""

    def __call__(self, key: str, action: LowStockActionFunction, *, label: str = "", priority: int = 0) -> None:
        """Register ``action`` under ``key``, shown as ``label`` (the key when empty);
        lists show lower ``priority`` first."""


@hookspec
def stockkit_register_backends(register: Callable[[str, BackendFactory], None]) -> None:
    """Register storage backends by URL scheme.

    Called once per :func:`stockkit.open`, before the store is opened. Call
    ``register(scheme, factory)`` for each scheme the plugin serves (``"memory"`` for
    ``memory://``); ``factory(url)`` must return an object that implements
    :class:`stockkit.store.Store`. When several plugins register a scheme, the one
    registered last wins (plugins passed to :func:`stockkit.open` over installed ones,
    installed ones over built-ins), so a plugin can override a built-in backend.
    Return nothing.
    """


@hookspec
def stockkit_register_low_stock_actions(register: RegisterLowStockAction) -> None:
    """Register low-stock actions by key.

    Called whenever the inventory needs the actions: to check a product configuration
    that names one (:meth:`stockkit.Inventory.create_product`,
    :meth:`~stockkit.Inventory.update_product`), to list them
    (:meth:`~stockkit.Inventory.low_stock_actions`) and to run one. Call
    ``register(key, action, label=..., priority=...)`` for each action; ``action`` is a
    :data:`LowStockActionFunction`. Registering a key that is registered already replaces
    that action (plugins passed to :func:`stockkit.open` over installed ones, installed
    ones over built-ins such as ``"unpublish"``). Return nothing.

    An action runs once per downward crossing of the product's low stock threshold by the
    SKU's company-wide available quantity, after the change is committed; if it raises,
    the change stands and the failure is reported (:func:`stockkit_plugin_failed` and a
    :class:`~stockkit.errors.PluginFailureWarning`).
    """


@hookspec
def stockkit_stock_event(inventory: Inventory, event: StockEvent) -> None:
    """Listen to stock events: a SKU of a product became low, out of stock, or back in
    stock.

    Called once per event, after the change that caused it has been committed (and after
    the product's low-stock action, for a low-stock event), outside any transaction.
    ``event`` is a :class:`~stockkit.model.StockEvent` whose ``kind`` says which crossing
    happened; ``inventory`` is the inventory that made the change. A hold expiring is
    a change no transaction sees: its ``back_in_stock`` comes with the next write of the
    SKU (the hold sweep, or any change of it), once (see :mod:`stockkit.events`). Every listener is
    called even when one raises; a listener's exception is reported
    (:func:`stockkit_plugin_failed`), never raised to the caller of the change. Return
    nothing.
    """


@hookspec
def stockkit_plugin_failed(inventory: Inventory, failure: PluginFailure) -> None:
    """Hear about a plugin that raised outside any transaction: a low-stock action, a
    stock event listener or an availability estimator.

    Called right after the failure, with a :class:`stockkit.events.PluginFailure` that
    names the plugin, what it was doing and the exception. The inventory is unchanged by
    the failure (actions and listeners run after their change committed; estimators only
    read). A :class:`~stockkit.errors.PluginFailureWarning` is issued too. An exception
    raised here is ignored. Return nothing.
    """


@hookspec(firstresult=True)
def stockkit_estimate_availability(
    inventory: Inventory, product: Product | None, sku: str, channel: str | None, quantity: int
) -> Estimate | None:
    """Estimate when ``quantity`` units of ``sku`` can be had in ``channel`` (company-wide
    when ``None``).

    Called by :meth:`stockkit.Inventory.estimate` (and by
    :meth:`~stockkit.Inventory.availability` while the SKU is out of stock), outside any
    transaction, so an estimator may read the inventory. ``product`` is the product whose
    rules govern the SKU (``None`` for a SKU no product lists). Return an
    :class:`~stockkit.model.Estimate`, or ``None`` to let the next estimator answer: the
    first answer wins. Estimators registered later are asked first; the built-in one
    (earliest covering replenishment, then the product's assigned estimate) is marked
    ``trylast``. An estimator that raises is reported (:func:`stockkit_plugin_failed`)
    and skipped.
    """


@hookspec
def stockkit_register_inventory_engines(register: Callable[[str, InventoryEngine], None]) -> None:
    """Register inventory engines by key: the per-product source of the inventory rules.

    Called whenever the inventory needs a product's rules (ordering, availability,
    stock events) or checks a configuration that names an engine. Call
    ``register(key, engine)`` for each engine; ``engine(product, sku)`` must return the
    :class:`~stockkit.model.InventoryConfig` that applies to SKU code ``sku`` of
    ``product``, quickly and without side effects (it may run inside a transaction).
    Products name their engine in ``config.engine``; the built-in ``"default"`` engine
    returns ``product.config``. A key registered again is replaced (later plugins win).
    Return nothing.
    """
