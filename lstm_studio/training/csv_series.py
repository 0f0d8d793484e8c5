"""Reading one numeric column of a CSV file as a time series, with one clear message per problem.

What the reader accepts, in the order it looks:

- **The file**: a regular file (a folder, FIFO or device is refused before it is opened, so nothing blocks), lines
  ending in LF, CRLF or CR, in one of these encodings (``csv_text`` has the rule; ``Series.encoding`` says which):
  UTF-16 with a byte-order mark (Excel's "Unicode text") or without one when its first two characters are ASCII,
  UTF-8 with or without one, and, when the file is not
  UTF-8, Windows-1252 (an accented header saved on Windows). A file that is UTF-8 up to a byte that is not is
  refused as mixing encodings; NUL bytes (outside UTF-16) and UTF-32 are refused.
- **Title lines**: lines above the header that hold no number and split into another number of cells than the
  header below them ("Monthly sales 2020" above "date,value") are skipped, at most 10 of them. (In a one-column
  file a title cannot be told from a header: it is taken as the header, and the real header is then reported as a
  cell that is not a number.)
- **Separator**: the first of ``;``, tab and ``,`` that splits the table's first line into two cells or more; with
  none of them the file has one column, each line one cell (surrounding quotes removed).
- **Header**: the first row names the columns when it holds no number and one of its words (a cell that is neither
  a number nor a missing-value mark such as NA) stands above a number in the next 20 rows, or above nothing but
  missing-value marks. Otherwise the first row is data and the columns are called 1, 2, 3, …. A file whose only
  row looks like a header (words, no number) is refused as having no data rows. A name used by two columns is
  refused when the value or time column is chosen by it, naming both positions; names used twice by columns not
  chosen do no harm.
- **Rows**: blank rows are skipped; a row with fewer cells than columns has empty cells at its end; a row with
  non-empty cells beyond the last column is refused (in a comma-separated file, usually an unquoted decimal comma).
- **Numbers**: each cell of the chosen column must be a number within ±1e100 (beyond, scaling can overflow:
  ``csv_numbers`` says why), and the column is read in one number style throughout (decimal point or decimal comma;
  ``csv_numbers`` has the rule).
- **Gaps**: an empty cell, a missing-value mark (NA, n/a, #N/A, null, -, ?, …) or nan. With ``missing="error"``
  (the default) the first gap is refused, and the message says how to keep gaps; with ``missing="interpolate"``
  each gap is a NaN in ``Series.values`` and ``Series.missing`` counts them. The reader fills nothing: which values
  may fill a gap depends on where the training part ends, so ``gaps.fill_gaps`` does it once that is known.
- **The series**: at least two numbers, not all the same.

Every problem is one ``CsvError`` naming the file, and the line and column where there is one, in one short line:
at most 40 characters of any cell are quoted and at most 10 columns listed. Only the file's first lines are read to
find its columns; the values are then read line by line, keeping the values (8 bytes a row once a cell has decided
the number style, usually the first; 16 until then; the buffer becomes ``Series.values`` without a copy) and the
time labels (``TimeLabels``: their UTF-8 bytes, plus an 8-byte end each unless all have one length), nothing more.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, islice
from pathlib import Path

import numpy as np

from lstm_studio.training.csv_labels import LabelBuilder, TimeLabels
from lstm_studio.training.csv_numbers import (
    CellError,
    NumberColumn,
    is_gap,
    is_missing,
    is_number,
    is_word,
    printable,
    quoted,
    shown,
)
from lstm_studio.training.csv_text import CsvError, TextFile, open_file

__all__ = ["MISSING_MODES", "CsvError", "Series", "TimeLabels", "read_columns", "read_series"]

DELIMITERS = (";", "\t", ",")  # the first that splits the table's first line is the separator
SAMPLE_LINES = 30  # lines read to find the title lines and the separator
HEADER_ROWS = 20  # rows under the first one that decide whether it is a header
MAX_TITLE_LINES = 10
SHOWN_COLUMNS = 10  # a message lists at most this many column names
_ANY_DELIMITER = re.compile("[;\t,]")
MISSING_MODES = ("error", "interpolate")  # what read_series does with a gap: refuse it, or keep it as NaN
MISSING_HINT = "use --missing interpolate to fill gaps"
PROGRESS_LINES = 50_000  # a progress report every so many lines


@dataclass(frozen=True)
class Series:
    """One column of numbers, in file order, with optional labels for the time axis."""

    values: np.ndarray  # (N,) float64, finite; NaN at each gap when read with missing="interpolate"
    times: TimeLabels | None  # the time column's cells, when one was chosen (reads like a tuple of str)
    column: str
    path: str
    encoding: str = "utf-8"  # how the file was decoded: "utf-8", "utf-16-le", "utf-16-be" or "windows-1252"
    missing: int = 0  # how many values are gaps (NaN): 0 unless read with missing="interpolate"

    @cached_property
    def axis(self) -> np.ndarray:
        """X values for plots: the time column when every cell is a finite number, else 0, 1, 2, …
        (worked out once: plots ask for it after every epoch)."""
        if self.times:
            try:
                axis = np.fromiter(map(float, self.times), dtype=float, count=len(self.times))
            except ValueError:
                pass
            else:
                if np.all(np.isfinite(axis)):
                    return axis
        return np.arange(len(self.values), dtype=float)


# ----- rows: the separator, the cells of each line, the title lines ----------------------------------------------
def _split(line: str, delimiter: str) -> list[str]:
    """The cells of one line taken alone (for looking at the first lines; quotes spanning lines are not joined)."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a cell beyond the csv module's size limit: reading the rows will say so
        return line.split(delimiter)


