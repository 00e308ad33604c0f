"""Placing a wave of orders with the allocation engine: one transaction, first come first
served, explainable, with a dry run; on every backend.

The ``stocked`` fixture (conftest): channel ``web`` draws on ams (priority 1), ber (2) and
par (3); TEE-M has 10 / 5 (safety 1, so 4 available) / 3 and MUG 4 at ams.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import unchanged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stockkit
from stockkit.engine import Fill, Policy, Reason, RouteOrder, ShipComplete
from stockkit.errors import (
    DuplicateCode,
    InsufficientStock,
    UnknownChannel,
    UnknownOrder,
    ValidationError,
)
from stockkit.model import OrderLine
from stockkit.planning import OrderRequest, Topology, plan_wave, replan
from stockkit.testing import FakeClock


def bookings_of(inv: stockkit.Inventory) -> list[tuple[str, str, str, int]]:
    return sorted((b.order_id, b.line_id, b.warehouse, b.quantity) for b in inv.bookings())


def test_a_wave_is_served_first_come_first_served_in_one_call(stocked):
    wave = stocked.place_orders([
        ("o1", "web", [("TEE-M", 12)]),
        ("o2", "web", [("TEE-M", 6), ("MUG", 1)]),   # only 5 TEE-M left: refused whole
        ("o3", "web", [("TEE-M", 5), ("MUG", 4)]),
    ])

    assert [o.order_id for o in wave.placed] == ["o1", "o3"]
    assert [o.order_id for o in wave.refused] == ["o2"]
    assert wave.order("o1").line("1").taken == (("ams", 10), ("ber", 2))
    assert wave.order("o3").line("1").taken == (("ber", 2), ("par", 3))
    assert wave.order("o2").line("1").reason is Reason.SHORT
    assert wave.order("o2").line("2").reason is Reason.ORDER_INCOMPLETE
    assert bookings_of(stocked) == [
        ("o1", "1", "ams", 10), ("o1", "1", "ber", 2),
        ("o3", "1", "ber", 2), ("o3", "1", "par", 3), ("o3", "2", "ams", 4),
    ]
    assert stocked.available("TEE-M") == 0
    assert stocked.verify().ok
    with pytest.raises(UnknownOrder):
        stocked.get_order("o2")


def test_priority_serves_urgent_orders_first_whatever_their_place_in_the_wave(stocked):
    wave = stocked.place_orders([
        OrderRequest("late", "web", (("MUG", 3),)),
        OrderRequest("urgent", "web", (("MUG", 3),), priority=-1),
    ])

    assert [o.order_id for o in wave.placed] == ["urgent"]
    assert wave.order("late").line("1").unfilled == 3


def test_nearest_first_serves_each_order_from_the_warehouse_closest_to_its_ship_to(stocked):
    paris, berlin = (48.80, 2.30), (52.50, 13.30)
    wave = stocked.place_orders(
        [OrderRequest("fr", "web", (("TEE-M", 2),), ship_to=paris),
         OrderRequest("de", "web", (("TEE-M", 2),), ship_to=berlin)],
        policy=Policy(route=RouteOrder.NEAREST, fill=Fill.ORDER),
    )

    assert wave.order("fr").line("1").taken == (("par", 2),)
    assert wave.order("de").line("1").taken == (("ber", 2),)
    explanation = wave.explain("fr", "1")
    assert [c.warehouse for c in explanation.candidates] == ["par", "ams", "ber"]


def test_partial_fill_places_every_order_with_what_stock_allows(stocked):
    wave = stocked.place_orders(
        [("o1", "web", [("MUG", 3)]), ("o2", "web", [("MUG", 3), ("TEE-M", 1)])],
        policy=Policy(fill=Fill.PARTIAL),
    )

    assert [o.order_id for o in wave.placed] == ["o1", "o2"]
    line = wave.order("o2").line("1")
    assert (line.taken, line.unfilled, line.reason) == ((("ams", 1),), 2, Reason.SHORT)
    assert stocked.get_order("o2").order.lines[0].quantity == 3
    assert stocked.available("MUG") == 0


def test_explain_gives_the_candidates_what_each_had_and_the_rule(stocked):
    wave = stocked.place_orders([("o1", "web", [("TEE-M", 12)]), ("o2", "web", [("TEE-M", 6)])])

    first = wave.explain("o1", "1")
    assert [(c.warehouse, c.had, c.gave) for c in first.candidates] == [("ams", 10, 10), ("ber", 4, 2), ("par", 3, 0)]
    assert first.rule == "filled from stock"
    second = wave.explain("o2", "1")
    assert [(c.warehouse, c.had, c.gave) for c in second.candidates] == [("ams", 0, 0), ("ber", 2, 0), ("par", 3, 0)]
    assert second.line.reason is Reason.SHORT
    assert "could not fill the whole line" in second.rule


def test_explain_shows_the_stock_a_warehouse_really_had(stocked):
    stocked.set_level("MUG", "ber", on_hand=1_000_000)
    wave = stocked.place_orders([("o1", "web", [("MUG", 6)])])

    assert [(c.warehouse, c.had, c.gave) for c in wave.explain("o1", "1").candidates] == [
        ("ams", 4, 4), ("ber", 1_000_000, 2), ("par", 0, 0),
    ]


def test_a_dry_run_returns_the_plan_and_books_nothing(stocked):
    orders = [("o1", "web", [("TEE-M", 12)]), ("o2", "web", [("MUG", 5)])]
    with unchanged(stocked):
        plan = stocked.place_orders(orders, dry_run=True)

    assert [o.order_id for o in plan.placed] == ["o1"]
    assert stocked.place_orders(orders) == plan


def test_a_repeated_wave_key_returns_the_first_plan_and_books_once(stocked):
    orders = [("o1", "web", [("TEE-M", 2)]), ("o2", "web", [("MUG", 1)])]
    first = stocked.place_orders(orders, idempotency_key="wave-1")
    again = stocked.place_orders(orders, idempotency_key="wave-1")

    assert again == first
    assert len(stocked.bookings()) == 2
    with pytest.raises(stockkit.errors.IdempotencyConflict):
        stocked.place_orders(orders[:1], idempotency_key="wave-1")


@pytest.mark.parametrize(
    ("orders", "error"),
    [
        ([("o1", "web", [("MUG", 1)]), ("o1", "web", [("MUG", 1)])], DuplicateCode),
        ([("o1", "nowhere", [("MUG", 1)])], UnknownChannel),
        ([("o1", "web", [("MUG", 0)])], ValidationError),
        ([], ValidationError),
        ("o1", ValidationError),
        ([OrderRequest("o1", "web", (("MUG", 1),), ship_to=(91.0, 0.0))], ValidationError),
    ],
)
def test_a_bad_wave_raises_and_books_nothing(stocked, orders, error):
    with unchanged(stocked), pytest.raises(error):
        stocked.place_orders(orders)


def test_an_order_id_placed_before_refuses_the_whole_wave(stocked):
    stocked.place_order("o1", "web", [("MUG", 1)])
    with unchanged(stocked), pytest.raises(DuplicateCode):
        stocked.place_orders([("o2", "web", [("MUG", 1)]), ("o1", "web", [("MUG", 1)])])


def test_the_store_adds_a_waves_orders_in_one_batch_or_none_of_them(inv, clock):
    # the port the wave books through: one read for the ids taken, one batch insert
    from stockkit.model import Order

    def order(i: str) -> Order:
        return Order(i, "web", (OrderLine("1", "TEE-M", 1),), clock())

    with inv.store.transaction() as tx:
        tx.insert_orders([order("a"), order("b")])
    with inv.store.transaction() as tx:
        assert tx.existing_orders(["a", "x", "b"]) == {"a", "b"}
        assert tx.existing_orders([]) == set()
        for batch in ([order("c"), order("a")], [order("d"), order("d")]):
            with pytest.raises(DuplicateCode, match="'a'|'d'"):
                tx.insert_orders(batch)
    with inv.store.transaction(write=False) as tx:
        assert tx.existing_orders(["a", "b", "c", "d"]) == {"a", "b"}
        assert tx.get_order("b") == order("b")


def test_a_policy_must_be_a_policy(stocked):
    with unchanged(stocked), pytest.raises(ValidationError):
        stocked.place_orders([("o1", "web", [("MUG", 1)])], policy="split")  # type: ignore[arg-type]


def test_orders_placed_one_after_another_are_planned_before_their_transaction(stocked):
    stocked.create_channel("shop", "Shop")
    stocked.link_warehouse("shop", "par")
    for n in range(3):  # channels in turn: what the planner saw of each stays valid
        stocked.place_order(f"w{n}", "web", [("TEE-M", 1)])
        stocked.place_orders([(f"s{n}", "shop", [("TEE-M", 1)])])

    assert stocked._planner.replans == 0
    assert stocked.available("TEE-M") == 11


@pytest.mark.sql_only  # two inventories share one store only on a database
def test_a_plan_made_from_stock_that_changed_meanwhile_is_made_again(stocked, store_url):
    stocked.place_orders([("warm", "web", [("MUG", 1)])])  # the planner has seen MUG's stock
    other = stockkit.open(store_url, autoload_plugins=False)
    try:
        other.adjust("MUG", "ams", -3, "damaged")  # behind the first inventory's back: no MUG left
    finally:
        other.close()

    with pytest.raises(InsufficientStock):
        stocked.place_order("o1", "web", [("MUG", 1)])
    wave = stocked.place_orders([("o2", "web", [("MUG", 1)])])
    assert wave.refused and stocked._planner.replans >= 1
    assert stocked.available("MUG") == 0


@pytest.mark.sql_only  # two inventories share one store only on a database
def test_a_wave_whose_stock_changed_meanwhile_plans_again_only_the_orders_it_affects(stocked, store_url):
    stocked.place_orders([("warm", "web", [("MUG", 1), ("TEE-M", 1)])])   # the planner has seen both
    other = stockkit.open(store_url, autoload_plugins=False)
    try:
        other.adjust("MUG", "ams", -3, "damaged")  # behind the first inventory's back: no MUG left
    finally:
        other.close()
    before = stocked._planner.replanned_orders
    wave = stocked.place_orders([("t1", "web", [("TEE-M", 2)]), ("m1", "web", [("MUG", 1)]),
                                 ("t2", "web", [("TEE-M", 1)])])
    assert stocked._planner.replanned_orders - before == 1          # m1 alone
    assert [o.order_id for o in wave.placed] == ["t1", "t2"] and [o.order_id for o in wave.refused] == ["m1"]
    assert stocked.available("TEE-M") == 13 and stocked.available("MUG") == 0


# -- the wave equals placing its orders one by one ---------------------------------------

SKUS = ["A", "B", "C"]
WAREHOUSES = ["w1", "w2", "w3"]

wave_orders = st.lists(
    st.tuples(
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=3),
        st.integers(-1, 1),
    ),
    min_size=1, max_size=8,
)
stock_levels = st.dictionaries(st.tuples(st.sampled_from(SKUS), st.sampled_from(WAREHOUSES)), st.integers(0, 8))


def levels_of(inv: stockkit.Inventory) -> list[tuple[str, str, int, int]]:
    return [(lv.sku, lv.warehouse, lv.on_hand, lv.booked) for s in inv.search_skus() for lv in s.levels]


def _shop(url: str, stock: dict[tuple[str, str], int]) -> stockkit.Inventory:
    inv = stockkit.open(url, clock=FakeClock(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)), autoload_plugins=False)
    for n, code in enumerate(WAREHOUSES):
        inv.create_warehouse(code, code, latitude=50.0 + n, longitude=5.0, active=True)
    inv.create_channel("web", "Web")
    for n, code in enumerate(WAREHOUSES):
        inv.link_warehouse("web", code, priority=(n * 7) % 3)
    for (sku, warehouse), units in sorted(stock.items()):
        inv.set_level(sku, warehouse, on_hand=units)
    return inv


# memory and SQLite; PostgreSQL shares the code path and runs the examples above
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=wave_orders, stock=stock_levels)
def test_a_wave_books_exactly_what_placing_its_orders_one_by_one_books(kind, tmp_path_factory, orders, stock):
    urls = ["memory://", "memory://"] if kind == "memory" else [
        f"sqlite:///{tmp_path_factory.mktemp('wave')}/{name}.db" for name in ("a", "b")
    ]
    wave_inv, loop_inv = _shop(urls[0], stock), _shop(urls[1], stock)
    try:
        requests = [OrderRequest(f"o{n}", "web", tuple(lines), priority=p) for n, (lines, p) in enumerate(orders)]
        wave = wave_inv.place_orders(requests)
        served = sorted(range(len(requests)), key=lambda n: (requests[n].priority, n))
        placed = []
        for n in served:
            try:
                loop_inv.place_order(requests[n].order_id, "web", requests[n].lines)
                placed.append(requests[n].order_id)
            except InsufficientStock:
                pass
        assert sorted(o.order_id for o in wave.placed) == sorted(placed)
        assert bookings_of(wave_inv) == bookings_of(loop_inv)
        assert levels_of(wave_inv) == levels_of(loop_inv)  # versions differ: one batch against many
        assert wave_inv.verify().ok
    finally:
        wave_inv.close()
        loop_inv.close()


_TOPOLOGY = Topology({"web": (("w1", 1), ("w2", 2)), "app": (("w2", 1), ("w3", 2))},
                     {"w1": (52.4, 4.9), "w2": (52.5, 13.4), "w3": (48.9, 2.4)})
_KEYS = [(sku, w) for sku in "abc" for w in ("w1", "w2", "w3")]


@st.composite
def _waves_and_changes(draw: st.DrawFn):
    orders = [
        OrderRequest(f"o{i}", draw(st.sampled_from(["web", "app"])),
                     tuple(OrderLine(str(j), draw(st.sampled_from("abc")), draw(st.integers(1, 4)))
                           for j in range(draw(st.integers(1, 3)))),
                     ship_to=(draw(st.floats(45, 55)), draw(st.floats(0, 15))), priority=draw(st.integers(0, 1)))
        for i in range(draw(st.integers(1, 12)))
    ]
    before = {key: draw(st.integers(0, 6)) for key in _KEYS}
    after = dict(before) | {key: draw(st.integers(0, 6)) for key in draw(st.lists(st.sampled_from(_KEYS), max_size=3))}
    back_before = frozenset(draw(st.sets(st.sampled_from("abc"), max_size=1)))
    back_after = frozenset(draw(st.sets(st.sampled_from("abc"), max_size=1)))
    policy = draw(st.sampled_from([Policy(), Policy(fill=Fill.ORDER), Policy(fill=Fill.LINE, split=False),
                                   Policy(route=RouteOrder.NEAREST), Policy(ship_complete=ShipComplete.PREFER)]))
    return orders, before, after, back_before, back_after, policy


@given(_waves_and_changes())
@settings(max_examples=200, deadline=None)
def test_a_forecast_replanned_for_the_orders_a_change_affects_is_the_whole_new_plan(case):
    orders, before, after, back_before, back_after, policy = case
    forecast = plan_wave(orders, _TOPOLOGY, before, policy, back_before)
    replanned, count = replan(forecast, after, back_after)
    assert replanned.orders == plan_wave(orders, _TOPOLOGY, after, policy, back_after).orders
    assert count <= len(orders)


def test_only_the_orders_a_stock_change_can_affect_are_planned_again():
    orders = [OrderRequest("o1", "web", (OrderLine("1", "a", 2),)),
              OrderRequest("o2", "web", (OrderLine("1", "b", 1), OrderLine("2", "c", 1))),
              OrderRequest("o3", "app", (OrderLine("1", "c", 3),)),
              OrderRequest("o4", "app", (OrderLine("1", "a", 1),))]
    before = dict.fromkeys(_KEYS, 2)
    forecast = plan_wave(orders, _TOPOLOGY, before, Policy(fill=Fill.ORDER))
    # b changed: o2 draws on b, and o3 shares c with o2; o1 and o4 (only a) keep their plans
    replanned, count = replan(forecast, before | {("b", "w1"): 0}, frozenset())
    assert count == 2
    assert [o.order_id for o in replanned.placed] == ["o1", "o2", "o3", "o4"]
    assert replanned.order("o2").line("1").taken == (("w2", 1),)


def test_a_stock_level_that_is_gone_counts_as_a_change():
    orders = [OrderRequest("o1", "web", (OrderLine("1", "a", 3),))]
    forecast = plan_wave(orders, _TOPOLOGY, {("a", "w1"): 3, ("a", "w2"): 0}, Policy())
    replanned, count = replan(forecast, {("a", "w2"): 0}, frozenset())
    assert count == 1 and replanned.order("o1").line("1").taken == ()
