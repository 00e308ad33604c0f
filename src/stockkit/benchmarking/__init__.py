"""Benchmarking the allocation engine: ``stockkit bench`` and ``benchmarks/`` use it.

- :mod:`stockkit.benchmarking.workload`: a seeded generator of realistic allocation
  workloads (Zipf SKU popularity, small orders, tight stock, three channel topologies) as
  the plain arrays of :func:`stockkit.engine.allocate_arrays`;
- :mod:`stockkit.benchmarking.bandwidth`: this machine's memory copy bandwidth and the
  lower bound it puts on the engine's time for a workload;
- :mod:`stockkit.benchmarking.measures`: timing the engine, the per-line loop and the
  bound side by side;
- :mod:`stockkit.benchmarking.report`: the table, JSON document and plot of a run.

Nothing here is needed to use stockkit; it is shipped so that a benchmark runner with an
installed stockkit can measure it (``stockkit bench --help``).
"""
