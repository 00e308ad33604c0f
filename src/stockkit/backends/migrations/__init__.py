"""Versioned SQL schema files of the SQL backends, one folder per database engine.

A file is named ``NNNN_description.sql``; its number is the schema version it brings the
database to. Each backend applies, in order and each in its own transaction, the files
whose number is above the version recorded in its ``schema_version`` table.
"""

from __future__ import annotations

import importlib.resources
import re

__all__ = ["schema_files", "latest_version"]

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def schema_files(engine: str) -> list[tuple[int, str, str]]:
    """``(version, file name, SQL text)`` of an engine's schema files, oldest first."""
    folder = importlib.resources.files(__name__).joinpath(engine)
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    return found


def latest_version(engine: str) -> int:
    """The schema version the newest file of an engine brings a database to."""
    files = schema_files(engine)
    return files[-1][0] if files else 0
