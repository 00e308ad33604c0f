"""Throw-away stores for tests: a fresh URL per test for each built-in backend.

PostgreSQL tests find the server at ``STOCKKIT_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) and work in a schema of their own that is
dropped afterwards. Where no server answers they are skipped, unless
``STOCKKIT_REQUIRE_POSTGRES`` is set to a non-empty value (CI sets it), which turns the
skip into a failure.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "BACKENDS",
    "POSTGRES_URL_ENV",
    "REQUIRE_POSTGRES_ENV",
    "DEFAULT_POSTGRES_URL",
    "postgres_url",
    "postgres_unavailable_reason",
    "postgres_required",
    "temporary_postgres_schema",
    "temporary_store_url",
]

#: The built-in backends, by the scheme of their URLs.
BACKENDS = ("memory", "sqlite", "postgresql")
POSTGRES_URL_ENV = "STOCKKIT_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "STOCKKIT_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL server tests use."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def postgres_required() -> bool:
    """Whether a missing PostgreSQL server must fail the tests instead of skipping them."""
    return bool(os.environ.get(REQUIRE_POSTGRES_ENV))


@functools.cache
def postgres_unavailable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or ``None`` when they can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed: pip install 'stockkit[postgres]'"
    try:
        with psycopg.connect(postgres_url(), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {postgres_url()} (set {POSTGRES_URL_ENV}): {str(exc).strip()}"
    return None


@contextmanager
def temporary_postgres_schema(url: str | None = None, **options: str) -> Iterator[str]:
    """Yield a store URL on a new, empty schema of the test server; drop the schema
    afterwards. ``options`` are added to the URL's query (``isolation="serializable"``)."""
    import psycopg

    base = url or postgres_url()
    schema = f"stockkit_test_{uuid.uuid4().hex[:16]}"
    query = "&".join(f"{k}={v}" for k, v in {"schema": schema, "pool_max": "2", **options}.items())
    try:
        yield f"{base}{'&' if '?' in base else '?'}{query}"
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def temporary_store_url(backend: str, directory: Path) -> Iterator[str]:
    """Yield the URL of a new, empty store of ``backend`` (one of :data:`BACKENDS`);
    SQLite files go in ``directory``."""
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        yield f"sqlite:///{directory / f'stockkit-{uuid.uuid4().hex[:8]}.db'}"
    elif backend == "postgresql":
        with temporary_postgres_schema() as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
