"""The event kernel with fill per order: orders decided whole over event passes, exactly as
the oracle decides them, on channels that rank shared warehouses differently."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import random_case
from test_engine_oracle import assert_same, check_short_waves

from stockkit.engine import Fill, Policy, Reason, allocate_arrays
from stockkit.engine import api, kernel_events
from stockkit.engine.inputs import check_inputs
from stockkit.testing.allocation_oracle import allocate_oracle

ORDER = Policy(fill=Fill.ORDER)


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What each call of ``whole_orders`` returned (None past its round budget)."""
    seen: list[object] = []
    decide = kernel_events.whole_orders

    def spy(*args):
        seen.append(decide(*args))
        return seen[-1]

    monkeypatch.setattr(kernel_events, "whole_orders", spy)
    return seen


def two_routes(lines: list[tuple[int, int, int, int]], stock: dict[tuple[int, int], int],
               backorder: tuple[int, ...] = ()) -> dict:
    """Lines (order, SKU, quantity, channel); channel 0 ranks warehouse 0 first, channel 1
    warehouse 1; channel 2 has no warehouse."""
    order, sku, qty, channel = (np.array(column, np.int64) for column in zip(*lines))
    n_skus = int(sku.max()) + 1
    return {"line_order": order, "line_sku": sku, "line_quantity": qty, "line_channel": channel,
            "stock_warehouse": np.array([w for _, w in stock]), "stock_sku": np.array([s for s, _ in stock]),
            "stock_available": np.array(list(stock.values())), "link_channel": np.array([0, 0, 1, 1]),
            "link_warehouse": np.array([0, 1, 0, 1]), "link_priority": np.array([0, 1, 1, 0]),
            "sku_backorder": np.isin(np.arange(n_skus), backorder), "n_channels": 3}


@pytest.mark.parametrize("shared_columns", [0, 4])
def test_orders_are_decided_whole_exactly_on_overlapping_waves(
        shared_columns: int, decisions: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    # seeded waves of thousands of lines that run short, a fifth of the SKUs back-orderable
    monkeypatch.setattr(kernel_events, "SHARED_COLUMNS", shared_columns)
    check_short_waves("overlapping", Fill.ORDER, "events", warehouses=9, channels=3)
    assert len(decisions) == 4 and all(d is not None for d in decisions)


def test_small_overlapping_waves_match_the_oracle(decisions: list[object]) -> None:
    for seed in range(300):
        rng = np.random.default_rng([seed, 7])
        case = random_case(rng, "overlapping", lines=int(rng.integers(1, 150)), skus=int(rng.integers(1, 6)),
                           warehouses=int(rng.integers(1, 7)), channels=int(rng.integers(1, 5)),
                           stock_scale=int(rng.integers(1, 4)))
        assert_same(allocate_oracle(**case, policy=ORDER), allocate_arrays(**case, policy=ORDER, kernel="events"),
                    seed)
    assert len(decisions) == 300


def test_numpy_and_auto_without_numba_pick_events_for_fill_per_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "PYTHON_UP_TO_LINES", 0)
    monkeypatch.setattr(api.kernel_numba, "available", lambda: False)
    case = two_routes([(0, 0, 1, 0), (1, 0, 1, 1)], {(0, 0): 1})
    inp = check_inputs(**(case | {"line_priority": None, "line_lat": None, "line_lon": None, "warehouse_lat": None,
                                  "warehouse_lon": None, "n_skus": None, "n_warehouses": None}), policy=ORDER)
    assert api.choose_kernel(inp, "numpy") == api.choose_kernel(inp, "auto") == "events"


