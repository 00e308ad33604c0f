"""A clock for tests: it stands still until told to move."""

from __future__ import annotations

import datetime as dt

__all__ = ["START", "FakeClock"]

#: Where a :class:`FakeClock` starts unless told otherwise.
START = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


class FakeClock:
    """A clock for ``stockkit.open(clock=...)``: calling it returns :attr:`now`, an aware
    UTC datetime that changes only through :meth:`advance`.

    >>> clock = FakeClock()
    >>> clock() == START
    True
    >>> clock.advance(dt.timedelta(minutes=5)) == START + dt.timedelta(minutes=5)
    True
    """

    def __init__(self, now: dt.datetime = START) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"a FakeClock needs an aware datetime, got {now!r}")
        self.now = now.astimezone(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move the time forward by ``delta`` (not backward) and return the new time."""
        if delta < dt.timedelta(0):
            raise ValueError(f"a FakeClock only moves forward, got {delta!r}")
        self.now = self.now + delta
        return self.now

    def __repr__(self) -> str:
        return f"FakeClock({self.now.isoformat()})"
