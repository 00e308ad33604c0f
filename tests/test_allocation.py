"""The sequential allocator, the definition of allocation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stockkit.allocation import LineAllocation, LineRequest, allocate_sequential


def test_a_line_splits_over_the_route_when_the_first_warehouse_is_short():
    [line] = allocate_sequential([LineRequest("1", "A", 5)], ["w1", "w2"], {("A", "w1"): 3, ("A", "w2"): 9})

    assert line == LineAllocation("1", "A", 5, (("w1", 3), ("w2", 2)), 0)
    assert line.filled


def test_a_line_takes_everything_from_the_first_warehouse_that_has_it():
    [line] = allocate_sequential([LineRequest("1", "A", 3)], ["w1", "w2"], {("A", "w1"): 3, ("A", "w2"): 9})

    assert line.taken == (("w1", 3),)


def test_the_route_order_decides_not_the_mapping_order():
    available = {("A", "w1"): 4, ("A", "w2"): 4, ("A", "w3"): 4}

    [line] = allocate_sequential([LineRequest("1", "A", 6)], ["w3", "w1", "w2"], available)

    assert line.taken == (("w3", 4), ("w1", 2))


def test_warehouses_off_the_route_are_never_used():
    [line] = allocate_sequential([LineRequest("1", "A", 6)], ["w1"], {("A", "w1"): 2, ("A", "w9"): 50})

    assert line.taken == (("w1", 2),)
    assert line.unfilled == 4
    assert not line.filled


def test_without_split_a_line_goes_whole_to_the_first_warehouse_that_can_give_all_of_it():
    available = {("A", "w1"): 3, ("A", "w2"): 4, ("A", "w3"): 9}

    [line] = allocate_sequential([LineRequest("1", "A", 5)], ["w1", "w2", "w3"], available, split=False)

    assert line.taken == (("w3", 5),)
    assert line.filled


def test_without_split_a_line_no_warehouse_can_give_whole_takes_nothing():
    available = {("A", "w1"): 3, ("A", "w2"): 4}

    [line] = allocate_sequential([LineRequest("1", "A", 5)], ["w1", "w2"], available, split=False)

    assert line.taken == ()
    assert line.unfilled == 5


def test_lines_are_served_first_come_first_served():
    lines = [LineRequest("1", "A", 4), LineRequest("2", "B", 1), LineRequest("3", "A", 4)]
    available = {("A", "w1"): 5, ("A", "w2"): 2, ("B", "w2"): 1}

    result = allocate_sequential(lines, ["w1", "w2"], available)

    assert [(a.line_id, a.taken, a.unfilled) for a in result] == [
        ("1", (("w1", 4),), 0),
        ("2", (("w2", 1),), 0),
        ("3", (("w1", 1), ("w2", 2)), 1),
    ]


def test_missing_and_negative_availability_give_nothing():
    [line] = allocate_sequential([LineRequest("1", "A", 2)], ["w1", "w2", "w3"], {("A", "w1"): -4, ("A", "w3"): 1})

    assert line.taken == (("w3", 1),)
    assert line.unfilled == 1


def test_the_input_mapping_is_not_changed():
    available = {("A", "w1"): 3, ("A", "w2"): 9}
    copy = dict(available)

    allocate_sequential([LineRequest("1", "A", 5), LineRequest("2", "A", 5)], ["w1", "w2"], available)

    assert available == copy


def test_no_lines_no_allocations():
    assert allocate_sequential([], ["w1"], {("A", "w1"): 3}) == []


SKUS = ["A", "B", "C"]
WAREHOUSES = ["w1", "w2", "w3", "w4"]


@st.composite
def problems(draw):
    route = draw(st.lists(st.sampled_from(WAREHOUSES), unique=True, max_size=4))
    available = draw(st.dictionaries(
        st.tuples(st.sampled_from(SKUS), st.sampled_from(WAREHOUSES)), st.integers(-5, 20), max_size=12
    ))
    lines = draw(st.lists(
        st.builds(LineRequest, st.just(""), st.sampled_from(SKUS), st.integers(1, 30)), max_size=8
    ))
    lines = [LineRequest(str(n), line.sku, line.quantity) for n, line in enumerate(lines)]
    return lines, route, available


@given(problems(), st.booleans())
def test_allocation_never_takes_more_than_is_available(problem, split):
    lines, route, available = problem
    copy = dict(available)

    result = allocate_sequential(lines, route, available, split=split)

    assert available == copy
    assert [(a.line_id, a.sku, a.quantity) for a in result] == [(r.line_id, r.sku, r.quantity) for r in lines]
    taken: dict[tuple[str, str], int] = {}
    for a in result:
        assert sum(q for _, q in a.taken) + a.unfilled == a.quantity
        assert all(q > 0 and w in route for w, q in a.taken)
        assert [w for w, _ in a.taken] == [w for w in route if w in dict(a.taken)]  # route order
        for w, q in a.taken:
            taken[(a.sku, w)] = taken.get((a.sku, w), 0) + q
    for key, units in taken.items():
        assert units <= max(available.get(key, 0), 0)


@given(problems())
def test_a_split_line_is_short_only_when_its_route_is_exhausted(problem):
    lines, route, available = problem

    result = allocate_sequential(lines, route, available)

    left = {k: max(v, 0) for k, v in available.items()}
    for a in result:
        for w, q in a.taken:
            left[(a.sku, w)] -= q
        if a.unfilled:
            assert all(left.get((a.sku, w), 0) == 0 for w in route)


@given(problems())
def test_without_split_each_line_is_whole_at_one_warehouse_or_not_at_all(problem):
    lines, route, available = problem

    result = allocate_sequential(lines, route, available, split=False)

    left = {k: max(v, 0) for k, v in available.items()}
    for a in result:
        if a.filled:
            [(w, q)] = a.taken
            assert q == a.quantity
            # no earlier warehouse on the route could have given the whole line
            earlier = route[: route.index(w)]
            assert all(left.get((a.sku, e), 0) < a.quantity for e in earlier)
            left[(a.sku, w)] -= q
        else:
            assert a.taken == ()
            assert all(left.get((a.sku, w), 0) < a.quantity for w in route)
