"""The benchmark workload generator: seeded, valid for the engine's contract, realistic."""

from __future__ import annotations

import numpy as np
import pytest

from stockkit.benchmarking.workload import SIZES, TOPOLOGIES, generate, small_orders
from stockkit.errors import ValidationError

SMALL = {"lines": 40_000, "skus": 4_000, "warehouses": 20, "channels": 4}


@pytest.fixture(scope="module", params=TOPOLOGIES)
def workload(request):
    return generate(**SMALL, topology=request.param, seed=11)


def _arrays(w):
    return {k: v for k, v in w.kwargs().items() if isinstance(v, np.ndarray)}


def test_the_same_seed_gives_the_same_arrays_and_another_seed_others():
    a, b, c = (generate(**SMALL, topology="overlapping", seed=s) for s in (5, 5, 6))
    assert _arrays(a).keys() == _arrays(b).keys()
    for name, array in _arrays(a).items():
        np.testing.assert_array_equal(array, _arrays(b)[name], err_msg=name)
    assert not np.array_equal(a.line_sku, c.line_sku)
    assert not np.array_equal(a.stock_available[:100], c.stock_available[:100])


def test_every_topology_meets_the_same_lines_and_stock():
    ws = [generate(**SMALL, topology=t, seed=2) for t in TOPOLOGIES]
    for name in ("line_order", "line_sku", "line_quantity", "line_channel", "line_priority",
                 "stock_warehouse", "stock_sku", "stock_available"):
        for other in ws[1:]:
            np.testing.assert_array_equal(getattr(ws[0], name), getattr(other, name), err_msg=name)


def test_arrays_have_the_contracts_shapes_dtypes_and_ranges(workload):
    w, n = workload, workload.n_lines
    kwargs = w.kwargs()
    assert n == SMALL["lines"]
    for name in ("line_order", "line_sku", "line_quantity", "line_channel", "line_priority"):
        assert kwargs[name].shape == (n,) and kwargs[name].dtype == np.int64, name
    m, k = len(w.stock_sku), len(w.link_channel)
    for name, size in (("stock_warehouse", m), ("stock_sku", m), ("stock_available", m),
                       ("link_channel", k), ("link_warehouse", k), ("link_priority", k)):
        assert kwargs[name].shape == (size,) and kwargs[name].dtype == np.int64, name
    assert (w.line_quantity > 0).all() and (w.stock_available >= 0).all()
    assert 0 <= w.line_sku.min() and w.line_sku.max() < w.n_skus and w.stock_sku.max() < w.n_skus
    assert w.stock_warehouse.max() < w.n_warehouses and w.link_warehouse.max() < w.n_warehouses
    assert set(np.unique(w.line_channel)) <= set(np.unique(w.link_channel)) == set(range(w.n_channels))
    keys = w.stock_sku * w.n_warehouses + w.stock_warehouse
    assert len(np.unique(keys)) == m, "duplicate (sku, warehouse) stock records"
    links = w.link_channel * w.n_warehouses + w.link_warehouse
    assert len(np.unique(links)) == k, "duplicate channel links"
    assert {"n_skus", "n_warehouses", "n_channels"} <= kwargs.keys()


def test_orders_are_runs_of_one_to_ten_lines_sharing_channel_priority_and_ship_to(workload):
    w = workload
    assert w.line_order[0] == 0 and set(np.diff(w.line_order)) <= {0, 1}
    sizes = np.bincount(w.line_order)
    assert sizes.min() >= 1 and sizes.max() <= 10
    assert 1.7 < w.n_lines / w.n_orders < 1.95          # about 550,000 orders per 1,000,000 lines
    starts = np.flatnonzero(np.diff(w.line_order, prepend=-1))
    per_order = [w.line_channel, w.line_priority] + ([w.line_lat, w.line_lon] if w.line_lat is not None else [])
    for array in per_order:
        np.testing.assert_array_equal(array, np.repeat(array[starts], sizes))
    assert 0.05 < (w.line_priority == 0).mean() < 0.15   # express orders


def test_quantities_are_mostly_one_to_three_units(workload):
    q = workload.line_quantity
    assert (q <= 3).mean() > 0.9 and (q == 1).mean() > 0.5 and q.max() <= 10