def _delimiter(line: str) -> str | None:
    """The separator that splits ``line`` into two cells or more, ';' before tab before ','; None: one column."""
    return next((d for d in DELIMITERS if len(_split(line, d)) >= 2), None)


def _csv_reason(error: csv.Error) -> str:
    """The csv module's complaint in the user's words."""
    text = str(error)
    if text == "unexpected end of data":
        return "a quote is opened and never closed"
    if text.startswith("field larger than field limit"):
        return f"a cell is longer than {csv.field_size_limit()} characters"
    return text


def _unquoted(text: str) -> str:
    """The cell of a one-column file's line: without its line ending and surrounding quotes."""
    cell = text.rstrip("\r\n")
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].replace('""', '"')
    return cell


def _rows(lines: Iterator[str], delimiter: str | None, first_line: int, name: str) -> Iterator[tuple[int, list[str]]]:
    """The rows that hold something, each with the file line it starts on."""
    if delimiter is None:
        for line, text in enumerate(lines, first_line):
            cell = _unquoted(text)
            if cell.strip():
                yield line, [cell]
        return
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        line = first_line + reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvError(f"{name}, line {line}: not a readable CSV file ({_csv_reason(exc)})") from None
        if any(cell.strip() for cell in row):
            yield line, row


def _looks_like_header(first: list[str]) -> bool:
    """Whether a row could name columns: it holds a word and no number."""
    cells = [cell.strip() for cell in first]
    return any(map(is_word, cells)) and not any(map(is_number, cells))


def _is_header(first: list[str], later: list[list[str]]) -> bool:
    """Whether ``first`` names the columns of the rows ``later``: it looks like a header, and one of its words stands
    above a number, or above nothing but missing-value marks."""
    if not _looks_like_header(first):
        return False
    for k, cell in enumerate(cell.strip() for cell in first):
        if not is_word(cell):
            continue
        below = [row[k].strip() for row in later if k < len(row) and row[k].strip()]
        if any(is_number(c) for c in below) or (below and all(is_missing(c) for c in below)):
            return True
    return False


def _holds_a_number(line: str) -> bool:
    """Whether any piece of ``line`` between separators is a number (such a line is never a title)."""
    return any(is_number(piece.strip()) for piece in _ANY_DELIMITER.split(line))


