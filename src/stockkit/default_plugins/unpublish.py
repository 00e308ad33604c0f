"""The built-in ``"unpublish"`` low-stock action: the SKU that became low is unpublished.

Nothing republishes it automatically (Liferay behaves so): call
``inventory.update_sku(product, sku, published=True)`` once it is restocked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockkit.hookspecs import RegisterLowStockAction, hookimpl
from stockkit.model import StockEvent

if TYPE_CHECKING:
    from stockkit.inventory import Inventory

__all__ = ["stockkit_register_low_stock_actions", "unpublish"]


def unpublish(inventory: Inventory, event: StockEvent) -> None:
    """Set the product's SKU unpublished."""
    inventory.update_sku(event.product, event.sku, published=False)


@hookimpl
def stockkit_register_low_stock_actions(register: RegisterLowStockAction) -> None:
    """Register ``"unpublish"``."""
    register("unpublish", unpublish, label="Set as unpublished", priority=10)
