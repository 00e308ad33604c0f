"""``python -m stockkit``: the same as the ``stockkit`` command."""

from stockkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
