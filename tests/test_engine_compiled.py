"""The compiled kernels (numba extra): which loop serves which policy, the service order
the SKU-by-SKU loop derives, and records beyond its first guess of room, each against the
oracle. The seeded sweeps of test_engine_oracle run both loops on every policy."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import LINE_FIELDS, in_turn, policy_for, random_case
from test_engine_oracle import assert_same

from stockkit.engine import Fill, Policy, RouteOrder, ShipComplete, allocate_arrays
from stockkit.engine import kernel_numba
from stockkit.engine import threads as engine_threads
from stockkit.engine.inputs import check_inputs
from stockkit.testing.allocation_oracle import allocate_oracle

pytestmark = pytest.mark.skipif(not kernel_numba.available(), reason="numba is not installed (the numba extra)")


def _inputs(case: dict, policy: Policy):
    return check_inputs(**{**case, "policy": policy})


def _served_by(case: dict, policy: Policy, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which compiled loop ``kernel="numba"`` ran; the result checked against the oracle."""
    served: list[str] = []
    by_sku, by_order = kernel_numba.allocate_by_sku, kernel_numba.allocate_compiled
    monkeypatch.setattr(kernel_numba, "allocate_by_sku", lambda *a: served.append("sku") or by_sku(*a))
    monkeypatch.setattr(kernel_numba, "allocate_compiled", lambda *a: served.append("order") or by_order(*a))
    assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="numba"))
    return served


