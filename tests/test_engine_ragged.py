"""The ragged-array idioms the kernels share, against plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from stockkit.engine.ragged import cumsum_in_runs, expand, run_starts, runs


@pytest.mark.parametrize("before", [False, True])
@pytest.mark.parametrize("given_runs", [False, True])
def test_running_totals_start_again_at_each_run(before: bool, given_runs: bool) -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        sizes = rng.integers(0 if given_runs else 1, 5, int(rng.integers(0, 8)))
        values = rng.integers(-3, 10, int(sizes.sum()))
        starts = np.cumsum(sizes) - sizes
        run = np.repeat(np.arange(sizes.size), sizes)
        want = []
        for k in range(sizes.size):
            part = values[starts[k]:starts[k] + sizes[k]].tolist()
            want += [sum(part[:i + (not before)]) for i in range(len(part))]
        got = cumsum_in_runs(values, starts, run if given_runs else None, before=before)
        assert got.tolist() == want


def test_ranges_expand_to_their_elements_and_runs_are_found() -> None:
    owner, index = expand(np.array([3, 0, 5]), np.array([5, 0, 6]))
    assert owner.tolist() == [0, 0, 2] and index.tolist() == [3, 4, 5]
    starts, run = runs(np.array([4, 4, 1, 1, 1, 7]))
    assert starts.tolist() == [0, 2, 5] and run.tolist() == [0, 0, 1, 1, 1, 2]
    assert run_starts(np.array([4, 4, 1, 1, 1, 7])).tolist() == [0, 2, 5]
    assert runs(np.zeros(0, np.int64))[0].size == 0
