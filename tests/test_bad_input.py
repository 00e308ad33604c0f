"""Bad quantities, codes, dates and durations, fed to every operation that takes one, on
every storage backend.

Each operation must refuse a bad quantity with ``InvalidQuantity``, a bad code with
``InvalidCode`` and a bad date or duration with a ``ValidationError`` (``InvalidDate`` for
dates and times), and write nothing: no other exception escapes, and everything the
inventory shows, its ledger included, is as before. The values come from the public
strategies in :mod:`stockkit.testing.strategies`; each operation is a test of its own,
run once per backend (memory, SQLite, PostgreSQL).

One inventory per backend serves every example of the module (building one per example
would cost PostgreSQL a schema each time): an example compares the inventory with the
snapshot taken when it was built, and an example that changed it fails and has the
inventory rebuilt, so the next example starts from the same content again.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import snapshot as conftest_snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stockkit
from stockkit import OrderLine
from stockkit.errors import (
    InsufficientStock,
    InvalidCode,
    InvalidDate,
    InvalidQuantity,
    StockkitError,
    ValidationError,
)
from stockkit.testing import FakeClock
from stockkit.testing.backends import temporary_store_url
from stockkit.testing.strategies import (
    SQL_LIKE_CODES,
    bad_codes,
    bad_dates,
    bad_datetimes,
    bad_durations,
    bad_quantities,
    codes,
    quantities,
)
from stockkit.validation import MAX_QUANTITY

# The examples share the module's inventory of their backend (see the module docstring),
# which is sound because each one checks that it left that inventory as built, and has it
# rebuilt when not: hence function_scoped_fixture is suppressed.
BAD_INPUT_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
TODAY = dt.date(2024, 1, 20)


def make_inventory(url: str = "memory://") -> stockkit.Inventory:
    """Two active warehouses on channel ``web``, stock of ``TEE`` at both, a confirmed
    order ``o1`` (2 x TEE, one shipped as ``s1``), a hold ``h1``, a transfer ``t1`` in
    transit and an open replenishment ``r1``, a product ``tee`` with a display date."""
    inv = stockkit.open(url, clock=FakeClock(), autoload_plugins=False)
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.90, active=True)
    inv.create_warehouse("ber", "Berlin", latitude=52.52, longitude=13.40, active=True)
    inv.create_channel("web", "Web shop")
    inv.link_warehouse("web", "ams", priority=1)
    inv.link_warehouse("web", "ber", priority=2)
    inv.create_product("tee", "T-shirt", status="approved",
                       display_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    inv.add_sku("tee", "TEE")
    inv.set_level("TEE", "ams", on_hand=10, safety=1)
    inv.set_level("TEE", "ber", on_hand=5)
    inv.place_order("o1", "web", [("TEE", 2)])
    inv.ship("o1", "1", "ams", 1, shipment_id="s1")
    inv.hold("h1", "web", [("TEE", 1)], ttl=dt.timedelta(minutes=30))
    inv.transfer("TEE", "ber", "ams", 1, transfer_id="t1")
    inv.add_replenishment("TEE", "ams", 4, TODAY, replenishment_id="r1")
    return inv


def snapshot(inv: stockkit.Inventory) -> tuple[Any, ...]:
    """Everything the inventory shows, the shop's orders included."""
    return (*conftest_snapshot(inv), inv.get_order("o1"), inv.get_order("h1"))


@attrs.define
class Shop:
    """The :func:`make_inventory` content on one backend, and its snapshot when built."""

    backend: str
    directory: Path
    stack: ExitStack
    inventory: stockkit.Inventory | None = None
    built: tuple[Any, ...] = ()

    def open(self) -> stockkit.Inventory:
        """The inventory as built, building a new one if the last was discarded."""
        if self.inventory is None:
            url = self.stack.enter_context(temporary_store_url(self.backend, self.directory))
            self.inventory = make_inventory(url)
            self.built = snapshot(self.inventory)
        return self.inventory

    def discard(self) -> None:
        """Close the inventory (an example changed it) so that the next one is new."""
        if self.inventory is not None:
            self.inventory.close()
            self.inventory = None

    def close(self) -> None:
        self.discard()
        self.stack.close()


