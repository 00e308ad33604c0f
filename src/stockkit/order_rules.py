"""The rules an order line must keep, from its product's inventory configuration.

:func:`check_line` applies them in the order DOMAIN.md fixes and raises the first
failure, each with its own error type and a message written for the shopper:

1. not purchasable (:class:`~stockkit.errors.NotPurchasable`);
2. below the minimum order quantity (:class:`~stockkit.errors.BelowMinimumQuantity`);
3. above the maximum, where 0 means no limit (:class:`~stockkit.errors.AboveMaximumQuantity`);
4. not one of the allowed quantities, when the product lists some
   (:class:`~stockkit.errors.QuantityNotAllowed`);
5. not a multiple of the multiple order quantity (:class:`~stockkit.errors.NotAMultiple`).

The sixth rule, availability (unless back orders are allowed), needs the stock and is
the allocation's job; :func:`shortfall_message` words its failure the same way.

>>> from stockkit.model import InventoryConfig, OrderLine
>>> check_line(OrderLine("1", "MUG", 4), InventoryConfig(multiple_order_quantity=2))
>>> check_line(OrderLine("1", "MUG", 3), InventoryConfig(multiple_order_quantity=2))
Traceback (most recent call last):
  ...
stockkit.errors.NotAMultiple: MUG is sold in multiples of 2: 3 is not a multiple of 2
"""

from __future__ import annotations

from stockkit.errors import (
    AboveMaximumQuantity,
    BelowMinimumQuantity,
    NotAMultiple,
    NotPurchasable,
    QuantityNotAllowed,
)
from stockkit.model import InventoryConfig, OrderLine

__all__ = ["check_line", "shortfall_message"]


def check_line(line: OrderLine, rules: InventoryConfig, *, not_purchasable: str | None = None) -> None:
    """Raise the first rule the line breaks, or return ``None``.

    ``not_purchasable`` is why the SKU cannot be bought (see
    :func:`stockkit.product_status.why_not_purchasable`), ``None`` when it can.
    """
    sku, quantity, line_id = line.sku, line.quantity, line.line_id
    if not_purchasable is not None:
        raise NotPurchasable(f"{not_purchasable}; it cannot be ordered", sku=sku, quantity=quantity, line_id=line_id)
    if quantity < rules.min_order_quantity:
        raise BelowMinimumQuantity(
            f"the minimum order quantity of {sku} is {rules.min_order_quantity}: order at least "
            f"{rules.min_order_quantity}, not {quantity}",
            sku=sku, quantity=quantity, minimum=rules.min_order_quantity, line_id=line_id,
        )
    if rules.max_order_quantity and quantity > rules.max_order_quantity:
        raise AboveMaximumQuantity(
            f"the maximum order quantity of {sku} is {rules.max_order_quantity}: order at most "
            f"{rules.max_order_quantity}, not {quantity}",
            sku=sku, quantity=quantity, maximum=rules.max_order_quantity, line_id=line_id,
        )
    allowed = tuple(sorted(set(rules.allowed_order_quantities)))
    if allowed and quantity not in allowed:
        raise QuantityNotAllowed(
            f"{sku} can be ordered only in these quantities: {', '.join(map(str, allowed))} (not {quantity})",
            sku=sku, quantity=quantity, allowed=allowed, line_id=line_id,
        )
    if quantity % rules.multiple_order_quantity:
        raise NotAMultiple(
            f"{sku} is sold in multiples of {rules.multiple_order_quantity}: {quantity} is not a multiple of "
            f"{rules.multiple_order_quantity}",
            sku=sku, quantity=quantity, multiple=rules.multiple_order_quantity, line_id=line_id,
        )


def shortfall_message(sku: str, requested: int, available: int) -> str:
    """The shopper's message when a line asks for more than can be supplied."""
    if available <= 0:
        return f"{sku} is out of stock: {requested} cannot be ordered"
    return f"only {available} of {sku} can be ordered now, not {requested}"
