"""The engine's public surface: validation, kernel choice, explanations, the warm index."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import ALL_POLICIES, TOPOLOGIES, policy_for, random_case
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_oracle import assert_same

from stockkit.engine import (
    Fill,
    Policy,
    Reason,
    RouteOrder,
    ShipComplete,
    StockIndex,
    allocate_arrays,
    api,
    explain,
)
from stockkit.engine.api import available_kernels, choose_kernel
from stockkit.engine.inputs import check_inputs
from stockkit.errors import (
    InvalidArray,
    InvalidLocation,
    InvalidQuantity,
    ValidationError,
)
from stockkit.testing.allocation_oracle import allocate_oracle


def base() -> dict:
    return {
        "line_order": np.array([0, 0, 1]), "line_sku": np.array([0, 1, 0]), "line_quantity": np.array([1, 2, 3]),
        "line_channel": np.array([0, 0, 1]),
        "stock_warehouse": np.array([0, 1]), "stock_sku": np.array([0, 1]), "stock_available": np.array([5, 5]),
        "link_channel": np.array([0, 0, 1]), "link_warehouse": np.array([0, 1, 1]), "link_priority": np.array([0, 1, 0]),
    }


BAD = [
    ({"line_sku": np.array([0, 1])}, InvalidArray, "line_sku has 2 values, expected 3"),
    ({"line_sku": np.array([0.0, 1.0, 0.0])}, InvalidArray, "must hold integers"),
    ({"line_sku": np.array([[0, 1, 0]])}, InvalidArray, "one-dimensional"),
    ({"line_quantity": np.array([1, 0, 3])}, InvalidQuantity, "line_quantity holds 0"),
    ({"line_quantity": np.array([1, -2, 3])}, InvalidQuantity, "line_quantity holds -2"),
    ({"line_sku": np.array([0, 1, -1])}, InvalidArray, "not a SKU index"),
    ({"n_skus": 1}, InvalidArray, "n_skus=1 but an index 1 is used"),
    ({"link_warehouse": np.array([0, 1, -1])}, InvalidArray, "not a warehouse index"),
    ({"link_warehouse": np.array([0, 1, 7]), "n_warehouses": 3}, InvalidArray, "n_warehouses=3 but"),
    ({"stock_warehouse": np.array([0, 0]), "stock_sku": np.array([1, 1])}, InvalidArray, "twice"),
    # pairs spread too wide for a table of every pair are sorted instead
    ({"stock_warehouse": np.array([0, 5, 0]), "stock_sku": np.array([1, 0, 1]), "stock_available": np.array([1, 1, 1]),
      "n_warehouses": 10**6}, InvalidArray, "twice; give each pair once"),
    ({"link_warehouse": np.array([0, 0, 1]), "link_channel": np.array([0, 0, 1])}, InvalidArray, "twice"),
    ({"line_channel": np.array([0, 1, 1])}, InvalidArray, "lines of order 0 differ in line_channel"),
    ({"line_priority": np.array([0, 1, 0])}, InvalidArray, "lines of order 0 differ in line_priority"),
    ({"line_lat": np.array([1.0, 2.0, 3.0])}, InvalidArray, "line_lat and line_lon together"),
    ({"line_lat": np.array([1.0, np.nan, 3.0]), "line_lon": np.array([1.0, 2.0, 3.0])}, InvalidLocation, "NaN together"),
    ({"line_lat": np.array([95.0, 1.0, 1.0]), "line_lon": np.array([1.0, 1.0, 1.0])}, InvalidLocation, "latitudes"),
    ({"policy": Policy(route=RouteOrder.NEAREST)}, InvalidArray, "needs warehouse_lat"),
    ({"policy": Policy(route=RouteOrder.NEAREST), "warehouse_lat": np.array([1.0, np.nan]),
      "warehouse_lon": np.array([1.0, 2.0])}, InvalidLocation, "finite"),
    ({"sku_backorder": np.array([1, 0])}, InvalidArray, "sku_backorder must be a bool array"),
    ({"policy": "split"}, InvalidArray, "policy must be a stockkit.engine.Policy"),
    ({"kernel": "fast"}, InvalidArray, "kernel must be one of"),
    ({"threads": 0}, InvalidArray, "threads must be a whole number of at least 1"),
    ({"threads": True}, InvalidArray, "threads must be a whole number"),
    ({"threads": 1.5}, InvalidArray, "threads must be a whole number"),
    ({"kernel": "intervals", "policy": Policy(fill=Fill.ORDER)}, InvalidArray, "kernel='intervals' is exact only"),
]


@pytest.mark.parametrize(("change", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_arrays_are_refused_before_any_work(change: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")) as raised:
        allocate_arrays(**(base() | change))
    assert isinstance(raised.value, ValidationError)


def test_lines_of_one_order_must_share_the_ship_to_for_ship_complete() -> None:
    case = base() | {"line_lat": np.array([1.0, 2.0, 3.0]), "line_lon": np.array([1.0, 1.0, 1.0])}
    allocate_arrays(**case)  # each line its own ship-to is fine otherwise
    with pytest.raises(InvalidArray, match="differ in line_lat"):
        allocate_arrays(**case, policy=Policy(ship_complete=ShipComplete.PREFER))


def test_input_arrays_are_not_changed() -> None:
    case = base() | {"stock_available": np.array([-3, 5])}
    copies = {k: v.copy() for k, v in case.items()}
    allocate_arrays(**case, policy=Policy(fill=Fill.ORDER))
    assert all(np.array_equal(case[k], copies[k]) for k in case)


def test_any_integer_dtype_is_accepted_and_results_have_the_contract_dtypes() -> None:
    case = {k: v.astype(np.int32) if v.dtype.kind == "i" else v for k, v in base().items()}
    result = allocate_arrays(**case)
    assert [a.dtype for a in result] == [np.int64, np.int64, np.int64, bool, np.int64, np.uint8]


@pytest.mark.parametrize(("policy", "kernel"), [
    (Policy(), "intervals"),
    (Policy(fill=Fill.LINE), "intervals"),
    (Policy(split=False), "rounds"),
    (Policy(fill=Fill.ORDER), "intervals"),
    (Policy(ship_complete=ShipComplete.PREFER), "rounds"),
])
def test_auto_picks_intervals_only_where_they_are_exact(policy: Policy, kernel: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "PYTHON_UP_TO_LINES", 0)
    one_channel = {"line_channel": np.array([0, 0, 0])}
    inp = check_inputs(**(base() | one_channel | {"line_priority": None, "line_lat": None, "line_lon": None,
                                    "warehouse_lat": None, "warehouse_lon": None, "sku_backorder": None,
                                    "n_skus": None, "n_warehouses": None, "n_channels": None}), policy=policy)
    assert choose_kernel(inp, "numpy") == kernel


@pytest.mark.parametrize("probe", [False, True], ids=["all-lines", "first-lines-first"])
@pytest.mark.parametrize("table", [True, False], ids=["one-table", "class-by-class"])
def test_intervals_are_exact_unless_a_sku_has_lines_on_two_routes_sharing_a_warehouse(
        table: bool, probe: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from stockkit.engine import kernel_intervals

    if not table:
        monkeypatch.setattr(kernel_intervals, "PAIR_TABLE", 0)
    if probe:       # a clash among the first lines answers at once; else every line is looked at
        monkeypatch.setattr(kernel_intervals, "CLASH_PROBE", 3)
    for seed in range(60):
        rng = np.random.default_rng([seed, 17])
        case = random_case(rng, TOPOLOGIES[seed % len(TOPOLOGIES)], lines=int(rng.integers(1, 12)),
                           skus=int(rng.integers(1, 6)), channels=int(rng.integers(1, 4)))
        inp = check_inputs(**(case | {"line_lat": None, "line_lon": None, "warehouse_lat": None,
                                      "warehouse_lon": None}), policy=Policy())
        rc = kernel_intervals.route_classes(inp)
        # the definition: two lines of one SKU on different routes that share a warehouse
        cls = rc.channel_class[inp.line_channel].tolist()
        sku = inp.line_sku.tolist()
        clash = any(sku[i] == sku[j] and rc.conflict[cls[i], cls[j]]
                    for i in range(len(sku)) for j in range(len(sku)))
        assert kernel_intervals.intervals_exact(inp, rc) is (not clash), seed


@pytest.mark.parametrize("kernel", ["intervals", "events", "rounds"])
def test_candidate_records_too_many_to_pack_in_one_sort_key_are_sorted_alike(
        kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from stockkit.engine import kernel_intervals

    # no key packs: candidates, lines (by group, or by SKU for events) and records all
    # take np.lexsort
    monkeypatch.setattr(kernel_intervals, "PACK_BITS", 0)
    for seed in range(40):
        rng = np.random.default_rng([seed, 23])
        topology = "disjoint" if kernel == "intervals" else TOPOLOGIES[seed % 2]
        case = random_case(rng, topology, lines=int(rng.integers(1, 30)), skus=int(rng.integers(1, 5)))
        assert_same(allocate_oracle(**case), allocate_arrays(**case, kernel=kernel), (kernel, seed))


def test_intervals_with_fill_per_line_let_a_later_line_use_what_a_failed_line_left() -> None:
    # web: w0 then w1; the 3-unit line fails whole, the 1-unit line after it still fits
    case = {
        "line_order": np.array([0, 1, 2, 3]), "line_sku": np.array([0, 0, 0, 0]),
        "line_quantity": np.array([2, 3, 1, 2]), "line_channel": np.array([0, 0, 0, 0]),
        "stock_warehouse": np.array([0, 1]), "stock_sku": np.array([0, 0]), "stock_available": np.array([2, 2]),
        "link_channel": np.array([0, 0]), "link_warehouse": np.array([0, 1]), "link_priority": np.array([0, 1]),
    }
    policy = Policy(fill=Fill.LINE)
    result = allocate_arrays(**case, policy=policy, kernel="intervals")
    assert list(zip(result.record_line.tolist(), result.record_warehouse.tolist(), result.record_quantity.tolist())) \
        == [(0, 0, 2), (2, 1, 1)]
    assert result.line_reason.tolist() == [Reason.FILLED, Reason.SHORT, Reason.FILLED, Reason.SHORT]
    for a, b in zip(allocate_oracle(**case, policy=policy), result):
        assert np.array_equal(a, b)


def test_intervals_with_fill_per_order_give_a_failed_orders_stock_to_later_orders() -> None:
    # one SKU, 5 units at w0 then w1. Order 0 takes 2. Order 1 (lines of 2 and 4) cannot
    # have 6: its 4-unit line lacks at its turn (SHORT), the 2-unit line fits but fails
    # with its order. Order 2 then takes the 3 units order 1 would have taken.
    case = {
        "line_order": np.array([0, 1, 1, 2]), "line_sku": np.array([0, 0, 0, 0]),
        "line_quantity": np.array([2, 2, 4, 3]), "line_channel": np.array([0, 0, 0, 0]),
        "stock_warehouse": np.array([0, 1]), "stock_sku": np.array([0, 0]), "stock_available": np.array([3, 2]),
        "link_channel": np.array([0, 0]), "link_warehouse": np.array([0, 1]), "link_priority": np.array([0, 1]),
    }
    result = allocate_arrays(**case, policy=Policy(fill=Fill.ORDER), kernel="intervals")
    assert list(zip(result.record_line.tolist(), result.record_warehouse.tolist(), result.record_quantity.tolist())) \
        == [(0, 0, 2), (3, 0, 1), (3, 1, 2)]
    assert result.line_reason.tolist() == [Reason.FILLED, Reason.ORDER_INCOMPLETE, Reason.SHORT, Reason.FILLED]
    assert result.line_unfilled.tolist() == [0, 2, 4, 0]
    for a, b in zip(allocate_oracle(**case, policy=Policy(fill=Fill.ORDER)), result):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(("policy", "kernel"), [
    (Policy(), "events"),
    (Policy(fill=Fill.LINE), "events"),
    (Policy(fill=Fill.ORDER), "events"),
    (Policy(split=False), "rounds"),
    (Policy(ship_complete=ShipComplete.PREFER), "rounds"),
])
def test_overlapping_channels_that_rank_warehouses_differently_go_to_events_or_rounds(
        policy: Policy, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "PYTHON_UP_TO_LINES", 0)
    case = base() | {"link_channel": np.array([0, 0, 1, 1]), "link_warehouse": np.array([0, 1, 0, 1]),
                     "link_priority": np.array([0, 1, 1, 0])}
    inp = check_inputs(**(case | {"line_priority": None, "line_lat": None, "line_lon": None,
                                  "warehouse_lat": None, "warehouse_lon": None, "sku_backorder": None,
                                  "n_skus": None, "n_warehouses": None, "n_channels": None}), policy=policy)
    assert choose_kernel(inp, "numpy") == kernel
    with pytest.raises(InvalidArray):
        allocate_arrays(**case, policy=policy, kernel="intervals")
    if kernel == "rounds":
        with pytest.raises(InvalidArray, match="events"):
            allocate_arrays(**case, policy=policy, kernel="events")


def test_explain_walks_the_candidates_with_what_each_had_at_the_lines_turn() -> None:
    args = {
        "line_order": np.array([0, 1, 2]), "line_sku": np.array([0, 0, 0]), "line_quantity": np.array([4, 4, 4]),
        "line_channel": np.array([0, 0, 0]), "stock_warehouse": np.array([0, 1]), "stock_sku": np.array([0, 0]),
        "stock_available": np.array([3, 2]), "link_channel": np.array([0, 0]), "link_warehouse": np.array([0, 1]),
        "link_priority": np.array([0, 1]),
    }
    result = allocate_arrays(**args)
    first, second, third = (explain(i, result, **args) for i in range(3))
    assert [(c.warehouse, c.available, c.given) for c in first.candidates] == [(0, 3, 3), (1, 2, 1)]
    assert first.rule == "filled" and first.reason is Reason.FILLED
    assert [(c.warehouse, c.available, c.given) for c in second.candidates] == [(0, 0, 0), (1, 1, 1)]
    assert second.rule == "stock_ran_out" and second.unfilled == 3
    assert [c.available for c in third.candidates] == [0, 0] and third.unfilled == 4

    refused = allocate_arrays(**args, policy=Policy(fill=Fill.LINE))
    assert explain(1, refused, **args, policy=Policy(fill=Fill.LINE)).text.startswith("the warehouses could not")


def test_explain_names_back_orders_and_refused_orders() -> None:
    args = {
        "line_order": np.array([0, 0]), "line_sku": np.array([0, 1]), "line_quantity": np.array([2, 2]),
        "line_channel": np.array([0, 0]), "stock_warehouse": np.array([0]), "stock_sku": np.array([0]),
        "stock_available": np.array([5]), "link_channel": np.array([0]), "link_warehouse": np.array([0]),
        "link_priority": np.array([0]), "sku_backorder": np.array([False, True]),
    }
    result = allocate_arrays(**args)
    assert explain(1, result, **args).candidates[0].backordered == 2
    assert explain(1, result, **args).rule == "backordered"
    require = Policy(ship_complete=ShipComplete.REQUIRE)
    refused = allocate_arrays(**args, policy=require)
    assert explain(0, refused, **args, policy=require).rule == "ship_complete_refused"
    with pytest.raises(InvalidArray):
        explain(5, result, **args)


def test_explanations_agree_with_the_records_on_random_cases() -> None:
    for seed in range(60):
        rng = np.random.default_rng(seed)
        topology = TOPOLOGIES[seed % 4]
        case = random_case(rng, topology, lines=12)
        policy = policy_for(topology, ALL_POLICIES[seed % len(ALL_POLICIES)])
        result = allocate_arrays(**case, policy=policy)
        for line in range(12):
            why = explain(line, result, **case, policy=policy)
            own = result.record_line == line
            assert sum(c.given + c.backordered for c in why.candidates) == int(result.record_quantity[own].sum())
            assert all(0 <= c.given <= c.available for c in why.candidates)
            assert why.unfilled + sum(c.given + c.backordered for c in why.candidates) == why.quantity


def index_and_lines(case: dict) -> tuple[StockIndex, dict]:
    index = StockIndex(**{k: v for k, v in case.items() if not k.startswith("line_")})
    return index, {k: v for k, v in case.items() if k.startswith("line_")}


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from(TOPOLOGIES), st.sampled_from(ALL_POLICIES))
def test_the_warm_index_allocates_like_the_oracle(seed: int, topology: str, policy: Policy) -> None:
    case = random_case(np.random.default_rng(seed), topology, lines=10)
    policy = policy_for(topology, policy)
    index, lines = index_and_lines(case)
    want = allocate_oracle(**case, policy=policy)
    got = index.allocate(**lines, policy=policy)
    for a, b in zip(want, got):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from(TOPOLOGIES), st.sampled_from(ALL_POLICIES))
def test_orders_booked_one_by_one_on_the_index_get_what_one_wave_of_them_gets(
        seed: int, topology: str, policy: Policy) -> None:
    # orders are served one after another, so booking each in service order on the warm
    # index (records added after the build included) gives the oracle's wave result
    rng = np.random.default_rng(seed)
    case = random_case(rng, topology, lines=24)
    policy = policy_for(topology, policy)
    index, lines = index_and_lines(case)
    for _ in range(2):          # records the build did not have, as a delivery adds them
        sku, wh = int(rng.integers(0, index.n_skus)), int(rng.integers(0, index.n_warehouses))
        if not ((case["stock_sku"] == sku) & (case["stock_warehouse"] == wh)).any():
            units = int(rng.integers(1, 4))
            index.add_available(sku, wh, units)
            case["stock_sku"] = np.append(case["stock_sku"], sku)
            case["stock_warehouse"] = np.append(case["stock_warehouse"], wh)
            case["stock_available"] = np.append(case["stock_available"], units)
    want = allocate_oracle(**case, policy=policy)
    got_unfilled = np.zeros_like(want.line_unfilled)
    got_reason = np.zeros_like(want.line_reason)
    got_records = []
    served = sorted(set(zip(lines["line_priority"].tolist(), lines["line_order"].tolist())))
    for priority, order in served:
        members = np.flatnonzero((lines["line_order"] == order) & (lines["line_priority"] == priority))
        result = index.allocate(**{k: v[members] for k, v in lines.items()}, policy=policy, book=True)
        got_unfilled[members] = result.line_unfilled
        got_reason[members] = result.line_reason
        got_records += zip(members[result.record_line].tolist(), result.record_warehouse.tolist(),
                           result.record_quantity.tolist(), result.record_backorder.tolist())
    assert np.array_equal(got_unfilled, want.line_unfilled) and np.array_equal(got_reason, want.line_reason)
    assert sorted(got_records) == sorted(zip(want.record_line.tolist(), want.record_warehouse.tolist(),
                                             want.record_quantity.tolist(), want.record_backorder.tolist()))
    left = index.stock_arrays()
    for s, w, units in zip(left["stock_sku"].tolist(), left["stock_warehouse"].tolist(),
                           left["stock_available"].tolist()):
        taken = sum(q for line, wh, q, back in got_records if not back and wh == w and case["line_sku"][line] == s)
        given = case["stock_available"][(case["stock_sku"] == s) & (case["stock_warehouse"] == w)]
        assert units == int(given.sum()) - taken


def test_booking_on_the_index_takes_the_units_and_a_dry_run_does_not() -> None:
    case = base()
    index, _ = index_and_lines(case)
    index.allocate(line_sku=[0], line_quantity=[2], line_channel=[0])
    assert index.available(0, 0) == 5
    index.allocate(line_sku=[0], line_quantity=[2], line_channel=[0], book=True)
    assert index.available(0, 0) == 3
    # the next allocation sees the booked stock, like a second line of one wave would
    result = index.allocate(line_sku=[0, 0], line_quantity=[2, 2], line_order=[0, 1], line_channel=[0, 0])
    assert result.line_unfilled.tolist() == [0, 1]


def test_the_index_grows_and_changes_in_place() -> None:
    index, _ = index_and_lines(base())
    sku = index.add_skus(2)
    assert (sku, index.n_skus) == (2, 4)
    wh = index.add_warehouse(52.0, 4.0)
    index.set_links([0, 0, 0, 1], [0, 1, wh, 1], [0, 1, 2, 0])
    index.set_available(sku, wh, 7)
    index.add_available(sku, wh, -2)
    index.add_available(0, 1, 4)                       # a new record for a known SKU
    assert index.available(sku, wh) == 5 and index.available(0, 1) == 4
    result = index.allocate(line_sku=[sku], line_quantity=[6], line_channel=[0], book=True)
    assert result.record_warehouse.tolist() == [wh] and result.line_unfilled.tolist() == [1]
    index.set_backorder(sku, True)
    assert index.allocate(line_sku=[sku], line_quantity=[1], line_channel=[0]).record_backorder.tolist() == [True]
    arrays = index.stock_arrays()
    whole = allocate_arrays(line_order=[0], line_sku=[sku], line_quantity=[1], line_channel=[0],
                            link_channel=[0], link_warehouse=[wh], link_priority=[0], n_skus=index.n_skus, **arrays)
    assert whole.line_unfilled.tolist() == [1]          # the booking is in the exported stock


@pytest.mark.parametrize("route", [RouteOrder.PRIORITY, RouteOrder.NEAREST])
def test_the_index_folds_in_thousands_of_new_records_and_still_reads_the_right_ones(route: RouteOrder) -> None:
    # a few thousand records added after the build are folded into the sorted arrays
    # (compaction); what the index read of each SKU before must not outlive that
    skus, warehouses = 100, 50
    rng = np.random.default_rng(5)
    links = {"link_channel": np.zeros(warehouses, np.int64), "link_warehouse": np.arange(warehouses),
             "link_priority": rng.integers(0, 5, warehouses), "warehouse_lat": rng.uniform(-60, 60, warehouses),
             "warehouse_lon": rng.uniform(-170, 170, warehouses)}
    index = StockIndex(stock_warehouse=np.array([0, 1]), stock_sku=np.array([0, 0]), stock_available=np.array([2, 3]),
                       **links, n_skus=skus)
    policy = Policy(route=route)
    order = {"line_sku": [0, 7], "line_quantity": [4, 3], "line_channel": [0, 0], "line_lat": [48.8, 48.8],
             "line_lon": [2.3, 2.3]}
    index.allocate(**order, policy=policy)                       # reads SKUs 0 and 7 as built
    for s in range(skus):
        for w in range(warehouses):
            if (s, w) not in ((0, 0), (0, 1)):
                index.set_available(s, w, int(rng.integers(0, 3)))
    index.add_available(0, 1, 1)
    before = index.stock_arrays()
    got = index.allocate(**order, policy=policy, book=True)
    assert_same(allocate_arrays(line_order=[0, 0], **order, **before, **links, policy=policy, n_skus=skus), got)
    after = index.stock_arrays()
    taken = before["stock_available"].sum() - after["stock_available"].sum()
    assert taken == got.record_quantity.sum() > 0


def test_the_index_checks_what_it_is_given() -> None:
    index, _ = index_and_lines(base())
    with pytest.raises(InvalidArray, match="SKU index 9"):
        index.available(9, 0)
    with pytest.raises(InvalidQuantity):
        index.allocate(line_sku=[0], line_quantity=[0], line_channel=[0])
    with pytest.raises(InvalidArray, match="line_channel holds 5"):
        index.allocate(line_sku=[0], line_quantity=[1], line_channel=[5])
    with pytest.raises(InvalidArray, match="differ"):
        index.allocate(line_sku=[0, 0], line_quantity=[1, 1], line_channel=[0, 1])
    with pytest.raises(InvalidArray, match="twice"):
        index.set_links([0, 0], [1, 1], [0, 1])


def test_auto_takes_numba_for_the_general_case_when_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from stockkit.engine import kernel_numba

    inp = check_inputs(**(base() | {"line_priority": None, "line_lat": None, "line_lon": None,
                                    "warehouse_lat": None, "warehouse_lon": None, "sku_backorder": None,
                                    "n_skus": None, "n_warehouses": None, "n_channels": None}),
                       policy=Policy(split=False))
    monkeypatch.setattr(api, "PYTHON_UP_TO_LINES", 0)
    monkeypatch.setattr(kernel_numba, "available", lambda: False)
    assert choose_kernel(inp) == "rounds"
    with pytest.raises(InvalidArray, match=r"pip install 'stockkit\[numba\]'"):
        allocate_arrays(**base(), kernel="numba")
    monkeypatch.setattr(kernel_numba, "available", lambda: True)
    assert choose_kernel(inp) == "rounds"               # a small wave: numba would not pay
    monkeypatch.setattr(api, "NUMBA_FROM_LINES", 0)
    assert choose_kernel(inp) == "numba"
    assert choose_kernel(inp, "numpy") == "rounds"


def test_small_inputs_take_the_python_kernel_and_big_ones_the_arrays() -> None:
    def chosen(lines: int, kernel: str) -> str:
        case = {
            "line_order": np.arange(lines), "line_sku": np.zeros(lines, np.int64),
            "line_quantity": np.ones(lines, np.int64), "line_channel": np.zeros(lines, np.int64),
            "line_priority": None, "line_lat": None, "line_lon": None,
            "stock_warehouse": np.array([0]), "stock_sku": np.array([0]), "stock_available": np.array([5]),
            "link_channel": np.array([0]), "link_warehouse": np.array([0]), "link_priority": np.array([0]),
            "warehouse_lat": None, "warehouse_lon": None, "sku_backorder": None,
            "n_skus": None, "n_warehouses": None, "n_channels": None,
        }
        return choose_kernel(check_inputs(**case, policy=Policy()), kernel)

    small, big = api.PYTHON_UP_TO_LINES, api.PYTHON_UP_TO_LINES + 1
    assert chosen(small, "auto") == chosen(small, "numpy") == chosen(1, "auto") == "python"
    assert chosen(big, "auto") == chosen(big, "numpy") == "intervals"
    many = api.NUMBA_FROM_LINES
    assert chosen(many, "auto") == ("numba" if "numba" in available_kernels() else "intervals")
    assert chosen(small, "rounds") == "rounds" and chosen(big, "python") == "python"


@pytest.mark.parametrize("shape", ["in turn, one priority", "in turn, two priorities", "in turn, few priorities",
                                   "in turn, priorities far apart", "shuffled", "too wide to pack"])
def test_the_service_order_is_priority_then_order_then_input_position(shape: str) -> None:
    from stockkit.engine.kernel_intervals import service_order

    rng = np.random.default_rng(len(shape))
    n = 500
    order = np.sort(rng.integers(0, 200, n))
    priority = {"in turn, one priority": np.zeros(200, np.int64), "in turn, two priorities": rng.integers(3, 5, 200),
                "in turn, few priorities": rng.integers(0, 5, 200),
                "in turn, priorities far apart": rng.integers(0, 5, 200) * 2**40,
                "shuffled": rng.integers(0, 5, 200), "too wide to pack": rng.integers(0, 5, 200) * 2**40}[shape][order]
    if shape in ("shuffled", "too wide to pack"):
        shuffle = rng.permutation(n)
        order, priority = order[shuffle] * (2**30 if shape == "too wide to pack" else 1), priority[shuffle]
    inp = check_inputs(**(base() | {
        "line_order": order, "line_sku": np.zeros(n, np.int64), "line_quantity": np.ones(n, np.int64),
        "line_channel": np.zeros(n, np.int64), "line_priority": priority, "line_lat": None, "line_lon": None,
        "warehouse_lat": None, "warehouse_lon": None, "sku_backorder": None, "n_skus": None, "n_warehouses": None,
        "n_channels": None}), policy=Policy())
    np.testing.assert_array_equal(service_order(inp), np.lexsort((np.arange(n), order, priority)))


def test_auto_serves_sku_by_sku_unless_the_catalogue_dwarfs_the_wave(monkeypatch: pytest.MonkeyPatch) -> None:
    from stockkit.engine import kernel_numba

    monkeypatch.setattr(kernel_numba, "available", lambda: True)
    monkeypatch.setattr(api, "NUMBA_FROM_LINES", 100)

    def chosen(skus: int, policy: Policy = Policy()) -> str:
        case = base() | {"line_order": np.arange(100), "line_sku": np.arange(100) % 2,
                         "line_quantity": np.ones(100, np.int64), "line_channel": np.zeros(100, np.int64)}
        args = {"line_priority": None, "line_lat": None, "line_lon": None, "warehouse_lat": None,
                "warehouse_lon": None, "sku_backorder": None, "n_warehouses": None, "n_channels": None}
        return choose_kernel(check_inputs(**case, **args, n_skus=skus, policy=policy))

    assert chosen(api.BY_SKU_MAX_SKUS_PER_LINE * 100) == "numba"
    assert chosen(api.BY_SKU_MAX_SKUS_PER_LINE * 100 + 1) == "intervals"
    # order by order the catalogue does not count, and the loop beats the intervals
    assert chosen(api.BY_SKU_MAX_SKUS_PER_LINE * 100 + 1, Policy(fill=Fill.ORDER)) == "numba"
