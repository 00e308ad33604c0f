"""stockkit: embeddable multi-warehouse inventory.

Open an inventory with :func:`open` and do everything through the returned
:class:`Inventory`::

    import stockkit

    inv = stockkit.open()                      # in memory; "sqlite:///shop.db" later
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.9, active=True)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from stockkit.errors import StockkitError
from stockkit.hookspecs import hookimpl
from stockkit.inventory import Inventory
from stockkit.model import (
    Availability,
    AvailabilityEstimate,
    Booking,
    Channel,
    ChannelLink,
    Discrepancy,
    Estimate,
    Incoming,
    InventoryConfig,
    LedgerEntry,
    LedgerKind,
    Level,
    Order,
    OrderLine,
    Placement,
    Product,
    ProductStatus,
    Replenishment,
    ReplenishmentStatus,
    Shipment,
    ShipmentStatus,
    Sku,
    StockEvent,
    StockEventKind,
    StockSummary,
    Transfer,
    TransferStatus,
    VerifyReport,
    Warehouse,
)
from stockkit.plugins import make_plugin_manager, open_store

__all__ = [
    "open",
    "Inventory",
    "hookimpl",
    "StockkitError",
    "Availability",
    "AvailabilityEstimate",
    "Booking",
    "Channel",
    "ChannelLink",
    "Discrepancy",
    "Estimate",
    "Incoming",
    "InventoryConfig",
    "LedgerEntry",
    "LedgerKind",
    "Level",
    "Order",
    "OrderLine",
    "Placement",
    "Product",
    "ProductStatus",
    "Replenishment",
    "ReplenishmentStatus",
    "Shipment",
    "ShipmentStatus",
    "Sku",
    "StockEvent",
    "StockEventKind",
    "StockSummary",
    "Transfer",
    "TransferStatus",
    "VerifyReport",
    "Warehouse",
]

__version__ = "0.1.0"


def open(  # noqa: A001 - the entry point is deliberately named like the builtin
    url: str = "memory://",
    *,
    clock: Callable[[], dt.datetime] | None = None,
    actor: str | None = None,
    plugins: Iterable[object] = (),
    autoload_plugins: bool | None = None,
    blocked_plugins: Iterable[str] = (),
) -> Inventory:
    """Open an inventory on the store that ``url`` names.

    Args:
        url: ``"memory://"`` (the default) keeps everything in this process; other
            schemes come from storage-backend plugins.
        clock: returns the current time as an aware datetime; tests pass a fake one.
        actor: who the ledger records for calls that name no actor.
        plugins: plugin objects (modules or instances with ``@stockkit.hookimpl``
            functions) to register on this inventory only; one registered already
            (a built-in, an installed one) is skipped, another object under a
            registered name is a :class:`~stockkit.errors.PluginError`.
        autoload_plugins: load plugins from the ``stockkit`` entry-point group;
            ``None`` follows ``STOCKKIT_DISABLE_PLUGIN_AUTOLOAD``.
        blocked_plugins: names of plugins never to register.

    >>> inv = open()
    >>> inv.warehouses()
    []
    """
    manager = make_plugin_manager(plugins, autoload=autoload_plugins, blocked=blocked_plugins)
    return Inventory(open_store(manager, url), manager, clock=clock, actor=actor)