def test_sku_popularity_is_zipf_like(workload):
    lines_per_sku = np.sort(np.bincount(workload.line_sku, minlength=workload.n_skus))[::-1]
    top = lines_per_sku[: workload.n_skus // 100].sum() / workload.n_lines
    assert top > 0.4                                      # the top 1 % of SKUs take a large share
    assert (lines_per_sku > 0).mean() > 0.5              # and a long tail is still ordered


def test_about_a_third_of_the_demand_falls_on_skus_that_run_short(workload):
    assert 0.25 < workload.short_share() < 0.42


def test_the_issue_sized_workload_has_a_third_of_demand_short_and_550000_orders():
    w = generate(**SIZES["M"], topology="disjoint", seed=0)
    assert 0.30 < w.short_share() < 0.37
    assert 530_000 < w.n_orders < 570_000


def _channel_sets(w):
    return {c: set(w.link_warehouse[w.link_channel == c].tolist()) for c in range(w.n_channels)}


def test_disjoint_channels_share_no_warehouse_and_each_has_stock_for_its_demand():
    w = generate(**SMALL, topology="disjoint", seed=3)
    sets = _channel_sets(w)
    assert all(sets.values())
    assert sum(len(s) for s in sets.values()) == len(set().union(*sets.values())) == w.n_warehouses
    assert w.route == "priority" and w.line_lat is None and w.warehouse_lat is None
    # An SKU that is not short has, in each channel's warehouses, what that channel orders.
    short = w.demand() > w.stock()
    for c, linked in sets.items():
        ordered = np.bincount(w.line_sku[w.line_channel == c], weights=w.line_quantity[w.line_channel == c],
                              minlength=w.n_skus)
        reach = np.isin(w.stock_warehouse, list(linked))
        held = np.bincount(w.stock_sku[reach], weights=w.stock_available[reach], minlength=w.n_skus)
        assert (held[~short] >= ordered[~short]).all()
        assert (held[short] < ordered[short]).any()


def test_overlapping_channels_share_warehouses_and_rank_them_differently():
    w = generate(**SMALL, topology="overlapping", seed=3)
    sets = _channel_sets(w)
    for c in range(w.n_channels):
        others = set().union(*(s for d, s in sets.items() if d != c))
        assert sets[c] & others, f"channel {c} shares no warehouse"
    assert len({frozenset(s) for s in sets.values()}) == w.n_channels
    assert set(np.bincount(w.link_warehouse).tolist()) == {2}  # every warehouse serves two channels
    rank = {(c, wh): p for c, wh, p in zip(w.link_channel.tolist(), w.link_warehouse.tolist(),
                                            w.link_priority.tolist(), strict=True)}
    shared = sorted(sets[0] & sets[1])
    order0 = sorted(shared, key=lambda wh: rank[0, wh])
    order1 = sorted(shared, key=lambda wh: rank[1, wh])
    assert order0 != order1


def test_nearest_links_every_warehouse_and_gives_finite_coordinates():
    w = generate(**SMALL, topology="nearest", seed=3)
    assert w.route == "nearest"
    assert all(s == set(range(w.n_warehouses)) for s in _channel_sets(w).values())
    for name in ("line_lat", "line_lon", "warehouse_lat", "warehouse_lon"):
        array = getattr(w, name)
        assert array.dtype == np.float64 and np.isfinite(array).all(), name
    assert w.line_lat.shape == (w.n_lines,) and w.warehouse_lat.shape == (w.n_warehouses,)
    assert (abs(w.line_lat) <= 90).all() and (abs(w.warehouse_lon) <= 180).all()


def test_head_keeps_whole_orders_and_the_same_stock(workload):
    head = workload.head(1_000)
    assert head.n_lines <= 1_000
    assert head.n_lines > 990  # at most one order of 10 lines is cut off
    cut_order = workload.line_order[head.n_lines]
    assert head.line_order[-1] < cut_order
    assert head.stock_available is workload.stock_available
    assert workload.head(10**9) is workload


def test_small_orders_are_single_orders_of_one_to_ten_lines(workload):
    orders = small_orders(workload, 50, seed=4)
    assert len(orders) == 50
    sizes = {len(o["line_sku"]) for o in orders}
    assert min(sizes) >= 1 and max(sizes) <= 10 and len(sizes) > 3
    for o in orders:
        assert (o["line_order"] == 0).all() and len(set(o["line_channel"].tolist())) == 1
        assert ("line_lat" in o) == (workload.route == "nearest")
        assert (o["line_quantity"] > 0).all() and o["line_sku"].max() < workload.n_skus


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"topology": "star"}, "unknown topology 'star'"),
     ({"warehouses": 3, "channels": 4}, "at least as many warehouses as channels"),
     ({"lines": 0}, "lines must be a whole number"),
     ({"skus": 2.5}, "skus must be a whole number")],
)
def test_bad_sizes_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        generate(**{**SMALL, **kwargs})


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_the_engine_accepts_the_arrays_and_leaves_demand_unfilled_only_on_short_skus(topology):
    from stockkit.engine import Fill, allocate_arrays

    w = generate(lines=3_000, skus=300, warehouses=8, channels=4, topology=topology, seed=9)
    result = allocate_arrays(**w.kwargs(), policy=w.policy(fill=Fill.PARTIAL))
    assert result.line_unfilled.shape == (w.n_lines,)
    unfilled = np.bincount(w.line_sku, weights=result.line_unfilled, minlength=w.n_skus)
    short = w.demand() > w.stock()
    assert unfilled[short].sum() > 0
    if topology == "disjoint":  # each channel's own warehouses hold what it orders of a SKU that is not short
        assert unfilled[~short].sum() == 0
