"""Ragged ranges and runs: the array idioms every kernel uses to work on groups of
varying size without a Python loop."""

from __future__ import annotations

import numpy as np

__all__ = ["cumsum_in_runs", "expand", "runs"]


def expand(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, index) of every element of the ragged ranges ``[starts[i], ends[i])``."""
    lengths = ends - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(starts.shape[0]), lengths)
    index = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return owner, index


def runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, run number per element) of the runs of equal values in ``keys``."""
    if keys.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    new = np.ones(keys.shape[0], dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(new), np.cumsum(new) - 1


def cumsum_in_runs(values: np.ndarray, starts: np.ndarray, run: np.ndarray | None = None, *,
                   before: bool = False) -> np.ndarray:
    """Running totals of ``values`` that start again at each run: up to and including each
    element, or of the elements before it in its run with ``before``. ``starts`` holds
    each run's first element, increasing; ``run``, each element's run when known (runs
    may then be empty), else every run is non-empty and they cover ``values``."""
    total = np.cumsum(values)
    if not total.size:
        return total
    at = np.minimum(starts, total.size - 1)
    base = total[at] - values[at]
    if before:
        total -= values
    if run is None:
        total -= np.repeat(base, np.diff(np.append(starts, total.size)))
    else:
        total -= base[run]
    return total
