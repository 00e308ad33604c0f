"""The table, JSON document, plot and progress bar of a benchmark run.

Each writes to a stream or path it is given; ``stockkit bench`` chooses which.
:func:`write_plot` needs matplotlib (``pip install 'stockkit[plot]'``);
:func:`require_matplotlib` says so before a long run rather than after it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from stockkit.benchmarking.measures import Run

__all__ = ["ProgressBar", "format_table", "require_matplotlib", "to_json", "write_plot"]

_COLUMNS = ("topology", "fill", "kernel", "engine ms", "loop ms", "loop lines", "speed-up", "bound ms", "x bound", "exact")


def format_table(run: Run) -> str:
    """The run as a text table, one row per topology and fill mode, with the workload and
    machine above it and notes on the per-line loop and the warm measure below."""
    s, m = run.settings, run.machine
    orders = run.measures[0].orders if run.measures else 0
    lines = [
        (f"workload: {s.lines:,} lines in {orders:,} orders, {s.skus:,} SKUs, {s.warehouses:,} warehouses, "
         f"{s.channels} channels, seed {s.seed}"),
        (f"machine: {m['cores']} cores, {m['cpu']}, numpy {m['numpy']}, "
         f"copy bandwidth {m['copy_bandwidth_bytes_per_second'] / 1e9:.1f} GB/s (read + write); "
         f"engine on {m['engine_threads']} thread(s) where it can, the per-line loop on one"),
        "",
    ]
    rows = [_COLUMNS] + [
        (r.topology, r.fill, r.kernel, f"{r.engine_seconds * 1e3:,.1f}",
         f"{'~' if r.loop_scaled else ''}{r.loop_seconds * 1e3:,.0f}", f"{r.loop_lines:,}",
         f"{r.speedup:,.1f}x" if r.speedup < 10 else f"{r.speedup:,.0f}x",
         f"{r.bound_seconds * 1e3:,.2f}", f"{r.bound_ratio:,.1f}", "yes" if r.exact else "NO")
        for r in run.measures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    for k, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    runs = sorted({len(r.engine_samples) for r in run.measures})
    lines.append(f"engine: median of {'/'.join(map(str, runs)) or s.repeats} run(s) over every line"
                 + (f" (fewer than {s.repeats} once the runs took {s.engine_budget:g} s)"
                    if runs and runs[0] < s.repeats else "")
                 + ", after a first run left out (it faults in fresh memory; first_seconds in the JSON).")
    if any(r.loop_scaled for r in run.measures):
        lines.append(f"~ per-line loop timed once on the first 'loop lines' (whole orders, full stock) and "
                     f"scaled to {s.lines:,} lines: its time on the first order alone (indexing the stock) "
                     "plus the rest scaled linearly.")
    lines.append("bound: bytes the engine reads and writes / copy bandwidth; x bound = engine time / bound.")
    lines.append("exact: the engine's result equals the per-line loop's on the lines the loop ran.")
    for w in run.warm:
        lines.append(f"single order of 1-10 lines on a warm index ({w.topology}, {w.orders} orders): "
                     f"median {w.median_seconds * 1e6:,.0f} us, p99 {w.p99_seconds * 1e6:,.0f} us")
    if run.warm_skipped:
        lines.append(f"single orders on a warm index: not measured ({run.warm_skipped})")
    return "\n".join(lines) + "\n"


def to_json(run: Run) -> str:
    """The run as an indented JSON document (machine, settings, results)."""
    return json.dumps(run.to_dict(), indent=1)


def require_matplotlib() -> None:
    """Raise :class:`ImportError` with what to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("--plot needs matplotlib, which is not installed: "
                          "pip install 'stockkit[plot]' (or pip install matplotlib)") from None


def write_plot(run: Run, path: Path) -> None:
    """A PNG bar chart at ``path``: engine, per-line loop and bound per topology and fill
    mode, in milliseconds on a log scale."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [f"{r.topology}\n{r.fill}\n{r.kernel}" for r in run.measures]
    series = (("per-line loop", [r.loop_seconds for r in run.measures]),
              ("engine", [r.engine_seconds for r in run.measures]),
              ("bandwidth bound", [r.bound_seconds for r in run.measures]))
    figure = Figure(figsize=(max(6.0, 1.1 * len(labels) + 2), 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.8 / len(series)
    for k, (name, seconds) in enumerate(series):
        axes.bar([i + (k - 1) * width for i in range(len(labels))], [t * 1e3 for t in seconds], width, label=name)
    axes.set_yscale("log")
    axes.set_ylabel("milliseconds (log scale)")
    axes.set_xticks(range(len(labels)), labels, fontsize=8)
    axes.set_title(f"stockkit allocation: {run.settings.lines:,} lines, {run.machine['cores']} cores")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)


class ProgressBar:
    """A one-line progress bar redrawn in place on ``stream`` (a terminal's stderr).

    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(out, total=2, width=4)
    >>> bar.step("first"); bar.step("second"); bar.close()
    >>> out.getvalue().split("\\r")[-1].strip()
    '[####] 2/2 done'
    """

    def __init__(self, stream: TextIO, total: int, width: int = 24) -> None:
        self.stream, self.total, self.width, self.done = stream, max(total, 1), width, 0
        self._shown = 0

    def step(self, label: str) -> None:
        """Show that the step ``label`` starts (the steps before it are done)."""
        self._draw(label)
        self.done = min(self.done + 1, self.total)

    def close(self) -> None:
        """Show the bar full and end its line."""
        self.done = self.total
        self._draw("done")
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, label: str) -> None:
        filled = self.width * self.done // self.total
        text = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {label}"
        self.stream.write("\r" + text.ljust(self._shown))
        self._shown = len(text)
        self.stream.flush()