def _table_under_titles(titles: list[str], table: list[str]) -> bool:
    """Whether the lines ``titles`` stand above a table whose first line ``table[0]`` is its header: the header has
    a row of as many cells under it (or nothing), and every title splits into another number of cells than it."""
    delimiter = _delimiter(table[0])
    if delimiter is None:
        return False
    header = _split(table[0], delimiter)
    if any(len(_split(title, delimiter)) == len(header) for title in titles):
        return False
    rows = [_split(text, delimiter) for text in table[1:]]
    if not rows:  # a header alone: the message will say there are no data rows
        return _looks_like_header(header)
    return len(rows[0]) == len(header) and _is_header(header, rows)


def _title_lines(sample: list[str]) -> int:
    """How many of the first lines ``sample`` come before the table: title lines without a number, and blank lines
    among them (0 when the table starts at once)."""
    filled = [k for k, text in enumerate(sample) if text.strip()]
    for start in range(1, min(MAX_TITLE_LINES + 1, len(filled))):
        if _holds_a_number(sample[filled[start - 1]]):
            break
        if _table_under_titles([sample[k] for k in filled[:start]], [sample[k] for k in filled[start:]]):
            return filled[start]
    return 0


# ----- the table: its columns, then its data rows as they are read ------------------------------------------------
@dataclass
class _Table:
    name: str  # the path, as messages show it
    header: list[str]
    has_header: bool
    delimiter: str | None  # None: one column
    rows: Iterator[tuple[int, list[str]]]  # the data rows (file line, cells), read as they are asked for
    text: TextFile | None = None  # the file's text: its encoding is final once the rows are all read


def _listed(names: list[str]) -> str:
    """Column names for a message: at most SHOWN_COLUMNS of them, each cut short."""
    listed = ", ".join(shown(name) for name in names[:SHOWN_COLUMNS])
    return listed if len(names) <= SHOWN_COLUMNS else f"{listed}, … ({len(names)} in all)"


def _shape(name: str, head: list[tuple[int, list[str]]], rest: Iterator, delimiter: str | None) -> _Table:
    """The table whose first rows are ``head``: with its header row, or with columns called 1, 2, …."""
    first = head[0][1]
    header = [cell.strip() or str(k + 1) for k, cell in enumerate(first)]
    if len(head) == 1 and _looks_like_header(first):
        raise CsvError(f"{name}: the file has a header row ({_listed(header)}) but no data rows")
    if _is_header(first, [cells for _, cells in head[1:]]):
        return _Table(name, header, True, delimiter, chain(head[1:], rest))
    width = max(len(cells) for _, cells in head)
    return _Table(name, [str(k + 1) for k in range(width)], False, delimiter, chain(head, rest))


@contextmanager
def _reading(path: str | os.PathLike[str]) -> Iterator[_Table]:
    """The file's table, open while the block runs; every problem, I/O errors included, is a CsvError."""
    name = printable(os.fspath(path))
    try:
        with open_file(path, name) as handle:
            text_file = TextFile(handle, name)
            lines = text_file.lines()
            first_line = 1
            for text in lines:
                if text.strip():
                    break
                first_line += 1
            else:
                raise CsvError(f"{name}: the file is empty")
            sample = [text, *islice(lines, SAMPLE_LINES - 1)]
            skipped = _title_lines(sample)
            delimiter = _delimiter(sample[skipped])
            rows = _rows(chain(sample[skipped:], lines), delimiter, first_line + skipped, name)
            head = list(islice(rows, HEADER_ROWS + 1))
            if not head:
                raise CsvError(f"{name}: the file holds no values")
            table = _shape(name, head, rows, delimiter)
            table.text = text_file
            yield table
    except OSError as exc:
        raise CsvError(f"{name}: cannot be read ({exc.strerror or exc})") from None


def read_columns(path: str | Path) -> list[str]:
    """The column names (1, 2, … when the file has no header row); only the first lines are read."""
    with _reading(path) as table:
        return table.header