@pytest.fixture(scope="module")
def shops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Shop]]:
    """One :class:`Shop` per backend, shared by the module's tests."""
    made: dict[str, Shop] = {}
    yield made
    for shop in made.values():
        shop.close()


@pytest.fixture
def shop(backend: str, shops: dict[str, Shop], tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """The module's :class:`Shop` on the backend under test."""
    if backend not in shops:
        shops[backend] = Shop(backend, tmp_path_factory.mktemp(f"bad-input-{backend}"), ExitStack())
    return shops[backend]


def refused_without_change(
    shop: Shop, call: Callable[[stockkit.Inventory], object], expected: type[StockkitError]
) -> None:
    """``call`` raises ``expected`` (any other exception escapes and fails the test) and
    leaves the inventory as built."""
    inv = shop.open()
    try:
        with pytest.raises(expected):
            call(inv)
    finally:
        after = snapshot(inv)
        if after != shop.built:
            shop.discard()
    assert after == shop.built, "the refused call changed the inventory"


# -- quantities ------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _zero(value: object) -> bool:
    return _is_int(value) and value == 0


def _a_delta(value: object) -> bool:
    return _is_int(value) and value != 0 and abs(value) <= MAX_QUANTITY  # type: ignore[arg-type, operator]


def _a_priority(value: object) -> bool:
    return _is_int(value) and -(2**31) <= value <= 2**31 - 1  # type: ignore[operator]


@attrs.frozen
class QuantityCase:
    """An operation fed a bad quantity. ``valid`` says which of ``bad_quantities()`` are
    fine for this argument (zero for absolute levels, negatives for a delta, ``None`` for
    an optional one); ``expected`` is the error for a value."""

    name: str
    call: Callable[[stockkit.Inventory, object], object]
    valid: Callable[[object], bool] = lambda value: False
    expected: Callable[[object], type[StockkitError]] = lambda value: InvalidQuantity


def _set_level_error(value: object) -> type[StockkitError]:
    # set_level(on_hand=None) alone means "nothing to set": a ValidationError, not a
    # quantity error
    return ValidationError if value is None else InvalidQuantity


QUANTITY_CASES = [
    QuantityCase("set_level on_hand", lambda inv, q: inv.set_level("TEE", "ams", on_hand=q),
                 valid=_zero, expected=_set_level_error),
    QuantityCase("set_level safety", lambda inv, q: inv.set_level("TEE", "ams", safety=q),
                 valid=_zero, expected=_set_level_error),
    QuantityCase("set_level on_hand with safety", lambda inv, q: inv.set_level("TEE", "ber", on_hand=q, safety=0),
                 valid=lambda q: _zero(q) or q is None),
    QuantityCase("set_level expected_version",
                 lambda inv, q: inv.set_level("TEE", "ams", on_hand=3, expected_version=q),
                 valid=lambda q: _zero(q) or q is None),
    QuantityCase("adjust delta", lambda inv, q: inv.adjust("TEE", "ams", q, "count"), valid=_a_delta),
    QuantityCase("adjust expected_version", lambda inv, q: inv.adjust("TEE", "ams", 1, "count", expected_version=q),
                 valid=lambda q: _zero(q) or q is None),
    QuantityCase("place_order line quantity", lambda inv, q: inv.place_order("o2", "web", [("TEE", q)])),
    QuantityCase("place_order second line quantity",
                 lambda inv, q: inv.place_order("o2", "web", [("TEE", 1), ("TEE", q)])),
    QuantityCase("place_order OrderLine quantity",
                 lambda inv, q: inv.place_order("o2", "web", [OrderLine("a", "TEE", q)])),  # type: ignore[arg-type]
    QuantityCase("hold line quantity",
                 lambda inv, q: inv.hold("h2", "web", [("TEE", q)], ttl=dt.timedelta(minutes=5))),
    QuantityCase("ship quantity", lambda inv, q: inv.ship("o1", "1", "ams", q)),
    QuantityCase("transfer quantity", lambda inv, q: inv.transfer("TEE", "ams", "ber", q)),
    QuantityCase("add_replenishment quantity", lambda inv, q: inv.add_replenishment("TEE", "ber", q, TODAY)),
    QuantityCase("receive_replenishment quantity", lambda inv, q: inv.receive_replenishment("r1", q),
                 valid=lambda q: q is None),
    QuantityCase("sweep_expired_holds batch_size", lambda inv, q: inv.sweep_expired_holds(batch_size=q)),
    QuantityCase("search_skus limit", lambda inv, q: inv.search_skus("", limit=q), valid=lambda q: q is None),
    QuantityCase("ledger limit", lambda inv, q: inv.ledger(limit=q), valid=lambda q: q is None),
    QuantityCase("link_warehouse priority", lambda inv, q: inv.link_warehouse("web", "ber", priority=q),
                 valid=_a_priority),
]


@pytest.mark.parametrize("case", QUANTITY_CASES, ids=lambda case: case.name)
@BAD_INPUT_SETTINGS
@given(data=st.data())
def test_a_bad_quantity_is_refused_and_changes_nothing(shop: Shop, case: QuantityCase, data: st.DataObject) -> None:
    value = data.draw(bad_quantities().filter(lambda v: not case.valid(v)), label="bad quantity")
    refused_without_change(shop, lambda inv: case.call(inv, value), case.expected(value))


# -- codes ---------------------------------------------------------------------------------


@attrs.frozen
class CodeCase:
    """An operation fed a bad code; ``optional`` codes accept ``None`` (not given)."""

    name: str
    call: Callable[[stockkit.Inventory, object], object]
    optional: bool = False


def _line(sku: object) -> list[Any]:
    return [(sku, 1)]


CODE_CASES = [
    # warehouses and channels
    CodeCase("create_warehouse code", lambda inv, c: inv.create_warehouse(c, "Name")),
    CodeCase("update_warehouse code", lambda inv, c: inv.update_warehouse(c, name="Name")),
    CodeCase("activate_warehouse code", lambda inv, c: inv.activate_warehouse(c)),
    CodeCase("deactivate_warehouse code", lambda inv, c: inv.deactivate_warehouse(c)),
    CodeCase("delete_warehouse code", lambda inv, c: inv.delete_warehouse(c, force=True)),
    CodeCase("get_warehouse code", lambda inv, c: inv.get_warehouse(c)),
    CodeCase("create_channel code", lambda inv, c: inv.create_channel(c, "Name")),
    CodeCase("link_warehouse channel", lambda inv, c: inv.link_warehouse(c, "ams")),
    CodeCase("link_warehouse warehouse", lambda inv, c: inv.link_warehouse("web", c)),
    CodeCase("unlink_warehouse channel", lambda inv, c: inv.unlink_warehouse(c, "ams")),
    CodeCase("unlink_warehouse warehouse", lambda inv, c: inv.unlink_warehouse("web", c)),
    CodeCase("get_channel code", lambda inv, c: inv.get_channel(c)),
    CodeCase("channel_links channel", lambda inv, c: inv.channel_links(c)),
    # products and SKUs
    CodeCase("create_product code", lambda inv, c: inv.create_product(c, "Name")),
    CodeCase("update_product code", lambda inv, c: inv.update_product(c, name="Name")),
    CodeCase("get_product code", lambda inv, c: inv.get_product(c)),
    CodeCase("add_sku product", lambda inv, c: inv.add_sku(c, "NEW")),
    CodeCase("add_sku code", lambda inv, c: inv.add_sku("tee", c)),
    CodeCase("update_sku product", lambda inv, c: inv.update_sku(c, "TEE", published=False)),
    CodeCase("update_sku code", lambda inv, c: inv.update_sku("tee", c, published=False)),
    CodeCase("skus product", lambda inv, c: inv.skus(c), optional=True),
    # levels
    CodeCase("set_level sku", lambda inv, c: inv.set_level(c, "ams", on_hand=1)),
    CodeCase("set_level warehouse", lambda inv, c: inv.set_level("TEE", c, on_hand=1)),
    CodeCase("adjust sku", lambda inv, c: inv.adjust(c, "ams", 1, "count")),
    CodeCase("adjust warehouse", lambda inv, c: inv.adjust("TEE", c, 1, "count")),
    CodeCase("level sku", lambda inv, c: inv.level(c, "ams")),
    CodeCase("level warehouse", lambda inv, c: inv.level("TEE", c)),
    CodeCase("stock sku", lambda inv, c: inv.stock(c)),
    CodeCase("stock channel", lambda inv, c: inv.stock("TEE", channel=c), optional=True),
    CodeCase("available sku", lambda inv, c: inv.available(c)),
    CodeCase("available channel", lambda inv, c: inv.available("TEE", channel=c), optional=True),
    CodeCase("available warehouse", lambda inv, c: inv.available("TEE", warehouse=c), optional=True),
    # orders, holds and shipments
    CodeCase("place_order order_id", lambda inv, c: inv.place_order(c, "web", _line("TEE"))),
    CodeCase("place_order channel", lambda inv, c: inv.place_order("o2", c, _line("TEE"))),
    CodeCase("place_order line sku", lambda inv, c: inv.place_order("o2", "web", _line(c))),
    CodeCase("place_order OrderLine line_id",
             lambda inv, c: inv.place_order("o2", "web", [OrderLine(c, "TEE", 1)])),  # type: ignore[arg-type]
    CodeCase("hold order_id", lambda inv, c: inv.hold(c, "web", _line("TEE"), ttl=dt.timedelta(minutes=5))),
    CodeCase("hold channel", lambda inv, c: inv.hold("h2", c, _line("TEE"), ttl=dt.timedelta(minutes=5))),
    CodeCase("hold line sku", lambda inv, c: inv.hold("h2", "web", _line(c), ttl=dt.timedelta(minutes=5))),
    CodeCase("confirm_hold order_id", lambda inv, c: inv.confirm_hold(c)),
    CodeCase("release order_id", lambda inv, c: inv.release(c)),
    CodeCase("release line_id", lambda inv, c: inv.release("o1", c), optional=True),
    CodeCase("ship order_id", lambda inv, c: inv.ship(c, "1", "ams", 1)),
    CodeCase("ship line_id", lambda inv, c: inv.ship("o1", c, "ams", 1)),
    CodeCase("ship warehouse", lambda inv, c: inv.ship("o1", "1", c, 1)),
    CodeCase("ship shipment_id", lambda inv, c: inv.ship("o1", "1", "ams", 1, shipment_id=c), optional=True),
    CodeCase("cancel_shipment shipment_id", lambda inv, c: inv.cancel_shipment(c)),
    CodeCase("get_order order_id", lambda inv, c: inv.get_order(c)),
    CodeCase("shipments order_id", lambda inv, c: inv.shipments(c), optional=True),
    CodeCase("bookings sku", lambda inv, c: inv.bookings(c), optional=True),
    CodeCase("bookings order_id", lambda inv, c: inv.bookings(order_id=c), optional=True),
    # transfers
    CodeCase("transfer sku", lambda inv, c: inv.transfer(c, "ams", "ber", 1)),
    CodeCase("transfer source", lambda inv, c: inv.transfer("TEE", c, "ber", 1)),
    CodeCase("transfer destination", lambda inv, c: inv.transfer("TEE", "ams", c, 1)),
    CodeCase("transfer transfer_id", lambda inv, c: inv.transfer("TEE", "ams", "ber", 1, transfer_id=c),
             optional=True),
    CodeCase("receive_transfer transfer_id", lambda inv, c: inv.receive_transfer(c)),
    CodeCase("cancel_transfer transfer_id", lambda inv, c: inv.cancel_transfer(c)),
    CodeCase("transfers sku", lambda inv, c: inv.transfers(sku=c), optional=True),
    CodeCase("transfers warehouse", lambda inv, c: inv.transfers(warehouse=c), optional=True),
    # replenishments
    CodeCase("add_replenishment sku", lambda inv, c: inv.add_replenishment(c, "ams", 1, TODAY)),
    CodeCase("add_replenishment warehouse", lambda inv, c: inv.add_replenishment("TEE", c, 1, TODAY)),
    CodeCase("add_replenishment replenishment_id",
             lambda inv, c: inv.add_replenishment("TEE", "ams", 1, TODAY, replenishment_id=c), optional=True),
    CodeCase("receive_replenishment replenishment_id", lambda inv, c: inv.receive_replenishment(c)),
    CodeCase("cancel_replenishment replenishment_id", lambda inv, c: inv.cancel_replenishment(c)),
    CodeCase("replenishments sku", lambda inv, c: inv.replenishments(c), optional=True),
    CodeCase("replenishments warehouse", lambda inv, c: inv.replenishments(warehouse=c), optional=True),
    # the ledger
    CodeCase("ledger sku", lambda inv, c: inv.ledger(c), optional=True),
    CodeCase("ledger warehouse", lambda inv, c: inv.ledger(warehouse=c), optional=True),
    CodeCase("ledger order_id", lambda inv, c: inv.ledger(order_id=c), optional=True),
    # what every mutating call takes
    CodeCase("adjust idempotency_key", lambda inv, c: inv.adjust("TEE", "ams", 1, "count", idempotency_key=c),
             optional=True),
    CodeCase("place_order idempotency_key",
             lambda inv, c: inv.place_order("o2", "web", _line("TEE"), idempotency_key=c), optional=True),
    CodeCase("adjust actor", lambda inv, c: inv.adjust("TEE", "ams", 1, "count", actor=c), optional=True),
    CodeCase("sweep_expired_holds actor", lambda inv, c: inv.sweep_expired_holds(actor=c), optional=True),
    CodeCase("open actor", lambda inv, c: stockkit.open("memory://", actor=c, autoload_plugins=False),
             optional=True),
]


@pytest.mark.parametrize("case", CODE_CASES, ids=lambda case: case.name)
@BAD_INPUT_SETTINGS
@given(data=st.data())
def test_a_bad_code_is_refused_and_changes_nothing(shop: Shop, case: CodeCase, data: st.DataObject) -> None:
    strategy = bad_codes().filter(lambda v: v is not None) if case.optional else bad_codes()
    value = data.draw(strategy, label="bad code")
    refused_without_change(shop, lambda inv: case.call(inv, value), InvalidCode)


# -- dates, times and durations ----------------------------------------------------------------


def _not_a_valid_age(value: object) -> bool:
    # prune_ledger takes an age (a timedelta of zero or more) or an aware cutoff time
    return not (isinstance(value, dt.timedelta) and value >= dt.timedelta(0))


@attrs.frozen
class DateCase:
    """An operation fed a bad date, time or duration drawn from ``values``."""

    name: str
    call: Callable[[stockkit.Inventory, object], object]
    values: st.SearchStrategy[object]
    expected: type[StockkitError] = InvalidDate


_times = bad_datetimes().filter(lambda v: v is not None)
_too_long_holds = st.sampled_from([dt.timedelta(days=367), dt.timedelta(days=10**6), dt.timedelta.max])

DATE_CASES = [
    DateCase("add_replenishment expected_on", lambda inv, d: inv.add_replenishment("TEE", "ber", 1, d), bad_dates()),
    DateCase("hold ttl", lambda inv, d: inv.hold("h2", "web", [("TEE", 1)], ttl=d),
             st.one_of(bad_durations(), _too_long_holds), expected=ValidationError),
    DateCase("prune_ledger older_than", lambda inv, d: inv.prune_ledger(d),
             st.one_of(bad_durations(), bad_datetimes()).filter(_not_a_valid_age), expected=ValidationError),
    DateCase("ledger since", lambda inv, d: inv.ledger(since=d), _times),
    DateCase("ledger until", lambda inv, d: inv.ledger(until=d), _times),
    DateCase("create_product display_date", lambda inv, d: inv.create_product("cap", "Cap", display_date=d), _times),
    DateCase("create_product expiration_date",
             lambda inv, d: inv.create_product("cap", "Cap", expiration_date=d), _times),
    DateCase("update_product display_date", lambda inv, d: inv.update_product("tee", display_date=d), _times),
]


@pytest.mark.parametrize("case", DATE_CASES, ids=lambda case: case.name)
@BAD_INPUT_SETTINGS
@given(data=st.data())
def test_a_bad_date_or_duration_is_refused_and_changes_nothing(
    shop: Shop, case: DateCase, data: st.DataObject
) -> None:
    value = data.draw(case.values, label="bad date or duration")
    refused_without_change(shop, lambda inv: case.call(inv, value), case.expected)


def test_the_extreme_times_a_time_zone_allows_are_stored_and_read_back(inv: stockkit.Inventory) -> None:
    """The first and last aware times and dates are valid: every backend reads with them
    and stores them as given."""
    first = dt.datetime.min.replace(tzinfo=dt.UTC)
    last = dt.datetime.max.replace(tzinfo=dt.UTC)
    inv.create_warehouse("ams", "Amsterdam")
    inv.set_level("TEE", "ams", on_hand=1)
    assert inv.ledger(since=first, until=last) == inv.ledger()
    assert inv.ledger(since=last) == [] and inv.ledger(until=first) == []
    assert inv.prune_ledger(first) == 0
    for day in (dt.date.min, dt.date.max):
        inv.add_replenishment("TEE", "ams", 1, day, replenishment_id=f"r-{day.year}")
    assert [r.expected_on for r in inv.replenishments()] == [dt.date.min, dt.date.max]
    product = inv.create_product("tee", "T-shirt", display_date=first, expiration_date=last)
    assert inv.get_product("tee") == product
    assert (product.display_date, product.expiration_date) == (first, last)
    assert inv.verify().ok


def test_the_largest_valid_quantities_are_booked_like_any_other(inv: stockkit.Inventory) -> None:
    """Every quantity up to MAX_QUANTITY is valid, so a line of more than 2**32 units is
    booked where the stock covers it, and refused with InsufficientStock where it does
    not; no smaller limit of an internal array may surface as InvalidQuantity."""
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.90, active=True)
    inv.create_channel("web", "Web shop")
    inv.link_warehouse("web", "ams")
    inv.set_level("BULK", "ams", on_hand=MAX_QUANTITY)
    inv.place_order("o1", "web", [("BULK", 2**33)])
    inv.place_order("o2", "web", [("BULK", MAX_QUANTITY - 2**33)])
    assert inv.level("BULK", "ams").booked == MAX_QUANTITY
    with pytest.raises(InsufficientStock):
        inv.place_order("o3", "web", [("BULK", MAX_QUANTITY)])
    assert inv.verify().ok


