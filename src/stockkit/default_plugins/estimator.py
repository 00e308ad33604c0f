"""The built-in availability estimator: the earliest open replenishment that covers the
quantity in the channel's warehouses, then the product's assigned estimate.

It is registered ``trylast``, so every other estimator is asked first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockkit.estimates import covering_date
from stockkit.hookspecs import hookimpl
from stockkit.model import Estimate, Product

if TYPE_CHECKING:
    from stockkit.inventory import Inventory

__all__ = ["stockkit_estimate_availability"]

SOURCE = "stockkit.default_plugins.estimator"


@hookimpl(trylast=True)
def stockkit_estimate_availability(
    inventory: Inventory, product: Product | None, sku: str, channel: str | None, quantity: int
) -> Estimate | None:
    """A date from the replenishments expected at the channel's active warehouses (every
    active warehouse when ``channel`` is ``None``), else the product's estimate label."""
    stock = inventory.stock(sku, channel=channel)
    serving = {level.warehouse for level in stock.levels}
    incoming = [(r.expected_on, r.open_quantity) for r in inventory.replenishments(sku) if r.warehouse in serving]
    date = covering_date(stock.available, incoming, quantity, today=inventory.today())
    if date is not None:
        return Estimate(sku, quantity, channel, expected_on=date, source=SOURCE)
    key = None if product is None else inventory.rules(product.code, sku).availability_estimate
    if key is not None:
        return Estimate(sku, quantity, channel, label=inventory.get_availability_estimate(key).label, source=SOURCE)
    return None
