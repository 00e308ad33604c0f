"""The inventory service: the one object through which shop code does everything.

:class:`Inventory` validates every argument first, then runs the operation in one store
transaction: either all of it happens, ledger entries included, or none of it does.
Every mutating method takes ``idempotency_key`` (a repeat returns the first result and
changes nothing; the same key with other arguments raises
:class:`~stockkit.errors.IdempotencyConflict`) and ``actor`` (who is recorded in the
ledger).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any, Self, TypeVar

import attrs
import pluggy

from stockkit import codec
from stockkit.catalogue import (
    CatalogueEntry,
    catalogue_entries,
    governing_entry,
    rules_of,
)
from stockkit.csv_levels import check_rows_against, read_levels, write_levels
from stockkit.dispatch import dispatch, report
from stockkit.engine import Fill, Policy, Reason
from stockkit.errors import (
    ChannelWithoutWarehouses,
    DuplicateCode,
    HoldExpired,
    IdempotencyConflict,
    InsufficientStock,
    InvalidQuantity,
    InvalidStateTransition,
    TransactionConflict,
    UnknownChannel,
    UnknownEstimate,
    UnknownOrder,
    UnknownOrderLine,
    UnknownProduct,
    UnknownReplenishment,
    UnknownShipment,
    UnknownSku,
    UnknownTransfer,
    UnknownWarehouse,
    ValidationError,
    WarehouseNotEmpty,
    WarehouseWithoutLocation,
)
from stockkit.estimates import earliest_incoming
from stockkit.events import PluginFailure, StockWatch, WatchedTransaction
from stockkit.model import (
    Availability,
    AvailabilityEstimate,
    Booking,
    Channel,
    ChannelLink,
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
    StockSummary,
    Transfer,
    TransferStatus,
    VerifyReport,
    Warehouse,
)
from stockkit.order_rules import check_line
from stockkit.planning import (
    Forecast,
    OrderPlan,
    OrderRequest,
    Planner,
    Topology,
    WavePlan,
    check_requests,
)
from stockkit.plugins import (
    LowStockAction,
    implementations,
    inventory_engines,
    low_stock_actions,
    require_key,
)
from stockkit.product_status import published_status, status_at
from stockkit.store import Change, LedgerQuery, LevelKey, Store, Transaction
from stockkit.validation import (
    LineInput,
    check_changes,
    check_code,
    check_config,
    check_date,
    check_datetime,
    check_delta,
    check_flag,
    check_lines,
    check_optional_code,
    check_optional_datetime,
    check_optional_version,
    check_priority,
    check_quantity,
    check_status,
    check_text,
    check_warehouse_fields,
)
from stockkit.verification import find_discrepancies

__all__ = ["Inventory"]

T = TypeVar("T")

# A transaction that meets a transient conflict runs again from the start, after a random
# pause of up to min(_BACKOFF * 2**attempt, _LONGEST_PAUSE) seconds, until _RETRY_FOR
# seconds have passed. The pause stays short so that a writer that lost a few times is
# not starved by fresh ones (a hot row under SERIALIZABLE isolation needs many rounds).
_RETRY_FOR = 10.0
_BACKOFF = 0.002
_LONGEST_PAUSE = 0.05

# A hold reserves stock for a cart or a checkout; a year is already far beyond that.
_LONGEST_HOLD = dt.timedelta(days=366)
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)



def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@attrs.frozen
class _Context:
    now: dt.datetime
    actor: str | None
    watch: StockWatch


class Inventory:
    """A multi-warehouse inventory on one store. Get one with :func:`stockkit.open`.

    >>> import stockkit
    >>> inv = stockkit.open("memory://")
    >>> inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.90, active=True).active
    True
    """

    def __init__(
        self,
        store: Store,
        plugins: pluggy.PluginManager,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        actor: str | None = None,
    ) -> None:
        self._store = store
        self.plugins = plugins
        """The inventory's own plugin manager."""
        self._clock = clock or _utc_now
        self._random = random.Random()
        self._actor = check_optional_code(actor, "actor")
        self._planner = Planner()

    # -- plumbing ----------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The storage backend this inventory runs on (see :mod:`stockkit.store`)."""
        return self._store

    def close(self) -> None:
        """Release the store's connections and files."""
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _now(self) -> dt.datetime:
        return check_datetime(self._clock(), "the clock's time")

    def _mutate(
        self,
        operation: str,
        arguments: dict[str, Any],
        work: Callable[[Transaction, _Context], T],
        idempotency_key: str | None,
        actor: str | None,
    ) -> T:
        """Run ``work`` in one transaction, honouring the idempotency key, and run it again
        from the start when the store reports a transient conflict."""
        key = check_optional_code(idempotency_key, "idempotency key")
        who = check_optional_code(actor, "actor") or self._actor
        digest = codec.fingerprint(operation, arguments) if key is not None else ""
        result, events = self._retrying(lambda: self._attempt(operation, work, key, digest, who))
        # Committed: now, outside the transaction, the low-stock actions and listeners.
        dispatch(self, events)
        return result

    def _attempt(
        self, operation: str, work: Callable[[Transaction, _Context], T], key: str | None, digest: str,
        who: str | None,
    ) -> tuple[T, list[StockEvent]]:
        with self._store.transaction() as tx:
            if key is not None:
                recorded = tx.get_idempotency(key)
                if recorded is not None:
                    if recorded[0] != digest:
                        raise IdempotencyConflict(
                            f"idempotency key {key!r} was used before with other arguments "
                            f"(or another operation than {operation}); use a new key"
                        )
                    return codec.decode(recorded[1]), []
            now = self._now()
            watch = StockWatch(tx, now, self._catalogue)
            result = work(WatchedTransaction(tx, watch), _Context(now, who, watch))  # type: ignore[arg-type]
            events = watch.events()
            if key is not None:
                tx.put_idempotency(key, digest, codec.encode(result))
        return result, events

    def _catalogue(self, tx: Transaction, codes: Iterable[str]) -> dict[str, list[CatalogueEntry]]:
        """The catalogue entries of SKU codes, with the rules of their products' engines."""
        return catalogue_entries(tx, codes, lambda: inventory_engines(self.plugins))

    def _read(self, work: Callable[[Transaction], T]) -> T:
        def attempt() -> T:
            with self._store.transaction(write=False) as tx:
                return work(tx)

        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Call ``attempt`` (one whole transaction) again while it meets a transient
        conflict, for at most ``_RETRY_FOR`` seconds."""
        deadline = time.monotonic() + _RETRY_FOR
        number = 0
        while True:
            number += 1
            try:
                return attempt()
            except TransactionConflict:
                pause = self._random.uniform(0, min(_BACKOFF * 2**number, _LONGEST_PAUSE))
                if time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)

    # -- warehouses --------------------------------------------------------------------
    def create_warehouse(
        self,
        code: str,
        name: str,
        *,
        active: bool = False,
        idempotency_key: str | None = None,
        actor: str | None = None,
        **fields: Any,
    ) -> Warehouse:
        """Create a warehouse, inactive unless ``active=True``.

        ``fields`` may set ``description``, ``street1``, ``street2``, ``street3``,
        ``city``, ``postal_code``, ``region_code``, ``country_code`` (ISO 3166 two
        letters), ``latitude`` and ``longitude``. An active warehouse needs both
        coordinates. Raises :class:`~stockkit.errors.DuplicateCode` if the code is taken.
        """
        values = check_warehouse_fields({"name": name, **fields}, required_name=True)
        warehouse = Warehouse(code=check_code(code, "warehouse code"), active=check_flag(active, "active"), **values)
        if warehouse.active and not warehouse.has_location:
            raise WarehouseWithoutLocation(
                f"warehouse {warehouse.code!r} cannot be created active without a location: "
                "give latitude and longitude"
            )

        def work(tx: Transaction, ctx: _Context) -> Warehouse:
            tx.insert_warehouse(warehouse)
            return warehouse

        return self._mutate("create_warehouse", {"w": warehouse}, work, idempotency_key, actor)

    def update_warehouse(
        self, code: str, *, idempotency_key: str | None = None, actor: str | None = None, **changes: Any
    ) -> Warehouse:
        """Change some of a warehouse's fields (any of those :meth:`create_warehouse`
        takes, and ``name``); use :meth:`activate_warehouse` and
        :meth:`deactivate_warehouse` for ``active``."""
        code = check_code(code, "warehouse code")
        values = check_warehouse_fields(changes, required_name=False)

        def work(tx: Transaction, ctx: _Context) -> Warehouse:
            updated = attrs.evolve(_warehouse(tx, code), **values)
            if updated.active and not updated.has_location:
                raise WarehouseWithoutLocation(
                    f"warehouse {code!r} is active and must keep its location; deactivate it first"
                )
            tx.update_warehouse(updated)
            return updated

        return self._mutate("update_warehouse", {"code": code, **values}, work, idempotency_key, actor)

    def activate_warehouse(
        self, code: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Warehouse:
        """Make a warehouse count for availability and allocation; it needs a location."""
        return self._set_active(code, True, idempotency_key, actor)

    def deactivate_warehouse(
        self, code: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Warehouse:
        """Retire a warehouse from availability and allocation, keeping its stock and
        bookings (the normal way to retire one)."""
        return self._set_active(code, False, idempotency_key, actor)

    def _set_active(self, code: str, active: bool, key: str | None, actor: str | None) -> Warehouse:
        code = check_code(code, "warehouse code")

        def work(tx: Transaction, ctx: _Context) -> Warehouse:
            warehouse = _warehouse(tx, code)
            if warehouse.active != active:  # every SKU there gains or loses this warehouse's stock
                ctx.watch.touch(lv.sku for lv in tx.levels(warehouses=[code]))
            if active and not warehouse.has_location:
                raise WarehouseWithoutLocation(
                    f"warehouse {code!r} has no location: set latitude and longitude with "
                    "update_warehouse before activating it"
                )
            updated = attrs.evolve(warehouse, active=active)
            tx.update_warehouse(updated)
            return updated

        return self._mutate("set_warehouse_active", {"code": code, "active": active}, work, key, actor)

    def delete_warehouse(
        self, code: str, *, force: bool = False, idempotency_key: str | None = None, actor: str | None = None
    ) -> None:
        """Delete a warehouse.

        Refused with :class:`~stockkit.errors.WarehouseNotEmpty` while it holds stock,
        bookings, incoming replenishments or transfers in transit, unless ``force``: a
        forced delete releases its bookings, cancels its replenishments and the transfers
        bound for it (back to their source), removes its levels and writes the ledger
        entries that say so.
        """
        code = check_code(code, "warehouse code")
        force = check_flag(force, "force")

        def work(tx: Transaction, ctx: _Context) -> None:
            _warehouse(tx, code)
            levels = tx.levels(warehouses=[code])
            # the stock watch reads its SKUs before any booking goes (expired holds included)
            ctx.watch.touch(lv.sku for lv in levels)
            bookings = [b for b in tx.bookings() if b.warehouse == code]
            open_repl = [r for r in tx.replenishments(warehouse=code) if r.open_quantity]
            moving = [t for t in tx.transfers(warehouse=code) if t.status is TransferStatus.IN_TRANSIT]
            held = [lv for lv in levels if lv.on_hand or lv.safety or lv.booked or lv.incoming]
            if not force and (held or bookings or open_repl or moving):
                raise WarehouseNotEmpty(
                    f"warehouse {code!r} still has {len(held)} stocked levels, {len(bookings)} bookings, "
                    f"{len(open_repl)} open replenishments and {len(moving)} transfers in transit; "
                    "deactivate it instead, or delete it with force=True"
                )
            reason = f"warehouse {code} deleted"
            changes = [
                Change(LedgerKind.RELEASED, b.sku, code, booked=-b.quantity, reason=reason,
                       order_id=b.order_id, line_id=b.line_id)
                for b in bookings
            ]
            for r in open_repl:
                changes.append(Change(LedgerKind.CANCELLED, r.sku, code, incoming=-r.open_quantity,
                                      reason=reason, reference=r.replenishment_id))
                tx.put_replenishment(attrs.evolve(r, status=ReplenishmentStatus.CANCELLED))
            for t in moving:
                if t.destination == code:
                    changes.append(Change(LedgerKind.MOVED, t.sku, t.source, on_hand=t.quantity,
                                          reason=f"transfer cancelled: {reason}", reference=t.transfer_id))
                    tx.put_transfer(attrs.evolve(t, status=TransferStatus.CANCELLED, closed_at=ctx.now))
            for lv in levels:
                if lv.on_hand or lv.safety:
                    changes.append(Change(LedgerKind.REMOVED, lv.sku, code, on_hand=-lv.on_hand,
                                          safety=-lv.safety, reason=reason, allow_negative_available=True))
            tx.delete_bookings([(b.order_id, b.line_id, code) for b in bookings])
            if changes:
                tx.apply(changes, at=ctx.now, actor=ctx.actor)
            tx.delete_warehouse(code)

        self._mutate("delete_warehouse", {"code": code, "force": force}, work, idempotency_key, actor)

    def get_warehouse(self, code: str) -> Warehouse:
        """The warehouse with this code; :class:`~stockkit.errors.UnknownWarehouse` if none."""
        code = check_code(code, "warehouse code")
        return self._read(lambda tx: _warehouse(tx, code))

    def warehouses(self, *, active: bool | None = None, search: str | None = None) -> list[Warehouse]:
        """Warehouses by code, optionally only active (or inactive) ones, or those whose
        name or city contains ``search`` or whose country code is ``search``."""
        if active is not None:
            active = check_flag(active, "active")
        text = check_text(search, "search") if search is not None else None
        return self._read(lambda tx: tx.list_warehouses(active=active, search=text or None))

    # -- channels ----------------------------------------------------------------------
    def create_channel(
        self, code: str, name: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Channel:
        """Create a sales channel; it takes orders once an active warehouse is linked."""
        channel = Channel(check_code(code, "channel code"), check_text(name, "channel name", required=True))

        def work(tx: Transaction, ctx: _Context) -> Channel:
            tx.insert_channel(channel)
            return channel

        return self._mutate("create_channel", {"c": channel}, work, idempotency_key, actor)

    def link_warehouse(
        self,
        channel: str,
        warehouse: str,
        *,
        priority: int = 0,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> ChannelLink:
        """Let a warehouse serve a channel; allocation draws on lower ``priority`` first
        (ties by warehouse code). Linking again changes the priority."""
        link = ChannelLink(
            check_code(channel, "channel code"), check_code(warehouse, "warehouse code"), check_priority(priority)
        )

        def work(tx: Transaction, ctx: _Context) -> ChannelLink:
            _channel(tx, link.channel)
            _warehouse(tx, link.warehouse)
            tx.put_link(link)
            return link

        return self._mutate("link_warehouse", {"l": link}, work, idempotency_key, actor)

    def unlink_warehouse(
        self, channel: str, warehouse: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> bool:
        """Stop a warehouse serving a channel; return whether it did. Existing bookings
        stay where they are."""
        channel = check_code(channel, "channel code")
        warehouse = check_code(warehouse, "warehouse code")

        def work(tx: Transaction, ctx: _Context) -> bool:
            _channel(tx, channel)
            _warehouse(tx, warehouse)
            return tx.delete_link(channel, warehouse)

        return self._mutate("unlink_warehouse", {"c": channel, "w": warehouse}, work, idempotency_key, actor)

    def channels(self) -> list[Channel]:
        """Channels by code."""
        return self._read(lambda tx: tx.list_channels())

    def get_channel(self, code: str) -> Channel:
        """The channel with this code; :class:`~stockkit.errors.UnknownChannel` if none."""
        code = check_code(code, "channel code")
        return self._read(lambda tx: _channel(tx, code))

    def channel_links(self, channel: str) -> list[ChannelLink]:
        """The channel's warehouse links in allocation order (priority, then code)."""
        channel = check_code(channel, "channel code")

        def read(tx: Transaction) -> list[ChannelLink]:
            _channel(tx, channel)
            return tx.links(channel=channel)

        return self._read(read)

    # -- products and SKUs -------------------------------------------------------------
    def create_product(
        self,
        code: str,
        name: str,
        *,
        status: ProductStatus | str = ProductStatus.DRAFT,
        config: InventoryConfig | None = None,
        display_date: dt.datetime | None = None,
        expiration_date: dt.datetime | None = None,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Product:
        """Create a product with its inventory configuration (Liferay's defaults unless
        given).

        The configuration's ``engine`` and ``low_stock_action`` must name registered
        plugins (:class:`~stockkit.errors.UnknownPluginKey` otherwise) and its
        ``availability_estimate`` a stored estimate
        (:class:`~stockkit.errors.UnknownEstimate`).
        """
        product = Product(
            code=check_code(code, "product code"),
            name=check_text(name, "product name", required=True),
            status=check_status(status),
            config=self._check_plugin_keys(check_config(config if config is not None else InventoryConfig())),
            display_date=check_optional_datetime(display_date, "display date"),
            expiration_date=check_optional_datetime(expiration_date, "expiration date"),
        )

        def work(tx: Transaction, ctx: _Context) -> Product:
            _check_estimate_key(tx, product.config)
            tx.insert_product(product)
            return product

        return self._mutate("create_product", {"p": product}, work, idempotency_key, actor)

    def update_product(
        self, code: str, *, idempotency_key: str | None = None, actor: str | None = None, **changes: Any
    ) -> Product:
        """Change some of ``name``, ``status``, ``config``, ``display_date`` and
        ``expiration_date``."""
        code = check_code(code, "product code")
        checks: dict[str, Callable[[Any], Any]] = {
            "name": lambda v: check_text(v, "product name", required=True),
            "status": check_status,
            "config": lambda v: self._check_plugin_keys(check_config(v)),
            "display_date": lambda v: check_optional_datetime(v, "display date"),
            "expiration_date": lambda v: check_optional_datetime(v, "expiration date"),
        }
        values = check_changes(changes, checks, "product")

        def work(tx: Transaction, ctx: _Context) -> Product:
            updated = attrs.evolve(_product(tx, code), **values)
            _check_estimate_key(tx, updated.config)
            tx.update_product(updated)
            return updated

        return self._mutate("update_product", {"code": code, **values}, work, idempotency_key, actor)

    def _check_plugin_keys(self, config: InventoryConfig) -> InventoryConfig:
        """Refuse a configuration whose engine or low-stock action no plugin provides."""
        require_key(inventory_engines(self.plugins), "inventory engine", config.engine)
        if config.low_stock_action is not None:
            require_key(low_stock_actions(self.plugins), "low-stock action", config.low_stock_action)
        return config

    def publish_product(
        self, code: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Product:
        """Publish a product: ``approved``, or ``scheduled`` while its display date is in
        the future. An expired product (expiration date passed) cannot be published:
        :class:`~stockkit.errors.InvalidStateTransition`; change the date first."""
        code = check_code(code, "product code")

        def work(tx: Transaction, ctx: _Context) -> Product:
            product = _product(tx, code)
            if product.expiration_date is not None and product.expiration_date <= ctx.now:
                raise InvalidStateTransition(
                    f"product {code!r} expired at {product.expiration_date}; give it a later expiration_date "
                    "with update_product before publishing it"
                )
            updated = attrs.evolve(product, status=published_status(product, ctx.now))
            tx.update_product(updated)
            return updated

        return self._mutate("publish_product", {"code": code}, work, idempotency_key, actor)

    def unpublish_product(
        self, code: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Product:
        """Take a product off sale: its status becomes ``draft``."""
        code = check_code(code, "product code")

        def work(tx: Transaction, ctx: _Context) -> Product:
            updated = attrs.evolve(_product(tx, code), status=ProductStatus.DRAFT)
            tx.update_product(updated)
            return updated

        return self._mutate("unpublish_product", {"code": code}, work, idempotency_key, actor)

    def sweep_product_statuses(self, *, actor: str | None = None) -> int:
        """Write down the status moves the dates have made: approved and scheduled products
        whose expiration date has come become ``expired``, scheduled ones whose display
        date has come become ``approved``. Return how many products moved.

        Call it periodically. It is one set-based statement per move in the SQL stores
        (cheap on 100,000 products) and idempotent. Purchasability never waits for it: a
        product is purchasable from the very moment of its display date.
        """
        return self._mutate("sweep_product_statuses", {}, lambda tx, ctx: tx.advance_product_statuses(ctx.now),
                            None, actor)

    def product_status(self, code: str) -> ProductStatus:
        """A product's status now: its stored status moved on by its dates (what
        :meth:`sweep_product_statuses` would write)."""
        return status_at(self.get_product(code), self._now())

    # -- inventory rules ---------------------------------------------------------------
    def rules(self, product: str, sku: str) -> InventoryConfig:
        """The inventory rules of a product's SKU, as its inventory engine gives them."""
        product = check_code(product, "product code")
        sku = check_code(sku, "SKU code")
        return rules_of(self.get_product(product), sku, inventory_engines(self.plugins))

    def low_stock_actions(self) -> list[LowStockAction]:
        """The registered low-stock actions, lower priority first."""
        return list(low_stock_actions(self.plugins).values())

    def inventory_engines(self) -> list[str]:
        """Keys of the registered inventory engines, sorted."""
        return sorted(inventory_engines(self.plugins))

    def availability(self, sku: str, *, channel: str | None = None, product: str | None = None) -> Availability:
        """What a shop page may show about a SKU: its available quantity (in ``channel``,
        or company-wide), the availability label, the displayable quantity, whether it can
        be bought now, the estimate while it is out of stock, and what is incoming.

        The rules come from ``product`` (default: the product that governs the SKU's
        order lines); a stock-only SKU code follows the default configuration.
        """
        sku = check_code(sku, "SKU code")
        product = check_optional_code(product, "product code")
        now = self._now()

        def read(tx: Transaction) -> tuple[CatalogueEntry | None, StockSummary]:
            entries = self._catalogue(tx, [sku]).get(sku, [])
            if product is not None:
                entries = [e for e in entries if e.product.code == product]
                if not entries:
                    _product(tx, product)
                    raise UnknownSku(f"product {product!r} has no SKU {sku!r}; add it with add_sku")
            return governing_entry(entries, now), self._stock(tx, sku, channel, now)

        entry, stock = self._read(read)
        rules = entry.rules if entry is not None else InventoryConfig()
        label = "available" if stock.available > rules.low_stock_threshold else "unavailable"
        estimate = None
        if stock.available <= 0:
            estimate = self._estimate(entry.product if entry else None, sku, channel, 1)
        return Availability(
            sku=sku,
            product=None if entry is None else entry.product.code,
            channel=channel,
            available=stock.available,
            threshold=rules.low_stock_threshold,
            label=label,
            display_label=label if rules.display_availability else None,
            display_quantity=max(stock.available, 0) if rules.display_stock_quantity else None,
            purchasable=entry is None or entry.why_not_purchasable(now) is None,
            back_orders=rules.allow_back_orders,
            estimate=estimate,
            incoming=self.incoming(sku),
        )

    def estimate(self, sku: str, quantity: int = 1, *, channel: str | None = None) -> Estimate | None:
        """When ``quantity`` units of a SKU can be had in ``channel`` (company-wide when
        ``None``): the first answer of the registered estimators, ``None`` when none
        knows. The built-in estimator answers with the date of the earliest open
        replenishment that covers the quantity, else with the product's assigned
        estimate."""
        sku = check_code(sku, "SKU code")
        quantity = check_quantity(quantity)
        channel = check_optional_code(channel, "channel code")
        now = self._now()
        if channel is not None:
            self.get_channel(channel)
        entry = self._read(lambda tx: governing_entry(self._catalogue(tx, [sku]).get(sku, []), now))
        return self._estimate(None if entry is None else entry.product, sku, channel, quantity)

    def _estimate(self, product: Product | None, sku: str, channel: str | None, quantity: int) -> Estimate | None:
        """Ask the estimators in turn; one that raises is reported and skipped."""
        arguments = {"inventory": self, "product": product, "sku": sku, "channel": channel, "quantity": quantity}
        for name, estimator in implementations(self.plugins.hook.stockkit_estimate_availability):
            try:
                answer = estimator(**arguments)
            except Exception as exc:  # noqa: BLE001 - a failing estimator is reported and skipped
                report(self, PluginFailure(name, "availability estimator", exc))
                continue
            if answer is not None:
                return answer  # type: ignore[no-any-return]
        return None

    def incoming(self, sku: str) -> Incoming | None:
        """The "incoming" display of a SKU: the earliest open replenishment's expected date
        and the units expected on it, or ``None`` when nothing is incoming."""
        sku = check_code(sku, "SKU code")
        return earliest_incoming(self._read(lambda tx: tx.replenishments(sku=sku)))

    def today(self) -> dt.date:
        """The inventory clock's current date (UTC)."""
        return self._now().date()

    # -- availability estimates --------------------------------------------------------
    def put_availability_estimate(
        self, key: str, label: str, *, priority: int = 0, idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> AvailabilityEstimate:
        """Create or change a named availability estimate ("3-5 days") that products can
        be assigned through ``config.availability_estimate``; lists show lower
        ``priority`` first."""
        estimate = AvailabilityEstimate(check_code(key, "estimate key"),
                                        check_text(label, "estimate label", required=True), check_priority(priority))

        def work(tx: Transaction, ctx: _Context) -> AvailabilityEstimate:
            tx.put_estimate(estimate)
            return estimate

        return self._mutate("put_availability_estimate", {"e": estimate}, work, idempotency_key, actor)

    def get_availability_estimate(self, key: str) -> AvailabilityEstimate:
        """The estimate with this key; :class:`~stockkit.errors.UnknownEstimate` if none."""
        key = check_code(key, "estimate key")
        return self._read(lambda tx: _estimate_named(tx, key))

    def availability_estimates(self) -> list[AvailabilityEstimate]:
        """Every availability estimate, lower priority first."""
        return self._read(lambda tx: tx.list_estimates())

    def get_product(self, code: str) -> Product:
        """The product with this code; :class:`~stockkit.errors.UnknownProduct` if none."""
        code = check_code(code, "product code")
        return self._read(lambda tx: _product(tx, code))

    def products(self) -> list[Product]:
        """Products by code."""
        return self._read(lambda tx: tx.list_products())

    def add_sku(
        self,
        product: str,
        code: str,
        *,
        published: bool = True,
        purchasable: bool = True,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Sku:
        """Give a product a SKU. Stock is kept per SKU code, so products sharing a code
        share its stock."""
        sku = Sku(
            check_code(product, "product code"),
            check_code(code, "SKU code"),
            check_flag(published, "published"),
            check_flag(purchasable, "purchasable"),
        )

        def work(tx: Transaction, ctx: _Context) -> Sku:
            _product(tx, sku.product)
            tx.insert_sku(sku)
            return sku

        return self._mutate("add_sku", {"s": sku}, work, idempotency_key, actor)

    def update_sku(
        self, product: str, code: str, *, idempotency_key: str | None = None, actor: str | None = None,
        **changes: Any,
    ) -> Sku:
        """Change a SKU's ``published`` or ``purchasable`` flag."""
        product = check_code(product, "product code")
        code = check_code(code, "SKU code")
        checks: dict[str, Callable[[Any], Any]] = {
            "published": lambda v: check_flag(v, "published"),
            "purchasable": lambda v: check_flag(v, "purchasable"),
        }
        values = check_changes(changes, checks, "SKU")

        def work(tx: Transaction, ctx: _Context) -> Sku:
            _product(tx, product)
            sku = tx.get_sku(product, code)
            if sku is None:
                raise UnknownSku(f"product {product!r} has no SKU {code!r}; add it with add_sku")
            updated = attrs.evolve(sku, **values)
            tx.update_sku(updated)
            return updated

        return self._mutate("update_sku", {"p": product, "c": code, **values}, work, idempotency_key, actor)

    def skus(self, product: str | None = None) -> list[Sku]:
        """SKUs, of one product or of all, by product then code."""
        product = check_optional_code(product, "product code")

        def read(tx: Transaction) -> list[Sku]:
            if product is not None:
                _product(tx, product)
            return tx.list_skus(product=product)

        return self._read(read)

    # -- levels ------------------------------------------------------------------------
    def set_level(
        self,
        sku: str,
        warehouse: str,
        *,
        on_hand: int | None = None,
        safety: int | None = None,
        reason: str = "",
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Level:
        """Set the on-hand and/or safety stock of a SKU at a warehouse to absolute values.

        Refused with :class:`~stockkit.errors.InsufficientStock` when it would leave less
        available than is booked, and with :class:`~stockkit.errors.VersionConflict` when
        ``expected_version`` is given and the level has changed since.
        """
        sku = check_code(sku, "SKU code")
        warehouse = check_code(warehouse, "warehouse code")
        if on_hand is None and safety is None:
            raise ValidationError("set_level needs on_hand, safety or both")
        new_on_hand = None if on_hand is None else check_quantity(on_hand, "on_hand", allow_zero=True)
        new_safety = None if safety is None else check_quantity(safety, "safety", allow_zero=True)
        reason = check_text(reason, "reason")
        version = check_optional_version(expected_version)
        arguments = {"s": sku, "w": warehouse, "o": new_on_hand, "f": new_safety, "r": reason, "v": version}

        def work(tx: Transaction, ctx: _Context) -> Level:
            _warehouse(tx, warehouse)
            current = tx.get_levels([(sku, warehouse)]).get((sku, warehouse)) or Level(sku, warehouse)
            change = Change(
                LedgerKind.SET, sku, warehouse,
                on_hand=0 if new_on_hand is None else new_on_hand - current.on_hand,
                safety=0 if new_safety is None else new_safety - current.safety,
                reason=reason, expected_version=version,
            )
            tx.apply([change], at=ctx.now, actor=ctx.actor)
            return self._levels_now(tx, [(sku, warehouse)], ctx.now)[0]

        return self._mutate("set_level", arguments, work, idempotency_key, actor)

    def adjust(
        self,
        sku: str,
        warehouse: str,
        delta: int,
        reason: str,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Level:
        """Change the on-hand stock by a signed ``delta`` (a count, damage, a return), with
        a ``reason`` for the ledger. A negative delta cannot take more than is available."""
        sku = check_code(sku, "SKU code")
        warehouse = check_code(warehouse, "warehouse code")
        delta = check_delta(delta)
        reason = check_text(reason, "reason", required=True)
        version = check_optional_version(expected_version)
        arguments = {"s": sku, "w": warehouse, "d": delta, "r": reason, "v": version}

        def work(tx: Transaction, ctx: _Context) -> Level:
            _warehouse(tx, warehouse)
            change = Change(LedgerKind.ADJUSTED, sku, warehouse, on_hand=delta, reason=reason,
                            expected_version=version)
            tx.apply([change], at=ctx.now, actor=ctx.actor)
            return self._levels_now(tx, [(sku, warehouse)], ctx.now)[0]

        return self._mutate("adjust", arguments, work, idempotency_key, actor)

    # -- orders ------------------------------------------------------------------------
    def place_order(
        self,
        order_id: str,
        channel: str,
        lines: Iterable[LineInput],
        *,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Placement:
        """Book every line of an order, or none of them.

        Each line is allocated to the channel's active warehouses in link-priority order,
        split over several when the first is short. Raises
        :class:`~stockkit.errors.InsufficientStock` (nothing booked) when the channel
        cannot supply a line, and :class:`~stockkit.errors.ChannelWithoutWarehouses` when
        no active warehouse serves the channel.
        """
        return self._place(order_id, channel, lines, None, idempotency_key, actor)

    def hold(
        self,
        order_id: str,
        channel: str,
        lines: Iterable[LineInput],
        *,
        ttl: dt.timedelta,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Placement:
        """Like :meth:`place_order`, but the bookings are a hold that counts for nothing
        once ``ttl`` has passed, unless :meth:`confirm_hold` is called before."""
        if not isinstance(ttl, dt.timedelta) or not dt.timedelta(0) < ttl <= _LONGEST_HOLD:
            raise ValidationError(
                f"ttl must be a datetime.timedelta above zero and at most {_LONGEST_HOLD.days} days, got {ttl!r}"
            )
        return self._place(order_id, channel, lines, ttl, idempotency_key, actor)

    def _place(
        self,
        order_id: str,
        channel: str,
        lines: Iterable[LineInput],
        ttl: dt.timedelta | None,
        key: str | None,
        actor: str | None,
    ) -> Placement:
        order_id = check_code(order_id, "order id")
        channel = check_code(channel, "channel code")
        order_lines = check_lines(lines)

        request = OrderRequest(order_id, channel, order_lines)
        policy = Policy(fill=Fill.ORDER)
        forecast = self._planner.forecast([request], policy=policy)  # before the transaction

        def work(tx: Transaction, ctx: _Context) -> Placement:
            _channel(tx, channel)
            if tx.get_order(order_id) is not None:
                raise DuplicateCode(f"order {order_id!r} exists already; order ids are unique")
            topology = _topology(tx, [channel])
            if not topology.routes[channel]:
                raise _without_warehouses(channel)
            back_orders = _check_order_rules(ctx.watch.touch(line.sku for line in order_lines), order_lines, ctx.now)
            wave = self._plan_locked(tx, ctx.now, [request], policy, back_orders, forecast, topology)
            planned = wave.orders[0]
            if not planned.placed:
                short = next(line for line in planned.lines if not line.filled and line.reason is not Reason.ORDER_INCOMPLETE)
                can = sum(max(wave.available.get((short.sku, w), 0), 0) for w, _ in wave.topology.routes[channel])
                raise InsufficientStock(
                    f"order {order_id!r} line {short.line_id!r}: channel {channel!r} cannot supply "
                    f"{short.quantity} of {short.sku} ({can} available to the whole order); "
                    "nothing was booked",
                    sku=short.sku, requested=short.quantity, available=can,
                )
            placement = _book_orders(tx, ctx, [request], [planned], ttl, back_orders)[0]
            self._planner.booked(wave)
            return placement

        arguments = {"o": order_id, "c": channel, "l": order_lines, "t": ttl}
        return self._mutate("hold" if ttl else "place_order", arguments, work, key, actor)

    def place_orders(
        self,
        orders: Iterable[OrderRequest | tuple[str, str, Iterable[LineInput]]],
        *,
        policy: Policy | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> WavePlan:
        """Allocate a whole wave of orders with the allocation engine and book it in one
        transaction; return the plan.

        Orders are served first come, first served: lower ``priority`` first, then in the
        order given. ``policy`` (a :class:`~stockkit.engine.Policy`) says how lines draw
        on warehouses; by default each order is served whole or refused
        (``Policy(fill=Fill.ORDER)``). The plan's :attr:`~stockkit.planning.WavePlan.placed`
        orders are booked, its :attr:`~stockkit.planning.WavePlan.refused` ones are not
        (and take nothing), and :meth:`~stockkit.planning.WavePlan.explain` says why any
        line got what it got. With ``dry_run=True`` nothing is booked and the plan is what
        placing the wave now would do. A line breaking its product's order rules, an order
        id placed before or twice in the wave, or an unknown channel raises, and nothing is
        booked.
        """
        requests = check_requests(orders)
        policy = Policy(fill=Fill.ORDER) if policy is None else policy
        if not isinstance(policy, Policy):
            raise ValidationError(f"policy must be a stockkit.engine.Policy, got {policy!r}")
        dry_run = check_flag(dry_run, "dry_run")
        skus = sorted({line.sku for r in requests for line in r.lines})

        def plan(
            tx: Transaction, now: dt.datetime, watch: StockWatch | None, forecast: Forecast | None
        ) -> tuple[WavePlan, set[str]]:
            for channel in sorted({r.channel for r in requests}):
                _channel(tx, channel)
            taken = tx.existing_orders([r.order_id for r in requests])
            for r in requests:
                if r.order_id in taken:
                    raise DuplicateCode(f"order {r.order_id!r} exists already; order ids are unique")
            entries = watch.touch(skus) if watch is not None else self._catalogue(tx, skus)
            back_orders: set[str] = set()
            for r in requests:
                back_orders |= _check_order_rules(entries, r.lines, now)
            topology = _topology(tx, (r.channel for r in requests))
            return self._plan_locked(tx, now, requests, policy, back_orders, forecast, topology), back_orders

        if dry_run:
            return self._read(lambda tx: plan(tx, self._now(), None, None)[0])

        # planned before the transaction begins, from what the planner saw last
        forecast = self._planner.forecast(requests, policy=policy)

        def work(tx: Transaction, ctx: _Context) -> WavePlan:
            wave, back_orders = plan(tx, ctx.now, ctx.watch, forecast)
            placed = [(r, p) for r, p in zip(requests, wave.orders) if p.placed]
            _book_orders(tx, ctx, [r for r, _ in placed], [p for _, p in placed], None, back_orders)
            self._planner.booked(wave)
            return wave

        arguments = {"o": requests, "p": policy}
        return self._mutate("place_orders", arguments, work, idempotency_key, actor)

    def _plan_locked(
        self, tx: Transaction, now: dt.datetime, requests: Sequence[OrderRequest], policy: Policy,
        back_orders: set[str], forecast: Forecast | None, topology: Topology,
    ) -> WavePlan:
        """Plan ``requests`` over ``topology`` against the stock read (and locked) in
        ``tx``: the planner's ``forecast`` (made before the transaction) when it was made
        from exactly these routes and this stock, else a new plan."""
        backorderable = frozenset(back_orders)
        keys = self._planner.candidate_keys(requests, topology)
        available = {k: lv.available for k, lv in zip(keys, self._levels_now(tx, keys, now))}
        return self._planner.confirm(forecast, requests, topology, available, policy=policy,
                                     backorderable=backorderable)


    def confirm_hold(
        self, order_id: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Placement:
        """Turn an unexpired hold into a firm booking; :class:`~stockkit.errors.HoldExpired`
        if its time has passed."""
        order_id = check_code(order_id, "order id")

        def work(tx: Transaction, ctx: _Context) -> Placement:
            order = _order(tx, order_id)
            if order.expires_at is None:
                raise InvalidStateTransition(f"order {order_id!r} is not a hold (or is confirmed already)")
            if order.expires_at <= ctx.now:
                raise HoldExpired(
                    f"the hold of order {order_id!r} expired at {order.expires_at}; place a new order"
                )
            bookings = tuple(attrs.evolve(b, expires_at=None) for b in tx.bookings(order_id=order_id))
            tx.put_bookings(bookings)
            tx.apply(
                [Change(LedgerKind.CONFIRMED, b.sku, b.warehouse, order_id=order_id, line_id=b.line_id)
                 for b in bookings],
                at=ctx.now, actor=ctx.actor,
            )
            confirmed = attrs.evolve(order, expires_at=None)
            tx.update_order(confirmed)
            return Placement(confirmed, bookings)

        return self._mutate("confirm_hold", {"o": order_id}, work, idempotency_key, actor)

    def release(
        self,
        order_id: str,
        line_id: str | None = None,
        *,
        reason: str = "",
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> tuple[Booking, ...]:
        """Cancel an order (or one line of it): release its bookings, mark its lines
        cancelled and return the released bookings. Releasing what holds nothing any more
        releases nothing."""
        order_id = check_code(order_id, "order id")
        line_id = check_optional_code(line_id, "line id")
        reason = check_text(reason, "reason")

        def work(tx: Transaction, ctx: _Context) -> tuple[Booking, ...]:
            order = _order(tx, order_id)
            if line_id is not None and order.line(line_id) is None:
                raise UnknownOrderLine(f"order {order_id!r} has no line {line_id!r}")
            released = tuple(tx.bookings(order_id=order_id, line_id=line_id))
            tx.apply(
                [Change(LedgerKind.EXPIRED if b.expired(ctx.now) else LedgerKind.RELEASED, b.sku, b.warehouse,
                        booked=-b.quantity, reason=reason, order_id=order_id, line_id=b.line_id)
                 for b in released],
                at=ctx.now, actor=ctx.actor,
            )
            tx.delete_bookings([(b.order_id, b.line_id, b.warehouse) for b in released])
            lines = tuple(
                attrs.evolve(line, cancelled=True) if line_id in (None, line.line_id) else line
                for line in order.lines
            )
            if lines != order.lines:
                tx.update_order(attrs.evolve(order, lines=lines))
            return released

        return self._mutate("release", {"o": order_id, "l": line_id, "r": reason}, work, idempotency_key, actor)

    def ship(
        self,
        order_id: str,
        line_id: str,
        warehouse: str,
        quantity: int,
        *,
        shipment_id: str | None = None,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Shipment:
        """Record that ``quantity`` units of an order line left ``warehouse``: its booking
        and on-hand stock there go down.

        If the line is booked elsewhere, the booking moves to ``warehouse`` first, which
        must be able to supply it (else :class:`~stockkit.errors.InsufficientStock`). The
        quantity cannot exceed the line's open (booked) quantity nor the warehouse's on-hand
        stock. ``shipment_id`` defaults to a generated ``S-<n>``.
        """
        order_id = check_code(order_id, "order id")
        line_id = check_code(line_id, "line id")
        warehouse = check_code(warehouse, "warehouse code")
        quantity = check_quantity(quantity)
        shipment_id = check_optional_code(shipment_id, "shipment id")
        arguments = {"o": order_id, "l": line_id, "w": warehouse, "q": quantity, "s": shipment_id}

        def work(tx: Transaction, ctx: _Context) -> Shipment:
            order = _order(tx, order_id)
            line = order.line(line_id)
            if line is None:
                raise UnknownOrderLine(f"order {order_id!r} has no line {line_id!r}")
            _warehouse(tx, warehouse)
            if order.expires_at is not None:
                if order.expires_at <= ctx.now:
                    raise HoldExpired(f"the hold of order {order_id!r} expired at {order.expires_at}")
                raise InvalidStateTransition(f"order {order_id!r} is an unconfirmed hold: confirm_hold it first")
            sid = shipment_id or _new_id(tx, "shipment", "S", tx.get_shipment)
            if tx.get_shipment(sid) is not None:
                raise DuplicateCode(f"shipment {sid!r} exists already; shipment ids are unique")
            bookings = tx.bookings(order_id=order_id, line_id=line_id)
            open_units = sum(b.quantity for b in bookings)
            if quantity > open_units:
                raise InvalidQuantity(
                    f"order {order_id!r} line {line_id!r} has {open_units} units open; cannot ship {quantity}"
                )
            at_target = sum(b.quantity for b in bookings if b.warehouse == warehouse)
            changes, updated = _move_booking(bookings, warehouse, quantity - at_target, order, sid, tx)
            changes.append(Change(LedgerKind.CONSUMED, line.sku, warehouse, on_hand=-quantity, booked=-quantity,
                                  order_id=order_id, line_id=line_id, reference=sid))
            updated[warehouse] = updated.get(warehouse, at_target) - quantity
            tx.apply(changes, at=ctx.now, actor=ctx.actor)
            _write_line_bookings(tx, order, line, updated)
            shipment = Shipment(sid, order_id, line_id, line.sku, warehouse, quantity, ctx.now)
            tx.put_shipment(shipment)
            return shipment

        return self._mutate("ship", arguments, work, idempotency_key, actor)

    def cancel_shipment(
        self, shipment_id: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Shipment:
        """Undo a shipment: its units go back on hand at its warehouse and are booked for
        the line again, unless the line has been cancelled since (then they only go back
        on hand)."""
        shipment_id = check_code(shipment_id, "shipment id")

        def work(tx: Transaction, ctx: _Context) -> Shipment:
            shipment = tx.get_shipment(shipment_id)
            if shipment is None:
                raise UnknownShipment(f"no shipment has id {shipment_id!r}")
            if shipment.status is ShipmentStatus.CANCELLED:
                raise InvalidStateTransition(f"shipment {shipment_id!r} is cancelled already")
            order = _order(tx, shipment.order_id)
            line = order.line(shipment.line_id)
            assert line is not None
            _warehouse(tx, shipment.warehouse)
            rebook = 0 if line.cancelled else shipment.quantity
            tx.apply(
                [Change(LedgerKind.RESTORED, shipment.sku, shipment.warehouse, on_hand=shipment.quantity,
                        booked=rebook, order_id=shipment.order_id, line_id=shipment.line_id,
                        reference=shipment_id, reason="" if rebook else "line cancelled: back on hand only")],
                at=ctx.now, actor=ctx.actor,
            )
            if rebook:
                current = {b.warehouse: b.quantity for b in tx.bookings(order_id=order.order_id, line_id=line.line_id)}
                current[shipment.warehouse] = current.get(shipment.warehouse, 0) + rebook
                _write_line_bookings(tx, order, line, current)
            cancelled = attrs.evolve(shipment, status=ShipmentStatus.CANCELLED)
            tx.put_shipment(cancelled)
            return cancelled

        return self._mutate("cancel_shipment", {"s": shipment_id}, work, idempotency_key, actor)

    def sweep_expired_holds(self, *, batch_size: int = 1000, actor: str | None = None) -> int:
        """Release holds whose time has passed, in batches of one transaction each, and
        return how many were released. Expired holds count for nothing even before this
        runs; sweeping only tidies them and writes their ``expired`` ledger entries.
        Repeating a sweep is harmless, so it takes no idempotency key."""
        batch_size = check_quantity(batch_size, "batch_size")
        total = 0
        while True:
            def work(tx: Transaction, ctx: _Context) -> int:
                expired = tx.expired_holds(ctx.now, batch_size)
                tx.apply(
                    [Change(LedgerKind.EXPIRED, b.sku, b.warehouse, booked=-b.quantity,
                            reason="hold expired", order_id=b.order_id, line_id=b.line_id) for b in expired],
                    at=ctx.now, actor=ctx.actor,
                )
                tx.delete_bookings([(b.order_id, b.line_id, b.warehouse) for b in expired])
                return len(expired)

            swept = self._mutate("sweep_expired_holds", {}, work, None, actor)
            total += swept
            if swept < batch_size:
                return total

    def get_order(self, order_id: str) -> Placement:
        """An order and its current bookings (holds included)."""
        order_id = check_code(order_id, "order id")

        def read(tx: Transaction) -> Placement:
            return Placement(_order(tx, order_id), tuple(tx.bookings(order_id=order_id)))

        return self._read(read)

    def shipments(self, order_id: str | None = None) -> list[Shipment]:
        """Shipments, of one order or all, by id."""
        order_id = check_optional_code(order_id, "order id")
        return self._read(lambda tx: tx.shipments(order_id=order_id))

    # -- transfers ---------------------------------------------------------------------
    def transfer(
        self,
        sku: str,
        source: str,
        destination: str,
        quantity: int,
        *,
        transfer_id: str | None = None,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Transfer:
        """Send units of a SKU from one warehouse to another. They leave the source now
        (no more than it can give without breaking its bookings and safety stock) and
        belong to neither warehouse until :meth:`receive_transfer`."""
        sku = check_code(sku, "SKU code")
        source = check_code(source, "source warehouse code")
        destination = check_code(destination, "destination warehouse code")
        if source == destination:
            raise ValidationError(f"a transfer needs two different warehouses, got {source!r} twice")
        quantity = check_quantity(quantity)
        transfer_id = check_optional_code(transfer_id, "transfer id")
        arguments = {"s": sku, "f": source, "t": destination, "q": quantity, "i": transfer_id}

        def work(tx: Transaction, ctx: _Context) -> Transfer:
            _warehouse(tx, source)
            _warehouse(tx, destination)
            tid = transfer_id or _new_id(tx, "transfer", "T", tx.get_transfer)
            if tx.get_transfer(tid) is not None:
                raise DuplicateCode(f"transfer {tid!r} exists already; transfer ids are unique")
            tx.apply([Change(LedgerKind.MOVED, sku, source, on_hand=-quantity, reason=f"transfer to {destination}",
                             reference=tid)], at=ctx.now, actor=ctx.actor)
            transfer = Transfer(tid, sku, source, destination, quantity, ctx.now)
            tx.put_transfer(transfer)
            return transfer

        return self._mutate("transfer", arguments, work, idempotency_key, actor)

    def receive_transfer(
        self, transfer_id: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Transfer:
        """Put a transfer's units on hand at its destination."""
        return self._close_transfer(transfer_id, TransferStatus.RECEIVED, idempotency_key, actor)

    def cancel_transfer(
        self, transfer_id: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Transfer:
        """Send a transfer in transit back: its units return on hand at the source."""
        return self._close_transfer(transfer_id, TransferStatus.CANCELLED, idempotency_key, actor)

    def _close_transfer(
        self, transfer_id: str, status: TransferStatus, key: str | None, actor: str | None
    ) -> Transfer:
        transfer_id = check_code(transfer_id, "transfer id")

        def work(tx: Transaction, ctx: _Context) -> Transfer:
            transfer = tx.get_transfer(transfer_id)
            if transfer is None:
                raise UnknownTransfer(f"no transfer has id {transfer_id!r}")
            if transfer.status is not TransferStatus.IN_TRANSIT:
                raise InvalidStateTransition(f"transfer {transfer_id!r} is {transfer.status.value}, not in transit")
            arrival = transfer.destination if status is TransferStatus.RECEIVED else transfer.source
            _warehouse(tx, arrival)
            tx.apply([Change(LedgerKind.MOVED, transfer.sku, arrival, on_hand=transfer.quantity,
                             reason=f"transfer {status.value}", reference=transfer_id)], at=ctx.now, actor=ctx.actor)
            closed = attrs.evolve(transfer, status=status, closed_at=ctx.now)
            tx.put_transfer(closed)
            return closed

        return self._mutate(f"transfer_{status.value}", {"t": transfer_id}, work, key, actor)

    def transfers(self, *, sku: str | None = None, warehouse: str | None = None) -> list[Transfer]:
        """Transfers by id, optionally of one SKU and from or to one warehouse."""
        sku = check_optional_code(sku, "SKU code")
        warehouse = check_optional_code(warehouse, "warehouse code")
        return self._read(lambda tx: tx.transfers(sku=sku, warehouse=warehouse))

    # -- replenishments ----------------------------------------------------------------
    def add_replenishment(
        self,
        sku: str,
        warehouse: str,
        quantity: int,
        expected_on: dt.date,
        *,
        replenishment_id: str | None = None,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Replenishment:
        """Record incoming stock expected at a warehouse on a date. It shows as
        ``incoming`` and is never part of ``available`` until received."""
        sku = check_code(sku, "SKU code")
        warehouse = check_code(warehouse, "warehouse code")
        quantity = check_quantity(quantity)
        expected_on = check_date(expected_on, "expected_on")
        rid = check_optional_code(replenishment_id, "replenishment id")
        arguments = {"s": sku, "w": warehouse, "q": quantity, "d": expected_on, "i": rid}

        def work(tx: Transaction, ctx: _Context) -> Replenishment:
            _warehouse(tx, warehouse)
            ident = rid or _new_id(tx, "replenishment", "R", tx.get_replenishment)
            if tx.get_replenishment(ident) is not None:
                raise DuplicateCode(f"replenishment {ident!r} exists already; replenishment ids are unique")
            tx.apply([Change(LedgerKind.EXPECTED, sku, warehouse, incoming=quantity,
                             reason=f"expected on {expected_on}", reference=ident)], at=ctx.now, actor=ctx.actor)
            replenishment = Replenishment(ident, sku, warehouse, quantity, expected_on)
            tx.put_replenishment(replenishment)
            return replenishment

        return self._mutate("add_replenishment", arguments, work, idempotency_key, actor)

    def receive_replenishment(
        self,
        replenishment_id: str,
        quantity: int | None = None,
        *,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> Replenishment:
        """Turn incoming units into on-hand stock: all that is still expected, or
        ``quantity`` of them (the rest stays open)."""
        rid = check_code(replenishment_id, "replenishment id")
        units = None if quantity is None else check_quantity(quantity)

        def work(tx: Transaction, ctx: _Context) -> Replenishment:
            repl = _open_replenishment(tx, rid)
            take = repl.open_quantity if units is None else units
            if take > repl.open_quantity:
                raise InvalidQuantity(
                    f"replenishment {rid!r} has {repl.open_quantity} units still expected; cannot receive {take}"
                )
            _warehouse(tx, repl.warehouse)
            tx.apply([Change(LedgerKind.RECEIVED, repl.sku, repl.warehouse, on_hand=take, incoming=-take,
                             reference=rid)], at=ctx.now, actor=ctx.actor)
            received = repl.received + take
            status = ReplenishmentStatus.RECEIVED if received == repl.quantity else ReplenishmentStatus.OPEN
            updated = attrs.evolve(repl, received=received, status=status)
            tx.put_replenishment(updated)
            return updated

        return self._mutate("receive_replenishment", {"i": rid, "q": units}, work, idempotency_key, actor)

    def cancel_replenishment(
        self, replenishment_id: str, *, idempotency_key: str | None = None, actor: str | None = None
    ) -> Replenishment:
        """Stop expecting what is left of a replenishment."""
        rid = check_code(replenishment_id, "replenishment id")

        def work(tx: Transaction, ctx: _Context) -> Replenishment:
            repl = _open_replenishment(tx, rid)
            tx.apply([Change(LedgerKind.CANCELLED, repl.sku, repl.warehouse, incoming=-repl.open_quantity,
                             reference=rid)], at=ctx.now, actor=ctx.actor)
            cancelled = attrs.evolve(repl, status=ReplenishmentStatus.CANCELLED)
            tx.put_replenishment(cancelled)
            return cancelled

        return self._mutate("cancel_replenishment", {"i": rid}, work, idempotency_key, actor)

    def replenishments(
        self, sku: str | None = None, *, warehouse: str | None = None, open_only: bool = True
    ) -> list[Replenishment]:
        """Replenishments by expected date, optionally of one SKU or warehouse; only open
        ones unless ``open_only=False``."""
        sku = check_optional_code(sku, "SKU code")
        warehouse = check_optional_code(warehouse, "warehouse code")
        found = self._read(lambda tx: tx.replenishments(sku=sku, warehouse=warehouse))
        return [r for r in found if r.open_quantity or not open_only]

    # -- queries -----------------------------------------------------------------------
    def _levels_now(self, tx: Transaction, keys: Sequence[LevelKey], now: dt.datetime) -> list[Level]:
        """Levels of ``keys`` (zeros where there is no row) as shop code sees them: holds
        expired at ``now`` are not booked any more."""
        stored = tx.get_levels(keys)
        expired = tx.expired_holds_by_level(keys, now)
        return [_visible(stored.get(k) or Level(*k), expired.get(k, 0)) for k in keys]

    def level(self, sku: str, warehouse: str) -> Level:
        """The stock of a SKU at one warehouse (active or not)."""
        key = (check_code(sku, "SKU code"), check_code(warehouse, "warehouse code"))

        def read(tx: Transaction) -> Level:
            _warehouse(tx, key[1])
            return self._levels_now(tx, [key], self._now())[0]

        return self._read(read)

    def stock(self, sku: str, *, channel: str | None = None) -> StockSummary:
        """A SKU's stock over every active warehouse, or over the active warehouses linked
        to ``channel``."""
        sku = check_code(sku, "SKU code")
        channel = check_optional_code(channel, "channel code")
        return self._read(lambda tx: self._stock(tx, sku, channel, self._now()))

    def _stock(self, tx: Transaction, sku: str, channel: str | None, now: dt.datetime) -> StockSummary:
        if channel is None:
            warehouses = [w.code for w in tx.list_warehouses(active=True)]
        else:
            _channel(tx, channel)
            warehouses = _route(tx, channel, required=False)
        keys = [(sku, w) for w in sorted(warehouses)]
        return _summary(sku, self._levels_now(tx, keys, now))

    def available(self, sku: str, *, channel: str | None = None, warehouse: str | None = None) -> int:
        """Units of a SKU that can still be promised: company-wide, in one channel or at one
        warehouse."""
        if warehouse is not None:
            if channel is not None:
                raise ValidationError("give channel or warehouse, not both")
            return self.level(sku, warehouse).available
        return self.stock(sku, channel=channel).available

    def search_skus(self, text: str = "", *, limit: int | None = None) -> list[StockSummary]:
        """The inventory view: SKUs whose code contains ``text`` (any case), each with its
        company-wide totals (active warehouses) and its level at every warehouse."""
        text = check_text(text, "search text")
        limit = None if limit is None else check_quantity(limit, "limit")

        def read(tx: Transaction) -> list[StockSummary]:
            active = {w.code for w in tx.list_warehouses(active=True)}
            stored = tx.levels(sku_contains=text)
            now = self._now()
            expired = tx.expired_holds_by_level([(lv.sku, lv.warehouse) for lv in stored], now)
            per_sku: dict[str, list[Level]] = {}
            for lv in stored:
                per_sku.setdefault(lv.sku, []).append(_visible(lv, expired.get((lv.sku, lv.warehouse), 0)))
            codes = sorted(per_sku)[:limit]
            return [
                attrs.evolve(_summary(c, [lv for lv in per_sku[c] if lv.warehouse in active]),
                             levels=tuple(per_sku[c]))
                for c in codes
            ]

        return self._read(read)

    def bookings(
        self, sku: str | None = None, *, order_id: str | None = None, include_expired: bool = False
    ) -> list[Booking]:
        """Bookings and holds, of one SKU or one order; expired holds only if asked."""
        sku = check_optional_code(sku, "SKU code")
        order_id = check_optional_code(order_id, "order id")
        now = self._now()
        found = self._read(lambda tx: tx.bookings(sku=sku, order_id=order_id))
        return [b for b in found if include_expired or not b.expired(now)]

    def ledger(
        self,
        sku: str | None = None,
        *,
        warehouse: str | None = None,
        kinds: Iterable[LedgerKind | str] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        order_id: str | None = None,
        limit: int | None = None,
    ) -> list[LedgerEntry]:
        """Ledger entries, newest first, filtered by SKU, warehouse, kinds, a time range
        (``since`` included, ``until`` excluded) and order."""
        try:
            kind_set = None if kinds is None else frozenset(LedgerKind(k) for k in kinds)
        except ValueError as exc:
            raise ValidationError(f"{exc}; kinds are {', '.join(k.value for k in LedgerKind)}") from None
        query = LedgerQuery(
            sku=check_optional_code(sku, "SKU code"),
            warehouse=check_optional_code(warehouse, "warehouse code"),
            kinds=kind_set,
            since=check_optional_datetime(since, "since"),
            until=check_optional_datetime(until, "until"),
            order_id=check_optional_code(order_id, "order id"),
            limit=None if limit is None else check_quantity(limit, "limit"),
        )
        return self._read(lambda tx: tx.ledger(query))

    # -- the ledger's guarantees -------------------------------------------------------
    def verify(self) -> VerifyReport:
        """Recompute every level from the ledger, the bookings and the replenishments, and
        report each disagreement. ``verify().ok`` is ``True`` for a sound inventory."""

        def read(tx: Transaction) -> VerifyReport:
            levels = tx.levels()
            totals = tx.ledger_totals()
            problems = find_discrepancies(levels, totals, tx.booking_totals(), tx.replenishment_totals())
            return VerifyReport(len(levels), sum(t.entries for t in totals.values()), tuple(problems))

        return self._read(read)

    def prune_ledger(
        self,
        older_than: dt.datetime | dt.timedelta,
        *,
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Fold ledger entries older than a time (or than an age, such as
        ``timedelta(days=365)``) into one snapshot entry per level, so that
        :meth:`verify` still holds; return how many entries were folded."""
        if isinstance(older_than, dt.timedelta):
            if older_than < dt.timedelta(0):
                raise ValidationError(f"older_than must not be a negative age, got {older_than!r}")
            age: dt.timedelta | None = older_than
            cutoff = None
        else:
            age, cutoff = None, check_datetime(older_than, "older_than")

        def work(tx: Transaction, ctx: _Context) -> int:
            if cutoff is not None:
                return tx.prune_ledger(cutoff)
            assert age is not None
            if age >= ctx.now - _EARLIEST:
                return 0  # nothing can be older than the calendar
            return tx.prune_ledger(ctx.now - age)

        return self._mutate("prune_ledger", {"c": cutoff, "a": age}, work, idempotency_key, actor)

    # -- CSV ---------------------------------------------------------------------------
    def export_levels(self, out: IO[str]) -> int:
        """Write every level as CSV (``sku,warehouse,on_hand,safety,booked,available,incoming``)
        and return the number of rows; :meth:`import_levels` reads it back."""
        def read(tx: Transaction) -> list[Level]:
            stored = tx.levels()
            expired = tx.expired_holds_by_level(None, self._now())
            return [_visible(lv, expired.get((lv.sku, lv.warehouse), 0)) for lv in stored]

        return write_levels(out, self._read(read))

    def import_levels(
        self,
        source: IO[str],
        *,
        reason: str = "CSV import",
        idempotency_key: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Set on hand (and safety, if the column is there) from CSV rows with the columns
        ``sku``, ``warehouse``, ``on_hand`` and optionally ``safety``; return the number of
        rows. All or nothing: :class:`~stockkit.errors.ImportFailed` lists every bad row by
        line number and nothing is imported."""
        parsed = read_levels(source)
        rows = parsed.rows
        reason = check_text(reason, "reason")

        def work(tx: Transaction, ctx: _Context) -> int:
            keys = [(r.sku, r.warehouse) for r in rows]
            current = tx.get_levels(keys)
            check_rows_against(parsed, {w.code for w in tx.list_warehouses()}, current,
                               tx.expired_holds_by_level(keys, ctx.now))
            changes = []
            for r in rows:
                lv = current.get((r.sku, r.warehouse)) or Level(r.sku, r.warehouse)
                changes.append(Change(
                    LedgerKind.IMPORTED, r.sku, r.warehouse, on_hand=r.on_hand - lv.on_hand,
                    safety=0 if r.safety is None else r.safety - lv.safety, reason=reason,
                ))
            tx.apply(changes, at=ctx.now, actor=ctx.actor)
            return len(rows)

        arguments = {"rows": [attrs.astuple(r) for r in rows], "bad": parsed.problems, "r": reason}
        return self._mutate("import_levels", arguments,
                            work, idempotency_key, actor)


# -- helpers: lookups that raise precise errors ---------------------------------------------
def _warehouse(tx: Transaction, code: str) -> Warehouse:
    warehouse = tx.get_warehouse(code)
    if warehouse is None:
        raise UnknownWarehouse(f"no warehouse has code {code!r}; create it with create_warehouse")
    return warehouse


def _channel(tx: Transaction, code: str) -> Channel:
    channel = tx.get_channel(code)
    if channel is None:
        raise UnknownChannel(f"no channel has code {code!r}; create it with create_channel")
    return channel


def _product(tx: Transaction, code: str) -> Product:
    product = tx.get_product(code)
    if product is None:
        raise UnknownProduct(f"no product has code {code!r}; create it with create_product")
    return product


def _estimate_named(tx: Transaction, key: str) -> AvailabilityEstimate:
    estimate = tx.get_estimate(key)
    if estimate is None:
        raise UnknownEstimate(
            f"no availability estimate has key {key!r}; create it with put_availability_estimate"
        )
    return estimate


def _check_estimate_key(tx: Transaction, config: InventoryConfig) -> None:
    if config.availability_estimate is not None:
        _estimate_named(tx, config.availability_estimate)


def _order(tx: Transaction, order_id: str) -> Order:
    order = tx.get_order(order_id)
    if order is None:
        raise UnknownOrder(f"no order has id {order_id!r}")
    return order


def _open_replenishment(tx: Transaction, rid: str) -> Replenishment:
    repl = tx.get_replenishment(rid)
    if repl is None:
        raise UnknownReplenishment(f"no replenishment has id {rid!r}")
    if repl.status is not ReplenishmentStatus.OPEN:
        raise InvalidStateTransition(f"replenishment {rid!r} is {repl.status.value}, not open")
    return repl


def _new_id(tx: Transaction, sequence: str, prefix: str, existing: Callable[[str], object | None]) -> str:
    """The next generated id ``<prefix>-<n>`` that no caller-given id has taken."""
    while True:
        candidate = f"{prefix}-{tx.next_id(sequence)}"
        if existing(candidate) is None:
            return candidate


def _check_order_rules(
    entries: dict[str, list[CatalogueEntry]], lines: Sequence[OrderLine], now: dt.datetime
) -> set[str]:
    """Check every line against its product's rules, in DOMAIN order, before any
    allocation (raising the first :class:`~stockkit.errors.OrderLineRejected`); return the
    SKU codes whose rules allow back orders. Lines of stock-only SKU codes (no product
    lists them) follow no catalogue rule."""
    back_orders: set[str] = set()
    for line in lines:
        entry = governing_entry(entries.get(line.sku, ()), now)
        if entry is None:
            continue
        check_line(line, entry.rules, not_purchasable=entry.why_not_purchasable(now))
        if entry.rules.allow_back_orders:
            back_orders.add(line.sku)
    return back_orders


def _topology(tx: Transaction, channels: Iterable[str]) -> Topology:
    """The active linked warehouses of ``channels`` with their link priorities (an empty
    route for a channel with none), and those warehouses' locations."""
    active = {w.code: w for w in tx.list_warehouses(active=True)}
    routes = {
        channel: tuple(sorted((link.warehouse, link.priority) for link in tx.links(channel=channel)
                              if link.warehouse in active))
        for channel in sorted(set(channels))
    }
    locations = {
        w: (active[w].latitude, active[w].longitude)
        for route in routes.values() for w, _ in route if active[w].has_location
    }
    return Topology(routes, locations)  # type: ignore[arg-type]


def _book_orders(
    tx: Transaction,
    ctx: _Context,
    requests: Sequence[OrderRequest],
    plans: Sequence[OrderPlan],
    ttl: dt.timedelta | None,
    back_orders: set[str],
) -> list[Placement]:
    """Book planned orders in one batch: the ledger changes, the orders and their
    bookings. Units beyond stock are booked only for SKUs that allow back orders."""
    expires = None if ttl is None else ctx.now + ttl
    kind = LedgerKind.BOOKED if ttl is None else LedgerKind.HELD
    placements: list[Placement] = []
    all_bookings: list[Booking] = []
    for request, planned in zip(requests, plans):
        per_line: dict[tuple[str, str, str], int] = {}
        for line in planned.lines:
            for w, q in (*line.taken, *line.backordered):
                per_line[(line.line_id, line.sku, w)] = per_line.get((line.line_id, line.sku, w), 0) + q
        bookings = tuple(
            Booking(request.order_id, line_id, sku, w, request.channel, q, expires)
            for (line_id, sku, w), q in per_line.items()
        )
        all_bookings.extend(bookings)
        placements.append(Placement(Order(request.order_id, request.channel, request.lines, ctx.now, expires),
                                    bookings))
    tx.apply(
        [Change(kind, b.sku, b.warehouse, booked=b.quantity, order_id=b.order_id, line_id=b.line_id,
                allow_negative_available=b.sku in back_orders)
         for b in all_bookings],
        at=ctx.now, actor=ctx.actor,
    )
    tx.insert_orders([placement.order for placement in placements])
    tx.put_bookings(all_bookings)
    return placements


def _route(tx: Transaction, channel: str, *, required: bool = True) -> list[str]:
    """The channel's active warehouses in allocation order."""
    active = {w.code for w in tx.list_warehouses(active=True)}
    route = [link.warehouse for link in tx.links(channel=channel) if link.warehouse in active]
    if required and not route:
        raise _without_warehouses(channel)
    return route


def _without_warehouses(channel: str) -> ChannelWithoutWarehouses:
    return ChannelWithoutWarehouses(
        f"channel {channel!r} has no linked active warehouse and cannot take orders; "
        "link one with link_warehouse (and activate it)"
    )


def _visible(level: Level, expired_held: int) -> Level:
    """A stored level as shop code sees it: expired holds are not booked."""
    return attrs.evolve(level, booked=level.booked - expired_held) if expired_held else level


def _summary(sku: str, levels: Sequence[Level]) -> StockSummary:
    return StockSummary(
        sku=sku,
        on_hand=sum(lv.on_hand for lv in levels),
        safety=sum(lv.safety for lv in levels),
        booked=sum(lv.booked for lv in levels),
        incoming=sum(lv.incoming for lv in levels),
        levels=tuple(levels),
    )


def _move_booking(
    bookings: Sequence[Booking], target: str, units: int, order: Order, shipment_id: str, tx: Transaction
) -> tuple[list[Change], dict[str, int]]:
    """Move ``units`` of a line's booking to ``target`` from its other warehouses, the
    least preferred first; return the ledger changes and the line's new units per
    warehouse."""
    per_warehouse = {b.warehouse: b.quantity for b in bookings}
    changes: list[Change] = []
    if units <= 0:
        return changes, per_warehouse
    rank = {link.warehouse: (link.priority, link.warehouse) for link in tx.links(channel=order.channel)}
    donors = sorted((w for w in per_warehouse if w != target),
                    key=lambda w: rank.get(w, (2**31, w)), reverse=True)
    sku = bookings[0].sku
    left = units
    for donor in donors:
        give = min(per_warehouse[donor], left)
        if not give:
            continue
        per_warehouse[donor] -= give
        left -= give
        changes.append(Change(LedgerKind.RELEASED, sku, donor, booked=-give, reason=f"moved to {target}",
                              order_id=order.order_id, line_id=bookings[0].line_id, reference=shipment_id))
        if not left:
            break
    changes.append(Change(LedgerKind.BOOKED, sku, target, booked=units, reason="moved for shipment",
                          order_id=order.order_id, line_id=bookings[0].line_id, reference=shipment_id))
    per_warehouse[target] = per_warehouse.get(target, 0) + units
    return changes, per_warehouse


def _write_line_bookings(tx: Transaction, order: Order, line: OrderLine, units: dict[str, int]) -> None:
    """Store a line's bookings as ``units`` per warehouse (zero means none)."""
    tx.put_bookings([
        Booking(order.order_id, line.line_id, line.sku, w, order.channel, q) for w, q in sorted(units.items()) if q
    ])
    tx.delete_bookings([(order.order_id, line.line_id, w) for w, q in sorted(units.items()) if not q])