# -- codes that look like SQL ----------------------------------------------------------------


def test_codes_that_look_like_sql_are_plain_text(inv: stockkit.Inventory) -> None:
    """Quotes, comments, statements and ``LIKE`` wildcards in codes are stored, found and
    filtered on as plain text: nothing runs, nothing else matches."""
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.90, active=True)
    inv.create_channel("web", "Web shop")
    inv.link_warehouse("web", "ams")
    inv.set_level("PLAIN", "ams", on_hand=1)
    for n, code in enumerate(SQL_LIKE_CODES):
        inv.create_warehouse(code, "Tricky", latitude=1.0, longitude=float(n), active=True)
        inv.link_warehouse("web", code, priority=n + 1)
        inv.set_level(code, code, on_hand=n + 2)
        inv.place_order(code, "web", [(code, 1)], idempotency_key=code, actor=code)
    for n, code in enumerate(SQL_LIKE_CODES):
        assert inv.get_warehouse(code).code == code
        assert inv.level(code, code).on_hand == n + 2 and inv.level(code, code).booked == 1
        assert {e.sku for e in inv.ledger(code)} == {code}
        assert {e.warehouse for e in inv.ledger(warehouse=code)} == {code}
        assert [e.actor for e in inv.ledger(order_id=code)] == [code]
        found = [s.sku for s in inv.search_skus(code)]
        assert found == sorted(c for c in [*SQL_LIKE_CODES, "PLAIN"] if code.casefold() in c.casefold()), code
        with pytest.raises(StockkitError):
            inv.get_warehouse(code + "x")
    assert inv.level("PLAIN", "ams").on_hand == 1
    assert inv.verify().ok


# -- the strategies agree with stockkit's validation ------------------------------------------


@settings(max_examples=200, deadline=None)
@given(quantities())
def test_quantities_are_accepted(quantity: int) -> None:
    from stockkit.validation import check_quantity

    assert check_quantity(quantity) == quantity


@settings(max_examples=200, deadline=None)
@given(codes())
def test_codes_are_accepted_as_they_are(code: str) -> None:
    from stockkit.validation import check_code

    assert check_code(code) == code
    assert code.isprintable()


# The example deletes the warehouse it made, so the examples share the test's inventory.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=codes())
def test_a_warehouse_keeps_any_valid_code(inv: stockkit.Inventory, code: str) -> None:
    inv.create_warehouse(code, "Name")
    assert inv.get_warehouse(code).code == code
    inv.delete_warehouse(code)
    assert inv.warehouses() == []
