"""Fill per order decided on the contested SKUs alone (``stockkit.engine.uncontested``):
exactly the oracle's result, and only where some SKUs can never run short."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import random_case
from test_engine_oracle import assert_same

from stockkit.engine import Fill, Policy, RouteOrder, allocate_arrays, api, kernel_numba, uncontested
from stockkit.engine.inputs import check_inputs
from stockkit.engine.kernel_intervals import route_classes
from stockkit.testing.allocation_oracle import allocate_oracle


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Per call of ``allocate_uncontested_apart``, the calls on its parts included (they
    end first): whether it split the wave."""
    seen: list[bool] = []
    split = uncontested.allocate_uncontested_apart

    def spy(*args):
        result = split(*args)
        seen.append(result is not None)
        return result

    monkeypatch.setattr("stockkit.engine.api.allocate_uncontested_apart", spy)
    return seen


def checked(case: dict, policy: Policy):
    full = case | {key: case.get(key) for key in ("line_priority", "line_lat", "line_lon", "warehouse_lat",
                                                   "warehouse_lon", "sku_backorder", "n_skus", "n_warehouses",
                                                   "n_channels")}
    return check_inputs(**full, policy=policy)


@pytest.mark.parametrize("topology", ["nearest", "overlapping"])
def test_orders_decided_on_contested_skus_alone_get_the_oracles_result(topology: str, splits: list[bool]) -> None:
    # seeded waves of thousands of lines on the numpy kernels, some SKUs short, some
    # back-orderable, many never short where every channel reaches every warehouse
    from stockkit.benchmarking.workload import generate

    for seed in range(4):
        w = generate(lines=3_000, skus=30, warehouses=8, channels=3, topology=topology, seed=seed)
        case = w.kwargs() | {"sku_backorder": np.random.default_rng(seed).random(30) < 0.2}
        policy = w.policy(fill=Fill.ORDER)
        want = allocate_oracle(**case, policy=policy)
        assert (want.line_unfilled > 0).sum() > 20          # orders do fail
        assert_same(want, allocate_arrays(**case, policy=policy, kernel="numpy"), seed)
    # nearest first reaches every warehouse from every channel: most SKUs are uncontested
    # and each wave is split (its parts are not); the overlapping channels reach a few
    # warehouses each, so their waves are not split
    assert sum(splits) == (4 if topology == "nearest" else 0)


def test_random_waves_split_or_not_match_the_oracle(splits: list[bool]) -> None:
    split_waves = 0
    for seed in range(200):
        rng = np.random.default_rng([seed, 11])
        # nearest first (the rounds kernel's case), a fifth of the lines without a ship-to
        case = random_case(rng, "nearest", lines=int(rng.integers(65, 200)), skus=int(rng.integers(2, 12)),
                           warehouses=int(rng.integers(1, 6)), channels=int(rng.integers(1, 4)),
                           stock_scale=int(rng.integers(1, 30)))
        policy = Policy(fill=Fill.ORDER, route=RouteOrder.NEAREST)
        before = len(splits)
        assert_same(allocate_oracle(**case, policy=policy), allocate_arrays(**case, policy=policy, kernel="numpy"),
                    seed)
        split_waves += any(splits[before:])
    assert 40 < split_waves < 160                              # both ways are taken


def test_a_sku_is_uncontested_when_every_channel_ordering_it_reaches_its_whole_demand() -> None:
    # channel 0 reaches warehouses 0 and 1, channel 1 warehouse 1 only, channel 2 none
    def lines_free(sku, quantity, channel, backorder=(False, False)):
        case = {"line_order": np.arange(len(sku)), "line_sku": np.array(sku), "line_quantity": np.array(quantity),
                "line_channel": np.array(channel), "stock_warehouse": np.array([0, 1, 1]),
                "stock_sku": np.array([0, 0, 1]), "stock_available": np.array([3, 2, -4]),
                "link_channel": np.array([0, 0, 1]), "link_warehouse": np.array([0, 1, 1]),
                "link_priority": np.array([0, 1, 0]), "sku_backorder": np.array(backorder), "n_channels": 3}
        inp = checked(case, Policy(fill=Fill.ORDER))
        return uncontested.uncontested_lines(inp, route_classes(inp)).tolist()

    assert lines_free([0, 0], [2, 3], [0, 0]) == [True, True]           # 5 units of 5 reached
    assert lines_free([0, 0], [2, 4], [0, 0]) == [False, False]         # 6 of 5
    assert lines_free([0, 0], [1, 1], [0, 1]) == [True, True]           # channel 1 reaches 2
    assert lines_free([0, 0], [2, 1], [0, 1]) == [False, False]         # 3 > what channel 1 reaches
    assert lines_free([0], [1], [2]) == [False]                         # no warehouse at all
    assert lines_free([0], [3], [0], backorder=(True, False)) == [True]   # it never back orders
    assert lines_free([1], [1], [0]) == [False]                         # negative stock counts as none


def test_waves_with_few_uncontested_lines_or_other_policies_are_not_split() -> None:
    rng = np.random.default_rng(3)
    case = random_case(rng, "nearest", lines=100, skus=3, warehouses=4, channels=2, stock_scale=50)
    for policy in (Policy(fill=Fill.PARTIAL), Policy(fill=Fill.LINE), Policy(fill=Fill.ORDER, split=False)):
        inp = checked(case, policy)
        assert uncontested.allocate_uncontested_apart(inp, route_classes(inp), lambda part: None) is None
    tight = case | {"stock_available": np.zeros_like(case["stock_available"])}
    inp = checked(tight, Policy(fill=Fill.ORDER))
    assert not uncontested.uncontested_lines(inp, route_classes(inp)).any()
    assert uncontested.allocate_uncontested_apart(inp, route_classes(inp), lambda part: None) is None


@pytest.mark.skipif(not kernel_numba.available(), reason="numba is not installed (the numba extra)")
@pytest.mark.parametrize(("topology", "channels", "split"), [
    ("nearest", 3, True),          # nearest first: most SKUs uncontested, the wave is split
    ("overlapping", 1, True),      # one channel, one route class: likewise
    ("overlapping", 3, False),     # channels reaching different warehouses: not even tried
])
def test_the_compiled_loop_decides_orders_on_contested_skus_alone_where_that_pays(
        topology: str, channels: int, split: bool, splits: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    from stockkit.benchmarking.workload import generate

    monkeypatch.setattr(api, "NUMBA_FROM_LINES", 0)     # "auto" takes the compiled loop on any wave
    served: list[str] = []
    by_sku, by_order = kernel_numba.allocate_by_sku, kernel_numba.allocate_compiled
    monkeypatch.setattr(kernel_numba, "allocate_by_sku", lambda *a: served.append("sku") or by_sku(*a))
    monkeypatch.setattr(kernel_numba, "allocate_compiled", lambda *a: served.append("order") or by_order(*a))
    w = generate(lines=3_000, skus=30, warehouses=8, channels=channels, topology=topology, seed=2)
    policy = w.policy(fill=Fill.ORDER)
    want = allocate_oracle(**w.kwargs(), policy=policy)
    assert (want.line_unfilled > 0).sum() > 20          # orders do fail
    assert_same(want, allocate_arrays(**w.kwargs(), policy=policy))
    if split:
        # the wave, then its contested part (not split again); the filled orders'
        # uncontested lines are served SKU by SKU
        assert splits == [False, True] and served == ["order", "sku"]
    else:
        assert splits == [] and served == ["order"]
