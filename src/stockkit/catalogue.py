"""Which product governs a SKU code, and the rules its inventory engine gives.

Stock is kept per SKU code, and several products may list the same code. An order line,
an availability page or a stock event names only the code, so the rules come from a
:class:`CatalogueEntry` (a product, its SKU row and the rules the product's engine gives
for it). For an order line the governing entry is the first, by product code, through
which the SKU can be bought at that moment, else the first one
(:func:`governing_entry`). A SKU code that no product lists is stock only: no catalogue
rule applies to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from stockkit.hookspecs import InventoryEngine
from stockkit.model import InventoryConfig, Product, Sku
from stockkit.plugins import require_key
from stockkit.product_status import why_not_purchasable
from stockkit.store import Transaction

__all__ = ["CatalogueEntry", "catalogue_entries", "governing_entry", "rules_of"]


@attrs.frozen
class CatalogueEntry:
    """A SKU of a product and the inventory rules that apply to it."""

    product: Product
    sku: Sku
    rules: InventoryConfig

    def why_not_purchasable(self, now: dt.datetime) -> str | None:
        """Why the SKU cannot be bought at ``now`` through this product, or ``None``."""
        return why_not_purchasable(self.product, self.sku, now)


def rules_of(product: Product, sku: str, engines: Mapping[str, InventoryEngine]) -> InventoryConfig:
    """The rules the product's inventory engine gives for SKU code ``sku``;
    :class:`~stockkit.errors.UnknownPluginKey` when no plugin provides the engine."""
    engine: InventoryEngine = require_key(engines, "inventory engine", product.config.engine)
    return engine(product, sku)


def catalogue_entries(
    tx: Transaction, codes: Iterable[str], engines: Callable[[], Mapping[str, InventoryEngine]]
) -> dict[str, list[CatalogueEntry]]:
    """The catalogue entries of each SKU code that some product lists, by product code
    (codes no product lists are absent). ``engines()`` gives the registered engines; it
    is called only if some code is listed."""
    found: dict[str, list[CatalogueEntry]] = {}
    registered: Mapping[str, InventoryEngine] | None = None
    for sku, product in tx.catalogue(codes):
        if registered is None:
            registered = engines()
        found.setdefault(sku.code, []).append(CatalogueEntry(product, sku, rules_of(product, sku.code, registered)))
    return found


def governing_entry(entries: Sequence[CatalogueEntry], now: dt.datetime) -> CatalogueEntry | None:
    """The entry whose rules an order line of the SKU follows: the first through which it
    can be bought at ``now``, else the first (whose refusal is then reported); ``None``
    for a stock-only code."""
    for entry in entries:
        if entry.why_not_purchasable(now) is None:
            return entry
    return entries[0] if entries else None