def test_an_orders_lines_of_one_sku_see_each_other(decisions: list[object]) -> None:
    # order 0's first line fits, its second does not once the first took its units: the
    # order fails (the first line with it, the second short) and order 1 gets the stock
    case = two_routes([(0, 0, 2, 0), (0, 0, 2, 0), (1, 0, 3, 1)], {(0, 0): 2, (0, 1): 1})
    result = allocate_arrays(**case, policy=ORDER, kernel="events")
    assert result.line_reason.tolist() == [Reason.ORDER_INCOMPLETE, Reason.SHORT, Reason.FILLED]
    assert result.line_unfilled.tolist() == [2, 2, 0]
    assert list(zip(result.record_line.tolist(), result.record_warehouse.tolist(),
                    result.record_quantity.tolist())) == [(2, 1, 1), (2, 0, 2)]
    assert_same(allocate_oracle(**case, policy=ORDER), result)
    assert decisions and decisions[-1] is not None


def test_back_orderable_lines_never_stop_an_order(decisions: list[object]) -> None:
    # SKU 1 may back order: order 0 is filled with a back order, order 1 fails on SKU 0 and
    # its SKU 1 line takes nothing and is refused with it, order 2 is all back order; a
    # line without warehouse (channel 2) fails its order too
    case = two_routes([(0, 0, 1, 0), (0, 1, 5, 0), (1, 0, 2, 1), (1, 1, 1, 1), (2, 1, 1, 1), (3, 1, 1, 2),
                       (3, 0, 1, 2)], {(0, 0): 2, (1, 1): 3}, backorder=(1,))
    result = allocate_arrays(**case, policy=ORDER, kernel="events")
    assert result.line_reason.tolist() == [Reason.FILLED, Reason.BACKORDERED, Reason.SHORT,
                                           Reason.ORDER_INCOMPLETE, Reason.BACKORDERED, Reason.NO_WAREHOUSE,
                                           Reason.NO_WAREHOUSE]
    assert result.line_unfilled.tolist() == [0, 0, 2, 1, 0, 1, 1]
    assert_same(allocate_oracle(**case, policy=ORDER), result)
    assert decisions and decisions[-1] is not None


def test_an_order_behind_an_open_one_is_refused_by_the_optimistic_pass(
        decisions: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    # order 0 is filled in the first round; order 1 comes after it in SKU 0, so the
    # pessimistic pass alone cannot refuse it then, but even with only order 0 served its
    # line finds nothing: the optimistic pass refuses it in the same, single round
    monkeypatch.setattr(kernel_events, "ORDER_ROUNDS", 1)
    case = two_routes([(0, 0, 1, 0), (0, 1, 1, 0), (1, 0, 1, 1), (1, 1, 1, 1)], {(0, 0): 1, (1, 1): 2})
    result = allocate_arrays(**case, policy=ORDER, kernel="events")
    assert decisions[-1] is not None
    assert result.line_reason.tolist() == [Reason.FILLED, Reason.FILLED, Reason.SHORT, Reason.ORDER_INCOMPLETE]
    assert_same(allocate_oracle(**case, policy=ORDER), result)


def alternating(left: int) -> dict:
    """Orders of one line each that alternately just fail and fit as one SKU of ``left``
    units (half at each warehouse) runs out, on the two routes by turns: a few decisions
    a round."""
    quantity = [1] + [q for r in range(left - 1, 0, -1) for q in (r + 1, 1)]
    lines = [(i, 0, q, i % 2) for i, q in enumerate(quantity)]
    return two_routes(lines, {(0, 0): left // 2, (0, 1): left - left // 2})


def test_past_the_round_budget_the_caller_takes_the_wave_exactly(
        decisions: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel_events, "ORDER_ROUNDS", 3)
    case = alternating(30)
    assert_same(allocate_oracle(**case, policy=ORDER), allocate_arrays(**case, policy=ORDER, kernel="events"))
    assert decisions == [None]


def test_past_the_work_budget_the_caller_takes_the_wave_exactly(
        decisions: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    # with rounds to spare, the lines sent through event passes reach ORDER_WORK per line
    # first: the wave goes back before the rounds cost more than the other kernels would
    monkeypatch.setattr(kernel_events, "ORDER_ROUNDS", 10**6)
    case = alternating(5_000)
    assert_same(allocate_oracle(**case, policy=ORDER), allocate_arrays(**case, policy=ORDER, kernel="events"))
    assert decisions == [None]
