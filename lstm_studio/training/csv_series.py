"""Reading one numeric column of a CSV file as a time series, with one clear message per problem.

Comma, semicolon or tab separated; with a header row or without (then the columns are
called 1, 2, 3, …). A semicolon-separated file may use decimal commas (3,14).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
DELIMITERS = (";", "\t", ",")  # the first one found in the first line wins: ';' files use decimal commas


class CsvError(ValueError):
    """A CSV file that cannot be read as a series; the message names the file, line and column."""


@dataclass(frozen=True)
class Series:
    """One column of numbers, in file order, with optional labels for the time axis."""

    values: np.ndarray  # (N,) float64, every value finite
    times: tuple[str, ...] | None  # the time column's cells, when one was chosen
    column: str
    path: str

    @cached_property
    def axis(self) -> np.ndarray:
        """X values for plots: the time column when every cell is a number, else 0, 1, 2, …
        (worked out once: plots ask for it after every epoch)."""
        if self.times:
            try:
                return np.array([float(t) for t in self.times])
            except ValueError:
                pass
        return np.arange(len(self.values), dtype=float)


@dataclass(frozen=True)
class _Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)
    delimiter: str


def _number(cell: str, delimiter: str) -> float:
    text = cell.strip()
    if delimiter != "," and DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    return float(text)


def _is_number(cell: str, delimiter: str) -> bool:
    try:
        _number(cell, delimiter)
    except ValueError:
        return False
    return True


def _read_table(path: str | Path) -> _Table:
    path = Path(path)
    if not path.is_file():
        raise CsvError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(f"{path}: not a text file (byte {exc.start} is not UTF-8)") from None
    except OSError as exc:
        raise CsvError(f"{path}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise CsvError(f"{path}: the file is empty")
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = next((d for d in DELIMITERS if d in first_line), "\n")  # "\n": a single column
    try:
        lines = list(csv.reader(text.splitlines(), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise CsvError(f"{path}: not a readable CSV file ({exc})") from None
    numbered = [(i + 1, row) for i, row in enumerate(lines) if any(cell.strip() for cell in row)]
    if not numbered:
        raise CsvError(f"{path}: the file holds no values")
    first = numbered[0][1]
    second = numbered[1][1] if len(numbered) > 1 else []
    # A header row has a word where the next row has a number (a date column stays data).
    has_header = any(
        cell.strip() and not _is_number(cell, delimiter) and k < len(second) and _is_number(second[k], delimiter)
        for k, cell in enumerate(first)
    )
    if has_header:
        header = [cell.strip() or str(k + 1) for k, cell in enumerate(first)]
        rows = numbered[1:]
    else:
        header = [str(k + 1) for k in range(max(len(row) for _, row in numbered))]
        rows = numbered
    return _Table(header, rows, delimiter)


def read_columns(path: str | Path) -> list[str]:
    """The column names (1, 2, … when the file has no header row)."""
    return _read_table(path).header


def _column_index(table: _Table, path: str | Path, column: str) -> int:
    if column in table.header:
        return table.header.index(column)
    raise CsvError(f"{path}: no column {column!r}; the columns are {', '.join(table.header)}")


def read_series(path: str | Path, column: str, time_column: str | None = None) -> Series:
    """The numbers of ``column`` (and the labels of ``time_column``); CsvError naming the first bad cell."""
    table = _read_table(path)
    index = _column_index(table, path, column)
    time_index = _column_index(table, path, time_column) if time_column else None
    values, times = [], []
    for line, row in table.rows:
        cell = row[index].strip() if index < len(row) else ""
        where = f"{path}, line {line}, column {column!r}"
        if not cell:
            raise CsvError(f"{where}: the cell is empty")
        try:
            value = _number(cell, table.delimiter)
        except ValueError:
            raise CsvError(f"{where}: {cell!r} is not a number") from None
        if not math.isfinite(value):
            raise CsvError(f"{where}: {cell!r} is not a finite number")
        values.append(value)
        if time_index is not None:
            times.append(row[time_index].strip() if time_index < len(row) else "")
    if not values:
        raise CsvError(f"{path}: column {column!r} has no values")
    array = np.array(values)
    if np.all(array == array[0]):
        raise CsvError(f"{path}: column {column!r} is constant ({values[0]:g} throughout): there is nothing to learn")
    return Series(array, tuple(times) if time_index is not None else None, column, str(path))
