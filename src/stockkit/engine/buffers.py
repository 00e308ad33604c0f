"""Large arrays laid out on huge-page boundaries, for kernels that fill them in place.

numpy asks the system for transparent huge pages (2 MiB) for arrays of 4 MiB and more,
but Linux backs only whole, aligned 2 MiB ranges with them: the rest of an array (on
average 2 MiB of its head and tail) is faulted in 4 KiB at a time, about 500 page faults
for an array of 8 MB. :func:`empty` and :func:`zeros` start such an array on a 2 MiB
boundary, with room after its end, so that every page of it can be huge. The array is a
view of a slightly larger buffer (its ``base``); the room it does not use is never
touched, so it takes address space, not memory. Smaller arrays are plain numpy arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ALIGNED_FROM_BYTES", "HUGE_PAGE", "empty", "zeros"]

#: the huge page size the arrays are aligned to
HUGE_PAGE = 1 << 21

#: arrays of at least this many bytes are aligned (numpy asks for huge pages from here)
ALIGNED_FROM_BYTES = 1 << 22


def empty(shape: int | tuple[int, ...], dtype: np.typing.DTypeLike = np.int64) -> np.ndarray:
    """An uninitialised array like ``np.empty(shape, dtype)``, starting on a huge-page
    boundary when it is large (see the module docstring)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < ALIGNED_FROM_BYTES:
        return np.empty(shape, dtype)
    # a page of room before the boundary and one after the end, where the last huge page
    # of the array ends
    raw = np.empty(nbytes + 2 * HUGE_PAGE, np.uint8)
    start = -raw.ctypes.data % HUGE_PAGE
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def zeros(shape: int | tuple[int, ...], dtype: np.typing.DTypeLike = np.int64) -> np.ndarray:
    """An array of zeros like ``np.zeros(shape, dtype)``, laid out as :func:`empty`'s."""
    out = empty(shape, dtype)
    out.fill(0)
    return out
