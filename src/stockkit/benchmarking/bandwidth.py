"""The memory-bandwidth bound: the least time any engine needs to move a workload's bytes.

An allocation engine has to read every input array at least once and write every output
array at least once. On a machine that copies memory at ``B`` bytes per second, that
traffic alone takes::

    bound = (sum of the input arrays' nbytes + sum of the output arrays' nbytes) / B

where the inputs are the arrays passed to ``allocate_arrays`` (lines, stock records,
links, coordinates) and the outputs the arrays of the :class:`AllocationArrays` it returns
(records: line, warehouse, quantity, back-order flag; per line: unfilled, reason).
``B`` is :func:`copy_bandwidth`: bytes read plus bytes written per second by a large
``numpy.copyto``, the best of several tries. No engine can beat the bound; the ratio of
its time to the bound says how far it is from moving each byte once.

>>> import numpy as np
>>> traffic_bytes({"a": np.zeros(10, np.int64), "n": 3}, [np.zeros(4, np.uint8)])
84
>>> bound_seconds(2_000_000_000, 1e10)
0.2
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["bound_seconds", "copy_bandwidth", "traffic_bytes"]

_DEFAULT_COPY_BYTES = 256 * 2**20


def copy_bandwidth(nbytes: int = _DEFAULT_COPY_BYTES, repeats: int = 10) -> float:
    """This machine's memory copy bandwidth in bytes per second, counting the bytes read
    and the bytes written (``2 * nbytes`` per copy), the best of ``repeats`` copies after
    one untimed copy.

    ``nbytes`` should be far beyond the CPU caches (the default, 256 MiB, is), or the
    figure measures a cache rather than memory. On a busy machine the figure drops (other
    processes share the memory bus), which lowers the bound's demands on the engine.
    """
    count = max(nbytes // 8, 1)
    source = np.ones(count)
    target = np.empty(count)
    np.copyto(target, source)  # untimed: the target's pages are mapped before the timing
    best = float("inf")
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * count * 8 / best


def traffic_bytes(inputs: Mapping[str, Any], outputs: Iterable[Any]) -> int:
    """Bytes an engine must read and write at least once: the ``nbytes`` of every array
    among the ``inputs`` values (other values, such as sizes or a policy, count nothing)
    plus those of the ``outputs`` (an ``AllocationArrays`` is an iterable of arrays)."""
    read = sum(value.nbytes for value in inputs.values() if isinstance(value, np.ndarray))
    written = sum(value.nbytes for value in outputs if isinstance(value, np.ndarray))
    return int(read + written)


def bound_seconds(nbytes: int, bandwidth: float) -> float:
    """The least time to move ``nbytes`` at ``bandwidth`` bytes per second."""
    return nbytes / bandwidth
