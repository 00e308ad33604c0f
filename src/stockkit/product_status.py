"""A product's status at a moment, and whether one of its SKUs can be bought then.

A product is ``draft``, ``approved`` (published), ``scheduled`` (approved, shown from its
display date) or ``expired`` (its expiration date has passed). Dates move a product on by
themselves: a scheduled product is approved from the very moment of its display date, an
approved or scheduled one is expired from the moment of its expiration date. The
functions here say what the status *is* at a time, whatever is stored; the inventory's
:meth:`~stockkit.Inventory.sweep_product_statuses` writes the moves down.

>>> import datetime as dt
>>> from stockkit.model import Product
>>> noon = dt.datetime(2025, 1, 1, 12, tzinfo=dt.timezone.utc)
>>> product = Product("mug", "Mug", status="scheduled", display_date=noon)
>>> status_at(product, noon - dt.timedelta(microseconds=1)).value, status_at(product, noon).value
('scheduled', 'approved')
"""

from __future__ import annotations

import datetime as dt

from stockkit.model import Product, ProductStatus, Sku

__all__ = ["EXPIRING", "is_purchasable", "published_status", "status_at", "why_not_purchasable"]

#: Statuses a product leaves for ``expired`` once its expiration date has passed.
EXPIRING = (ProductStatus.APPROVED, ProductStatus.SCHEDULED)


def status_at(product: Product, now: dt.datetime) -> ProductStatus:
    """The product's status at ``now``: its stored status moved on by its dates."""
    status = ProductStatus(product.status)
    if status in EXPIRING and product.expiration_date is not None and product.expiration_date <= now:
        return ProductStatus.EXPIRED
    if status is ProductStatus.SCHEDULED and product.display_date is not None and product.display_date <= now:
        return ProductStatus.APPROVED
    return status


def published_status(product: Product, now: dt.datetime) -> ProductStatus:
    """The status publishing the product gives it at ``now``: ``scheduled`` while its
    display date is in the future, else ``approved``."""
    if product.display_date is not None and product.display_date > now:
        return ProductStatus.SCHEDULED
    return ProductStatus.APPROVED


def why_not_purchasable(product: Product, sku: Sku, now: dt.datetime) -> str | None:
    """Why the SKU cannot be bought at ``now``, in words a shopper can read, or ``None``
    when it can (its product approved, the SKU published and purchasable)."""
    status = status_at(product, now)
    if status is not ProductStatus.APPROVED:
        reason = {
            ProductStatus.DRAFT: "is not published",
            ProductStatus.SCHEDULED: "is not on sale yet",
            ProductStatus.EXPIRED: "is no longer sold",
        }[status]
        return f"{product.name} {reason}"
    if not sku.published:
        return f"{product.name} ({sku.code}) is not published"
    if not sku.purchasable:
        return f"{product.name} ({sku.code}) cannot be bought"
    return None


def is_purchasable(product: Product, sku: Sku, now: dt.datetime) -> bool:
    """Whether the SKU can be bought at ``now``."""
    return why_not_purchasable(product, sku, now) is None
