"""Large work arrays start on a huge-page boundary, so that the system can back all of
them with huge pages; small ones are plain numpy arrays."""

from __future__ import annotations

import numpy as np
import pytest

from stockkit.engine import buffers


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
