"""Turning rows of the SQL backends' tables into stockkit's value objects.

Both SQL backends share the table layout; they differ in how a time or a date comes back
from the driver (SQLite: integer microseconds and ISO text; PostgreSQL: ``datetime`` and
``date`` objects), which each passes in as two small functions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import attrs

from stockkit.model import (
    Booking,
    InventoryConfig,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderLine,
    Product,
    ProductStatus,
    Replenishment,
    ReplenishmentStatus,
    Shipment,
    ShipmentStatus,
    Transfer,
    TransferStatus,
    Warehouse,
)

__all__ = [
    "RowReader",
    "WAREHOUSE_COLUMNS",
    "PRODUCT_COLUMNS",
    "LEDGER_COLUMNS",
    "BOOKING_COLUMNS",
    "SHIPMENT_COLUMNS",
    "TRANSFER_COLUMNS",
    "REPLENISHMENT_COLUMNS",
    "ORDER_COLUMNS",
    "LEVEL_COLUMNS",
    "config_json",
    "lines_json",
]

WAREHOUSE_COLUMNS = ("code, name, description, active, street1, street2, street3, city, postal_code, "
                     "region_code, country_code, latitude, longitude")
PRODUCT_COLUMNS = "code, name, status, display_date, expiration_date, config"
LEDGER_COLUMNS = ("seq, kind, sku, warehouse, at, on_hand, safety, booked, incoming, reason, order_id, line_id, "
                  "reference, actor")
BOOKING_COLUMNS = "order_id, line_id, warehouse, sku, channel, quantity, expires_at"
SHIPMENT_COLUMNS = "shipment_id, order_id, line_id, sku, warehouse, quantity, shipped_at, status"
TRANSFER_COLUMNS = "transfer_id, sku, source, destination, quantity, created_at, status, closed_at"
REPLENISHMENT_COLUMNS = "replenishment_id, sku, warehouse, quantity, expected_on, received, status"
ORDER_COLUMNS = "order_id, channel, lines, placed_at, expires_at"
LEVEL_COLUMNS = "sku, warehouse, on_hand, safety, booked, incoming, version"


def config_json(config: InventoryConfig) -> str:
    """An inventory configuration as the JSON text stored with its product."""
    return json.dumps(attrs.asdict(config), sort_keys=True)


def lines_json(order: Order) -> str:
    """An order's lines as the JSON text stored with it."""
    return json.dumps([[line.line_id, line.sku, line.quantity, line.cancelled] for line in order.lines])


@attrs.frozen
class RowReader:
    """Builds value objects from rows selected with the ``*_COLUMNS`` lists above."""

    time: Callable[[Any], dt.datetime | None]
    date: Callable[[Any], dt.date]

    def warehouse(self, row: tuple[Any, ...]) -> Warehouse:
        """A ``warehouses`` row."""
        (code, name, description, active, s1, s2, s3, city, postal, region, country, lat, lon) = row
        return Warehouse(code, name, description, bool(active), s1, s2, s3, city, postal, region, country, lat, lon)

    def product(self, row: tuple[Any, ...]) -> Product:
        """A ``products`` row."""
        code, name, status, display, expiration, config = row
        settings = json.loads(config) if isinstance(config, str) else dict(config)
        settings["allowed_order_quantities"] = tuple(settings["allowed_order_quantities"])
        return Product(code, name, ProductStatus(status), self.time(display), self.time(expiration),
                       InventoryConfig(**settings))

    def order(self, row: tuple[Any, ...]) -> Order:
        """An ``orders`` row."""
        order_id, channel, lines, placed_at, expires_at = row
        parsed = json.loads(lines) if isinstance(lines, str) else lines
        return Order(order_id, channel, tuple(OrderLine(*line) for line in parsed), self.time(placed_at),  # type: ignore[arg-type]
                     self.time(expires_at))

    def booking(self, row: tuple[Any, ...]) -> Booking:
        """A ``bookings`` row."""
        order_id, line_id, warehouse, sku, channel, quantity, expires_at = row
        return Booking(order_id, line_id, sku, warehouse, channel, quantity, self.time(expires_at))

    def entry(self, row: tuple[Any, ...]) -> LedgerEntry:
        """A ``ledger`` row."""
        seq, kind, sku, warehouse, at, on_hand, safety, booked, incoming, reason, order_id, line_id, ref, actor = row
        return LedgerEntry(seq, LedgerKind(kind), sku, warehouse, self.time(at), on_hand, safety, booked,  # type: ignore[arg-type]
                           incoming, reason, order_id, line_id, ref, actor)

    def transfer(self, row: tuple[Any, ...]) -> Transfer:
        """A ``transfers`` row."""
        tid, sku, source, destination, quantity, created, status, closed = row
        return Transfer(tid, sku, source, destination, quantity, self.time(created), TransferStatus(status),  # type: ignore[arg-type]
                        self.time(closed))

    def replenishment(self, row: tuple[Any, ...]) -> Replenishment:
        """A ``replenishments`` row."""
        rid, sku, warehouse, quantity, expected_on, received, status = row
        return Replenishment(rid, sku, warehouse, quantity, self.date(expected_on), received,
                             ReplenishmentStatus(status))

    def shipment(self, row: tuple[Any, ...]) -> Shipment:
        """A ``shipments`` row."""
        sid, order_id, line_id, sku, warehouse, quantity, shipped_at, status = row
        return Shipment(sid, order_id, line_id, sku, warehouse, quantity, self.time(shipped_at),  # type: ignore[arg-type]
                        ShipmentStatus(status))
