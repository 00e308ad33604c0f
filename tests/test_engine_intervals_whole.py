"""The interval kernel's fill per line: which lines are filled whole is decided as a prefix
and a short tail per group, exactly as the sequential greedy decides it, and the kernel
then gives the oracle's result, also on quantities chosen to make the tail long."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import random_case
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_oracle import assert_same

from stockkit.engine import Fill, Policy, allocate_arrays
from stockkit.engine import kernel_intervals
from stockkit.engine.kernel_intervals import whole_lines, whole_units
from stockkit.testing.allocation_oracle import allocate_oracle


def greedy_refused(qty: list[int], sizes: list[int], total: list[int], limited: list[bool]) -> list[int]:
    """The sequential rule, line by line: positions of the lines that do not fit."""
    refused, at = [], 0
    for size, left, lim in zip(sizes, total, limited):
        for i in range(at, at + size):
            if not lim:
                continue
            if qty[i] <= left:
                left -= qty[i]
            else:
                refused.append(i)
        at += size
    return refused


def decide(qty: list[int], sizes: list[int], total: list[int], limited: list[bool]) -> np.ndarray | None:
    starts = np.cumsum([0, *sizes[:-1]]) if sizes else np.zeros(0, np.int64)
    return whole_lines(np.array(qty, np.int64), starts.astype(np.int64), np.array(total, np.int64),
                       np.array(limited, bool))


def alternating(left: int) -> list[int]:
    """Quantities that alternately just fail and fit as ``left`` units run out."""
    return [1] + [q for r in range(left - 1, 0, -1) for q in (r + 1, 1)]


def random_groups(rng: np.random.Generator) -> tuple[list[int], list[int], list[int], list[bool]]:
    """Groups of 1-30 lines with small, wide, doubling or alternating quantities, stock from
    none to more than the demand, some groups not limited."""
    sizes, qty, total = [], [], []
    for _ in range(int(rng.integers(0, 12))):
        kind = rng.integers(0, 4)
        if kind == 3:
            q = alternating(int(rng.integers(1, 15)))
        else:
            size = int(rng.integers(1, 31))
            q = (rng.integers(1, 5, size) if kind == 0 else rng.integers(1, 1000, size) if kind == 1
                 else 2 ** rng.integers(0, 30, size)).tolist()
        sizes.append(len(q))
        qty += q
        total.append(int(rng.integers(0, sum(q) + 3)) if rng.random() < 0.8 else int(q[0]))
    return qty, sizes, total, (rng.random(len(sizes)) < 0.85).tolist()


def test_whole_lines_decide_as_the_sequential_greedy_and_as_the_general_rounds() -> None:
    # single-line units: the general decision (each line its own unit) agrees too
    for seed in range(400):
        qty, sizes, total, limited = random_groups(np.random.default_rng([seed, 11]))
        got = decide(qty, sizes, total, limited)
        assert got is not None
        assert got.tolist() == greedy_refused(qty, sizes, total, limited), seed
        if qty:
            n = len(qty)
            group = np.repeat(np.arange(len(sizes)), sizes)
            new_group = np.r_[True, group[1:] != group[:-1]]
            ok = whole_units(group, np.array(qty, np.int64), np.arange(n), np.array(limited)[group],
                             np.zeros(n, bool), np.array(total, np.int64), new_group)
            assert ok is not None and np.flatnonzero(~ok).tolist() == got.tolist(), seed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(st.integers(1, 12), min_size=1, max_size=12), st.integers(0, 60), st.booleans()),
                max_size=6))
def test_whole_lines_match_the_greedy_on_any_groups(groups: list[tuple[list[int], int, bool]]) -> None:
    qty = [q for g, _, _ in groups for q in g]
    args = (qty, [len(g) for g, _, _ in groups], [t for _, t, _ in groups], [lim for _, _, lim in groups])
    got = decide(*args)
    assert got is not None and got.tolist() == greedy_refused(*args)


def test_whole_lines_take_a_round_per_step_of_the_tail_and_give_up_past_the_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # 2 fits, 4 is out (3 left); the tail's 2 and 1 then fit in one round, after which
    # nothing is open. Alternating quantities settle two lines a round.
    assert decide([2, 4, 2, 1, 4], [5], [5], [True]).tolist() == [1, 4]
    monkeypatch.setattr(kernel_intervals, "WHOLE_ROUNDS", 1)
    assert decide([2, 4, 2, 1, 4], [5], [5], [True]).tolist() == [1, 4]
    monkeypatch.setattr(kernel_intervals, "WHOLE_ROUNDS", 0)
    assert decide([2, 4, 2, 1, 4], [5], [5], [True]) is None
    assert decide([2, 4, 2], [3], [9], [True]).tolist() == []       # no tail: no round needed
    monkeypatch.setattr(kernel_intervals, "WHOLE_ROUNDS", 30)
    assert decide(alternating(60), [119], [60], [True]) is None
    q = alternating(20)
    assert decide(q, [len(q)], [20], [True]).tolist() == greedy_refused(q, [len(q)], [20], [True])


@pytest.mark.parametrize("fill", [Fill.LINE, Fill.ORDER])
@pytest.mark.parametrize("quantities", ["small", "wide", "doubling", "alternating"])
def test_intervals_fill_whole_lines_and_orders_as_the_oracle(fill: Fill, quantities: str) -> None:
    # disjoint channels (some without a warehouse), back-orderable SKUs, stock that runs
    # short, and quantities that leave long tails after a group's first line that is out
    policy = Policy(fill=fill)
    short = 0
    for seed in range(60):
        rng = np.random.default_rng([seed, 23, len(quantities)])
        lines = int(rng.integers(0, 120))
        scale = {"small": 1, "wide": 40, "doubling": 2**12, "alternating": 3}[quantities]
        case = random_case(rng, "disjoint", lines=lines, skus=int(rng.integers(1, 5)),
                           warehouses=int(rng.integers(1, 5)), channels=int(rng.integers(1, 4)),
                           stock_scale=scale * int(rng.integers(1, 5)))
        if quantities == "wide":
            case["line_quantity"] = rng.integers(1, 200, lines)
        elif quantities == "doubling":
            case["line_quantity"] = 2 ** rng.integers(0, 16, lines)
        elif quantities == "alternating":
            case["line_quantity"] = np.resize(alternating(8), lines) if lines else np.zeros(0, np.int64)
        want = allocate_oracle(**case, policy=policy)
        short += int((want.line_unfilled > 0).sum())
        assert_same(want, allocate_arrays(**case, policy=policy, kernel="intervals"), (fill, quantities, seed))
    assert short > 20          # the waves do run short


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=30), st.lists(st.integers(0, 40), max_size=60))
def test_each_line_finds_the_first_stock_entry_ending_after_its_start(stocks: list[int], starts: list[int]) -> None:
    # entries cover [c_end - stock, c_end) of the stock axis (empty ones included); a
    # line starting at s draws first on the first entry ending after s, the last entry
    # for lines past the end
    c_end = np.cumsum(stocks)
    stock = kernel_intervals._GroupStock(c_end, np.array(stocks), np.zeros(len(stocks), np.int64),
                                         np.zeros(1, np.int64), np.zeros(1, np.int64))
    s = np.sort(np.array(starts, np.int64))
    expected = [min(sum(1 for end in c_end if end <= x), len(stocks) - 1) for x in s]
    assert kernel_intervals._first_entries(stock, s).tolist() == expected
