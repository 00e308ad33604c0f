"""Turning operation arguments and results into JSON text and back.

Idempotency records keep a fingerprint of a call's arguments and its encoded result, so
that a repeated call returns the first result on every backend, after a restart too.
Only stockkit's own value objects (of :mod:`stockkit.model`, :mod:`stockkit.engine` and
:mod:`stockkit.planning`), enums, dates and plain JSON types are encoded.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from typing import Any

import attrs

from stockkit import engine, model, planning

__all__ = ["decode", "encode", "fingerprint"]

_TYPES: dict[str, type] = {
    name: obj
    for module in (model, engine, planning)
    for name in module.__all__
    if isinstance(obj := getattr(module, name), type) and (attrs.has(obj) or issubclass(obj, enum.Enum))
}


def _to_json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, enum.Enum):
        return {"__enum__": type(value).__name__, "value": value.value}
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"__timedelta__": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, (frozenset, set)):
        return {"__set__": sorted((_to_json(v) for v in value), key=repr)}
    if isinstance(value, dict):
        # sorted, so that equal dicts encode (and fingerprint) alike whatever their order
        items = [[_to_json(k), _to_json(v)] for k, v in value.items()]
        return {"__dict__": sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True))}
    if attrs.has(type(value)) and type(value).__name__ in _TYPES:
        fields = {f.name: _to_json(getattr(value, f.name)) for f in attrs.fields(type(value))}
        return {"__type__": type(value).__name__, "fields": fields}
    raise TypeError(f"cannot encode {value!r} of type {type(value).__name__}")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__type__" in value:
        cls = _TYPES[value["__type__"]]
        return cls(**{k: _from_json(v) for k, v in value["fields"].items()})
    if "__enum__" in value:
        return _TYPES[value["__enum__"]](value["value"])
    if "__datetime__" in value:
        return dt.datetime.fromisoformat(value["__datetime__"])
    if "__timedelta__" in value:
        return dt.timedelta(*value["__timedelta__"])
    if "__date__" in value:
        return dt.date.fromisoformat(value["__date__"])
    if "__tuple__" in value:
        return tuple(_from_json(v) for v in value["__tuple__"])
    if "__set__" in value:
        return frozenset(_from_json(v) for v in value["__set__"])
    if "__dict__" in value:
        return {_from_json(k): _from_json(v) for k, v in value["__dict__"]}
    raise ValueError(f"cannot decode {value!r}")


def encode(value: Any) -> str:
    """Encode a value (stockkit value objects, enums, dates, JSON types) as JSON text."""
    return json.dumps(_to_json(value), sort_keys=True, separators=(",", ":"))


def decode(text: str) -> Any:
    """Decode what :func:`encode` produced into an equal value."""
    return _from_json(json.loads(text))


def fingerprint(operation: str, arguments: dict[str, Any]) -> str:
    """A stable digest of an operation's name and its validated arguments."""
    return hashlib.sha256(encode([operation, arguments]).encode()).hexdigest()
