"""The ``"default"`` inventory engine: a product's rules are its stored configuration."""

from __future__ import annotations

from collections.abc import Callable

from stockkit.hookspecs import InventoryEngine, hookimpl
from stockkit.model import InventoryConfig, Product

__all__ = ["configured_rules", "stockkit_register_inventory_engines"]


def configured_rules(product: Product, sku: str) -> InventoryConfig:
    """The product's own configuration, for every SKU of it."""
    return product.config


@hookimpl
def stockkit_register_inventory_engines(register: Callable[[str, InventoryEngine], None]) -> None:
    """Register the ``"default"`` engine."""
    register("default", configured_rules)
