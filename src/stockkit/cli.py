"""The ``stockkit`` command line: ``stockkit demo`` (or ``python -m stockkit demo``) and
``stockkit migrate URL``.

Each subcommand is a function that takes the parsed arguments and returns an exit code;
:func:`build_parser` wires them up, and a new subcommand is one more ``_add_...`` function
called from there. The library never prints: this module does the talking.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

import stockkit

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (``sys.argv[1:]`` by default); return the exit code.

    >>> main(["--version"])  # doctest: +ELLIPSIS
    stockkit ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"stockkit {stockkit.__version__}")
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.handler(args))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stockkit", description="stockkit: embeddable multi-warehouse inventory."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    _add_demo(commands)
    _add_migrate(commands)
    return parser


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {number}")
    return number


# -- demo ---------------------------------------------------------------------------------
def _add_demo(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from stockkit.demo import DEFAULT_ORDERS

    demo = commands.add_parser(
        "demo",
        help="simulate a shop's busy days in memory and print a summary",
        description="Simulate a shop in memory (warehouses, channels, a few hundred SKUs, a stream of "
        "orders with holds, shipments, a replenishment and a transfer), verify the ledger and print "
        "a summary. The same seed always gives the same run.",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    demo.add_argument("--orders", type=_positive_int, default=DEFAULT_ORDERS,
                      help="number of orders to simulate (default: %(default)s)")
    demo.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from stockkit.demo import run_demo

    summary = run_demo(sys.stdout, seed=args.seed, orders=args.orders)
    return 0 if summary.verify_ok else 1


# -- migrate ------------------------------------------------------------------------------
def _add_migrate(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    migrate = commands.add_parser(
        "migrate",
        help="create or upgrade the schema of a SQL store",
        description="Bring the schema of the store at URL (sqlite:///shop.db, postgresql://...) to the "
        "newest version and print it. Opening a store migrates it too, unless its URL says "
        "migrate=false; this command is for deployments that migrate as a separate step.",
    )
    migrate.add_argument("url", help="the store URL, as given to stockkit.open")
    migrate.set_defaults(handler=_run_migrate)


def _run_migrate(args: argparse.Namespace) -> int:
    url = re.sub(r"([?&])migrate=[^&]*&?", r"\1", args.url).rstrip("?&")
    try:
        inventory = stockkit.open(url)
    except stockkit.StockkitError as exc:
        print(f"stockkit migrate: {exc}", file=sys.stderr)
        return 1
    with inventory:
        version = getattr(inventory.store, "schema_version", None)
    if version is None:
        print(f"{url}: this store keeps no schema; nothing to migrate")
    else:
        print(f"{url}: schema at version {version}")
    return 0
