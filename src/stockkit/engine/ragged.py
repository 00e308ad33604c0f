"""Ragged ranges and runs: the array idioms every kernel uses to work on groups of
varying size without a Python loop."""

from __future__ import annotations

import numpy as np

__all__ = ["cumsum_in_runs", "expand", "run_starts", "runs"]


def expand(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, index) of every element of the ragged ranges ``[starts[i], ends[i])``."""
    lengths = ends - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(starts.shape[0]), lengths)
    index = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return owner, index


def run_starts(keys: np.ndarray) -> np.ndarray:
    """The first element of each run of equal values in ``keys``."""
    new = np.ones(keys.shape[0], dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(new)


def runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, run number per element) of the runs of equal values in ``keys``."""
    starts = run_starts(keys)
    run = np.zeros(keys.shape[0], np.int64)
    run[starts[1:]] = 1
    return starts, np.cumsum(run)


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
