"""Large work arrays start on a huge-page boundary, so that the system can back all of
them with huge pages; small ones are plain numpy arrays."""

from __future__ import annotations

import numpy as np
import pytest
from engine_cases import ALL_POLICIES, random_case
from test_engine_oracle import assert_same

from stockkit.engine import allocate_arrays, buffers, kernel_numba
from stockkit.testing.allocation_oracle import allocate_oracle


@pytest.mark.parametrize("shape, dtype", [((buffers.ALIGNED_FROM_BYTES // 8,), np.int64),
                                          ((3, 700_001), np.int64), (5_000_003, np.bool_), (4_194_305, np.uint8)])
def test_a_large_array_starts_on_a_huge_page_and_has_its_shape_and_type(shape, dtype) -> None:
    a = buffers.empty(shape, dtype)
    assert a.shape == (shape if isinstance(shape, tuple) else (shape,)) and a.dtype == dtype
    assert a.ctypes.data % buffers.HUGE_PAGE == 0
    assert a.flags.c_contiguous and a.flags.writeable
    a[...] = 1          # every element is its own memory
    assert int(a.sum()) == a.size


def test_zeros_are_zero_and_small_arrays_are_plain() -> None:
    z = buffers.zeros((2, 600_000), np.int64)
    assert z.ctypes.data % buffers.HUGE_PAGE == 0 and not z.any()
    small = buffers.empty(1_000, np.int64)
    assert small.base is None and small.shape == (1_000,)
    assert not buffers.zeros(10, np.uint8).any()


@pytest.mark.skipif(not kernel_numba.available(), reason="numba is not installed (the numba extra)")
def test_the_compiled_loop_gives_the_same_result_in_aligned_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    # every array aligned, however small: the loop's work arrays and results are views
    monkeypatch.setattr(buffers, "ALIGNED_FROM_BYTES", 0)
    for seed in range(6):
        rng = np.random.default_rng([seed, 31])
        case = random_case(rng, ("disjoint", "overlapping", "nearest")[seed % 3], lines=80, skus=5)
        for policy in ALL_POLICIES[::3]:
            result = allocate_arrays(**case, policy=policy, kernel="numba")
            assert result.line_unfilled.base is not None
            assert_same(allocate_oracle(**case, policy=policy), result, (seed, policy))
