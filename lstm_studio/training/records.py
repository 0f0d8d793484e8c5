"""Reading fields of a recorded JSON object strictly: a weights file may come from anyone.

Every reader checks the type exactly (``true`` is not 1, ``"false"`` is not a boolean,
``"32"`` is not a number) and the range where one is given, and names the field in its
ValueError, so a crafted or damaged record is refused in one clear line instead of being
coerced into something it never said.
"""

from __future__ import annotations

import math
from typing import Any

MAX_TEXT = 1000  # characters of a recorded name, label or path


def _value(record: object, key: str, where: str) -> Any:
    if not isinstance(record, dict):
        raise ValueError(f"{where} must be a JSON object")
    if key not in record:
        raise ValueError(f"{where} has no {key!r}")
    return record[key]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_int(record: object, key: str, where: str, low: int | None = None, high: int | None = None) -> int:
    """``record[key]`` as an integer within [low, high]."""
    value = _value(record, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}.{key} must be an integer, got {_shown(value)}")
    return _in_range(value, f"{where}.{key}", low, high)


def read_float(record: object, key: str, where: str, low: float | None = None, high: float | None = None) -> float:
    """``record[key]`` as a finite number within [low, high] (an integer is a number too)."""
    value = _value(record, key, where)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}.{key} must be a finite number, got {_shown(value)}")
    return _in_range(float(value), f"{where}.{key}", low, high)


def read_bool(record: object, key: str, where: str) -> bool:
    """``record[key]`` as true or false (JSON booleans only)."""
    value = _value(record, key, where)
    if not isinstance(value, bool):
        raise ValueError(f"{where}.{key} must be true or false, got {_shown(value)}")
    return value


def read_str(record: object, key: str, where: str, max_length: int = MAX_TEXT) -> str:
    """``record[key]`` as a string of at most ``max_length`` characters."""
    value = _value(record, key, where)
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key} must be a string, got {_shown(value)}")
    if len(value) > max_length:
        raise ValueError(f"{where}.{key} is longer than {max_length} characters")
    return value


def read_object(record: object, key: str, where: str) -> dict:
    """``record[key]`` as a JSON object."""
    value = _value(record, key, where)
    if not isinstance(value, dict):
        raise ValueError(f"{where}.{key} must be a JSON object, got {_shown(value)}")
    return value


def _in_range(value: float, name: str, low: float | None, high: float | None) -> Any:
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (
            f"between {low:g} and {high:g}"
            if low is not None and high is not None
            else (f"at least {low:g}" if low is not None else f"at most {high:g}")
        )
        raise ValueError(f"{name} must be {bounds}, got {value:g}")
    return value
