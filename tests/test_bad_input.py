"""Bad quantities and bad codes, fed to every operation that takes one.

Each operation must refuse a bad quantity with ``InvalidQuantity`` and a bad code with
``InvalidCode``, and change nothing. The values come from the public strategies in
:mod:`stockkit.testing.strategies`; each operation is a test of its own.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stockkit
from stockkit import OrderLine
from stockkit.errors import InvalidCode, InvalidQuantity, StockkitError, ValidationError
from stockkit.testing import FakeClock
from stockkit.testing.strategies import bad_codes, bad_quantities, codes, quantities
from stockkit.validation import MAX_QUANTITY

BAD_INPUT_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
TODAY = dt.date(2024, 1, 20)


def make_inventory() -> stockkit.Inventory:
    """Two active warehouses on channel ``web``, stock of ``TEE`` at both, a confirmed
    order ``o1`` (2 x TEE, one shipped as ``s1``), a hold ``h1``, a transfer ``t1`` in
    transit and an open replenishment ``r1``."""
    inv = stockkit.open("memory://", clock=FakeClock(), autoload_plugins=False)
    inv.create_warehouse("ams", "Amsterdam", latitude=52.37, longitude=4.90, active=True)
    inv.create_warehouse("ber", "Berlin", latitude=52.52, longitude=13.40, active=True)
    inv.create_channel("web", "Web shop")
    inv.link_warehouse("web", "ams", priority=1)
    inv.link_warehouse("web", "ber", priority=2)
    inv.create_product("tee", "T-shirt", status="approved")
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
    """Everything the inventory shows."""
    return (
        inv.search_skus(""),
        inv.ledger(),
        inv.bookings(include_expired=True),
        inv.replenishments(open_only=False),
        inv.transfers(),
        inv.shipments(),
        inv.warehouses(),
        inv.channels(),
        inv.channel_links("web"),
        inv.products(),
        inv.skus(),
        inv.get_order("o1"),
        inv.get_order("h1"),
    )


def refused_without_change(
    call: Callable[[stockkit.Inventory], object], expected: type[StockkitError]
) -> None:
    inv = make_inventory()
    before = snapshot(inv)
    with pytest.raises(expected):
        call(inv)
    assert snapshot(inv) == before, "the refused call changed the inventory"


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
def test_a_bad_quantity_is_refused_and_changes_nothing(case: QuantityCase, data: st.DataObject) -> None:
    value = data.draw(bad_quantities().filter(lambda v: not case.valid(v)), label="bad quantity")
    refused_without_change(lambda inv: case.call(inv, value), case.expected(value))


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
def test_a_bad_code_is_refused_and_changes_nothing(case: CodeCase, data: st.DataObject) -> None:
    strategy = bad_codes().filter(lambda v: v is not None) if case.optional else bad_codes()
    value = data.draw(strategy, label="bad code")
    refused_without_change(lambda inv: case.call(inv, value), InvalidCode)


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


@settings(max_examples=50, deadline=None)
@given(code=codes())
def test_a_warehouse_keeps_any_valid_code(code: str) -> None:
    inv = stockkit.open("memory://", clock=FakeClock(), autoload_plugins=False)
    inv.create_warehouse(code, "Name")
    assert inv.get_warehouse(code).code == code