def _column_index(table: _Table, column: str) -> int:
    """Where ``column`` is in the table's rows; CsvError when it is missing or named twice."""
    matches = [k for k, name in enumerate(table.header) if name == column]
    if not matches:
        raise CsvError(f"{table.name}: no column {quoted(column)}; the columns are {_listed(table.header)}")
    if len(matches) > 1:
        times = "twice" if len(matches) == 2 else f"{len(matches)} times"
        places = ", ".join(str(k + 1) for k in matches[:-1][: SHOWN_COLUMNS - 1]) + f" and {matches[-1] + 1}"
        raise CsvError(
            f"{table.name}: column {quoted(column)} appears {times} in the header (columns {places}): rename one"
        )
    return matches[0]


def _check_width(table: _Table, line: int, cells: list[str]) -> None:
    """CsvError for a row with something beyond the table's last column."""
    width = len(table.header)
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        where = "the header has" if table.has_header else "the first rows have"
        hint = " (is a decimal comma not quoted?)" if table.delimiter == "," else ""
        raise CsvError(f"{table.name}, line {line}: {len(cells)} cells, but {where} {width}{hint}")


def _gap(cell: str) -> str:
    """What a gap's cell is, for the message refusing it."""
    if not cell:
        return "the cell is empty (a missing value)"
    if is_missing(cell):
        return f"{quoted(cell)} marks a missing value"
    return f"{quoted(cell)} is not a finite number (a missing value)"


def read_series(
    path: str | Path,
    column: str,
    time_column: str | None = None,
    missing: str = "error",
    progress: Callable[[float], None] | None = None,
    target: bool = True,
) -> Series:
    """The numbers of ``column`` (and the labels of ``time_column``): one per data row, that is per row below the
    header that is not blank; CsvError naming the first bad cell. A gap (an empty cell, NA, nan, …) is refused with
    ``missing="error"``, and kept as NaN with ``missing="interpolate"`` (``gaps.fill_gaps`` fills it once the
    training part is known); the column must still hold two different numbers, unless it is not the ``target``
    (another column read beside it may well be constant). ``progress`` is told the share of the file read now
    and then (from the reading thread)."""
    if missing not in MISSING_MODES:
        raise ValueError(f"missing must be one of {', '.join(MISSING_MODES)}, not {missing!r}")
    with _reading(path) as table:
        index = _column_index(table, column)
        time_index = _column_index(table, time_column) if time_column else None
        numbers = NumberColumn(comma_separated=table.delimiter == ",")
        times = LabelBuilder()
        gaps, first_number = 0, None
        for line, cells in table.rows:
            if progress is not None and line % PROGRESS_LINES == 0:
                progress(table.text.fraction_read())
            _check_width(table, line, cells)
            cell = cells[index].strip() if index < len(cells) else ""
            if is_gap(cell):
                if missing == "error":
                    raise CsvError(f"{table.name}, line {line}, column {quoted(column)}: {_gap(cell)}; {MISSING_HINT}")
                numbers.add_missing()
                gaps += 1
            else:
                try:
                    numbers.add(line, cell)
                except CellError as exc:
                    where = f", line {exc.line}" if exc.line is not None else ""
                    raise CsvError(f"{table.name}{where}, column {quoted(column)}: {exc}") from None
                first_number = first_number or line
            if time_index is not None:
                times.add(cells[time_index].strip() if time_index < len(cells) else "")
        encoding = table.text.encoding if table.text else "utf-8"
    count = len(numbers) - gaps
    if count == 0:
        cells = "its only cell is" if gaps == 1 else f"its {gaps} cells are all"
        raise CsvError(f"{table.name}: column {quoted(column)} holds no number: {cells} missing")
    if count == 1 and target:
        raise CsvError(f"{table.name}: column {quoted(column)} has only one value (line {first_number})")
    values = numbers.values()
    known = values[~np.isnan(values)] if gaps else values
    if target and np.all(known == known[0]):
        raise CsvError(
            f"{table.name}: column {quoted(column)} is constant ({known[0]:g} throughout): there is nothing to learn"
        )
    labels = times.labels() if time_index is not None else None
    return Series(values, labels, column, os.fspath(path), encoding=encoding, missing=gaps)
