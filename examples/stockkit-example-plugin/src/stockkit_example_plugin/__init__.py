"""An example stockkit plugin: a re-ordering low-stock action, a stock event log and a
supplier lead-time estimator.

stockkit registers this module (the entry point ``example`` of the ``stockkit`` group
names it), so each module-level function marked ``@stockkit.hookimpl`` below implements
the hook of the same name.
"""

from __future__ import annotations

import datetime as dt

import stockkit
from stockkit import Estimate, StockEvent

__all__ = [
    "EVENTS",
    "LEAD_TIME",
    "REORDER_QUANTITY",
    "SUPPLIER_LEAD_TIMES",
    "reorder",
    "stockkit_estimate_availability",
    "stockkit_register_low_stock_actions",
    "stockkit_stock_event",
]

#: Units a re-order asks for.
REORDER_QUANTITY = 50
#: How long a re-order takes to arrive.
LEAD_TIME = dt.timedelta(days=7)
#: Every stock event heard, oldest first, as ``(kind, product, sku)``.
EVENTS: list[tuple[str, str, str]] = []
#: Days a supplier needs to deliver, by SKU code.
SUPPLIER_LEAD_TIMES: dict[str, int] = {"TEE-M": 10}


def reorder(inventory: stockkit.Inventory, event: StockEvent) -> None:
    """Expect ``REORDER_QUANTITY`` units at the first active warehouse, ``LEAD_TIME`` from
    today, unless a replenishment of the SKU is open already."""
    if inventory.replenishments(event.sku):
        return
    warehouse = inventory.warehouses(active=True)[0].code
    inventory.add_replenishment(event.sku, warehouse, REORDER_QUANTITY, inventory.today() + LEAD_TIME,
                                idempotency_key=f"reorder-{event.product}-{event.sku}-{event.at.isoformat()}")


@stockkit.hookimpl
def stockkit_register_low_stock_actions(register):  # type: ignore[no-untyped-def]
    """Offer ``"reorder"``."""
    register("reorder", reorder, label="Re-order from the supplier", priority=20)


@stockkit.hookimpl
def stockkit_stock_event(event: StockEvent) -> None:
    """Log every stock event."""
    EVENTS.append((event.kind.value, event.product, event.sku))


@stockkit.hookimpl
def stockkit_estimate_availability(
    inventory: stockkit.Inventory, sku: str, channel: str | None, quantity: int
) -> Estimate | None:
    """The supplier's lead time, for the SKUs it delivers."""
    days = SUPPLIER_LEAD_TIMES.get(sku)
    if days is None:
        return None
    return Estimate(sku, quantity, channel, expected_on=inventory.today() + dt.timedelta(days=days),
                    source="stockkit-example-plugin")