@pytest.mark.parametrize("policy, loop", [
    (Policy(), "sku"),
    (Policy(fill=Fill.LINE, split=False), "sku"),
    (Policy(route=RouteOrder.NEAREST, fill=Fill.LINE), "sku"),
    (Policy(fill=Fill.ORDER), "order"),
    (Policy(ship_complete=ShipComplete.PREFER), "order"),
    (Policy(route=RouteOrder.NEAREST, ship_complete=ShipComplete.REQUIRE), "order"),
])
def test_skus_are_served_one_after_another_unless_a_rule_spans_the_order(
        policy: Policy, loop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = random_case(np.random.default_rng(7), "nearest", lines=120, skus=6, warehouses=6, channels=3)
    assert kernel_numba.by_sku_applies(_inputs(case, policy)) is (loop == "sku")
    assert _served_by(case, policy, monkeypatch) == [loop]


def _variant(case: dict, lines: np.ndarray, order_scale: int, order_priority: np.ndarray) -> dict:
    """``case`` with its lines in the order ``lines`` gives, order numbers times
    ``order_scale`` and each order's priority from ``order_priority``."""
    variant = {**case, **{name: case[name][lines] for name in LINE_FIELDS if case.get(name) is not None}}
    variant["line_priority"] = order_priority[variant["line_order"]]
    variant["line_order"] = variant["line_order"] * order_scale
    return variant


def test_the_service_order_is_derived_the_cheapest_way_that_is_exact() -> None:
    rng = np.random.default_rng(11)
    case = random_case(rng, "overlapping", lines=200, skus=5, warehouses=6, channels=3, backorder_share=0.5)
    n, orders = case["line_order"].size, int(case["line_order"].max()) + 1
    by_order, shuffled = np.argsort(case["line_order"], kind="stable"), np.arange(n)
    few = rng.integers(0, 4, orders)
    variants = {
        "in service order": (by_order, 1, np.zeros(orders, np.int64)),
        "orders in turn, a few priorities": (by_order, 1, few),
        "orders in turn, many priorities": (by_order, 1, rng.integers(0, n, orders)),
        "orders shuffled": (shuffled, 1, few),
        "priorities far apart": (by_order, 1, few * 2**40),
        "too wide to pack": (shuffled, 2**30, few * 2**40),
    }
    for name, (lines, scale, priority) in variants.items():
        variant = _variant(case, lines, scale, priority)
        seq, prio, low, n_prio = kernel_numba._service_order(_inputs(variant, Policy()))
        want = np.lexsort((np.arange(n), variant["line_order"], variant["line_priority"]))
        if name == "in service order":
            assert seq.size == prio.size == 0 and (want == np.arange(n)).all()
        elif name == "orders in turn, a few priorities":
            # bucketed by (SKU, priority) at once, the priorities from the lowest
            assert seq.size == 0 and low == prio.min() and prio.max() - low < n_prio <= 4
            np.testing.assert_array_equal(np.argsort(prio, kind="stable"), want)
        else:
            np.testing.assert_array_equal(seq, want, err_msg=name)
        for policy in (Policy(), Policy(fill=Fill.LINE, split=False)):
            assert_same(allocate_oracle(**variant, policy=policy),
                        allocate_arrays(**variant, policy=policy, kernel="numba"), (name, policy))


@pytest.mark.parametrize("policy", [Policy(), Policy(fill=Fill.ORDER)])
def test_lines_splitting_over_many_warehouses_outgrow_the_first_guess_of_room(policy: Policy) -> None:
    # two lines of 300 units over 100 warehouses of 3 each: 200 records, where the loops
    # first make room for about one a line
    w = 100
    case = {
        "line_order": np.array([0, 1]), "line_sku": np.array([0, 0]), "line_quantity": np.array([150, 150]),
        "line_channel": np.array([0, 0]),
        "stock_warehouse": np.arange(w), "stock_sku": np.zeros(w, np.int64), "stock_available": np.full(w, 3),
        "link_channel": np.zeros(w, np.int64), "link_warehouse": np.arange(w), "link_priority": np.arange(w),
    }
    result = allocate_arrays(**case, policy=policy, kernel="numba")
    assert result.record_line.size == w
    assert_same(allocate_oracle(**case, policy=policy), result)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("n_keys", [7, kernel_numba.COUNTING_KEYS, kernel_numba.COUNTING_KEYS * 4 + 3])
def test_bucketing_keeps_each_keys_items_in_their_order(n_keys: int, threads: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # one count per key while the keys are few, digit by digit (a radix sort) beyond;
    # in chunks side by side, each chunk's items of a key after the chunk before's
    monkeypatch.setattr(engine_threads, "PARALLEL_FROM_LINES", 0)
    rng = np.random.default_rng(n_keys)
    keys = rng.integers(0, n_keys, 5_000)
    keys[:50] = n_keys - 1
    order = rng.permutation(keys.size)[:4_000]
    for items, ordered in ((np.arange(keys.size), False), (order, True)):
        work = np.empty((4, items.size), np.int64)
        # bits above the key's ride along untouched and never sway the order
        bits = max(int(n_keys - 1).bit_length(), 1)
        carried = keys | (rng.integers(0, 2**20, keys.size) << bits)
        ptr, home = kernel_numba._counting_sort(carried, n_keys, items if ordered else np.zeros(0, np.int64),
                                                ordered, work, threads)
        np.testing.assert_array_equal(work[home], items[np.argsort(keys[items], kind="stable")])
        np.testing.assert_array_equal(work[home + 1], carried[work[home]])
        np.testing.assert_array_equal(ptr, np.concatenate(([0], np.cumsum(np.bincount(keys[items], minlength=n_keys)))))


@pytest.mark.parametrize("topology", ["disjoint", "overlapping", "nearest"])
@pytest.mark.parametrize("policy", [Policy(), Policy(fill=Fill.LINE, split=False), Policy(fill=Fill.ORDER),
                                    Policy(ship_complete=ShipComplete.PREFER)], ids=repr)
def test_threads_split_the_work_and_give_the_same_result(topology: str, policy: Policy,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # SKU by SKU, runs of SKUs are served side by side; order by order only the result is
    # put back in line order in chunks; either way the result is the sequential one
    # (small waves are cut into chunks here; they run on one thread by default)
    monkeypatch.setattr(engine_threads, "PARALLEL_FROM_LINES", 0)
    rng = np.random.default_rng(17)
    for case in (random_case(rng, topology, lines=300, skus=9, warehouses=6, channels=3, backorder_share=0.3),
                 in_turn(random_case(rng, topology, lines=300, skus=9, warehouses=6, channels=3))):
        expected = allocate_oracle(**case, policy=policy_for(topology, policy))
        for threads in (1, 2, 3, 8):
            assert_same(expected, allocate_arrays(**case, policy=policy_for(topology, policy), kernel="numba",
                                                  threads=threads))


def test_a_part_that_runs_out_of_room_is_served_again_with_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    # the first run of SKUs gives a record a line; in the second every line takes a unit
    # from each of 40 warehouses: that part's records overflow their first guess of room
    # many times over, and the whole wave is served again with more
    monkeypatch.setattr(engine_threads, "PARALLEL_FROM_LINES", 0)
    w, spread = 40, 1_000
    sku = np.concatenate([np.zeros(spread, np.int64), np.arange(1, spread + 1)])
    case = {
        "line_order": np.arange(sku.size), "line_sku": sku, "line_quantity": np.where(sku == 0, 1, w),
        "line_channel": np.zeros(sku.size, np.int64),
        "stock_warehouse": np.concatenate([[0], np.tile(np.arange(w), spread)]),
        "stock_sku": np.concatenate([[0], np.repeat(np.arange(1, spread + 1), w)]),
        "stock_available": np.concatenate([[spread], np.ones(w * spread, np.int64)]),
        "link_channel": np.zeros(w, np.int64), "link_warehouse": np.arange(w), "link_priority": np.arange(w),
    }
    expected = allocate_oracle(**case)
    assert expected.record_line.size == spread * (w + 1)
    for threads in (1, 2):
        assert_same(expected, allocate_arrays(**case, kernel="numba", threads=threads))


def test_a_catalogue_of_a_million_skus_is_bucketed_digit_by_digit() -> None:
    rng = np.random.default_rng(3)
    case = random_case(rng, "overlapping", lines=300, skus=4, warehouses=5, channels=3)
    skus = 1_000_000            # more SKUs than one count per key allows
    spread = rng.choice(skus, 4, replace=False)
    case = {**case, "line_sku": spread[case["line_sku"]], "stock_sku": spread[case["stock_sku"]], "n_skus": skus,
            "sku_backorder": np.zeros(skus, bool)}
    for policy in (Policy(), Policy(fill=Fill.LINE)):
        assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="numba"))


@pytest.mark.parametrize("scale", [1, 2**40])
def test_quantities_ride_along_with_the_sort_key_only_where_they_fit(scale: int) -> None:
    # orders in turn, one priority: the lines are bucketed by SKU alone, and with a
    # million SKUs the key takes 20 bits; units of 2**40 and more no longer fit beside it
    # in 63 bits, and are read line by line instead
    rng = np.random.default_rng(11)
    case = random_case(rng, "overlapping", lines=60, skus=5, warehouses=4, channels=3)
    case = in_turn(case) | {"line_priority": np.zeros(60, np.int64)}
    skus = 1_000_000
    spread = rng.choice(skus, 5, replace=False)
    case = {**case, "line_sku": spread[case["line_sku"]], "stock_sku": spread[case["stock_sku"]], "n_skus": skus,
            "sku_backorder": np.zeros(skus, bool), "line_quantity": case["line_quantity"] * scale + (scale > 1),
            "stock_available": case["stock_available"] * scale}
    for policy in (Policy(), Policy(fill=Fill.LINE), Policy(split=False)):
        assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="numba"))


def test_a_quantity_too_wide_to_ride_along_is_read_line_by_line_when_priorities_bucket_too() -> None:
    # orders in turn, two priorities, 1,000 SKUs: the lines are bucketed by (SKU,
    # priority); one line of 2**51 units leaves no room beside that key, so quantities
    # and classes are read line by line after the sort
    rng = np.random.default_rng(5)
    case = in_turn(random_case(rng, "overlapping", lines=600, skus=7, warehouses=4, channels=3))
    orders = int(case["line_order"].max()) + 1
    skus = 1_000
    spread = rng.choice(skus, 7, replace=False)
    quantity = np.ones(600, np.int64)
    quantity[rng.integers(0, 600)] = 2**51
    case = case | {"line_sku": spread[case["line_sku"]], "stock_sku": spread[case["stock_sku"]], "n_skus": skus,
                   "sku_backorder": np.zeros(skus, bool), "line_quantity": quantity,
                   "line_priority": rng.integers(0, 2, orders)[case["line_order"]]}
    seq, prio, _low, n_prio = kernel_numba._service_order(_inputs(case, Policy()))
    assert seq.size == 0 and prio.size == 600 and n_prio == 2
    for policy in (Policy(), Policy(fill=Fill.LINE)):
        assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="numba"))
