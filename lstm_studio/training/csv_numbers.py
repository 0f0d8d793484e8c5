"""Numbers as people write them in CSV files, and the one way each column of them is read.

A number is written in one of two styles:

- **point style** (English): ``1060.5``, grouped ``1,060.5``: a decimal point; commas may group thousands;
- **comma style** (German, French, …): ``1060,5``, grouped ``1.060,5``: a decimal comma; dots may group thousands.

Either may have a sign, and a plain number may have an exponent (``1e-3``, ``2.5E4``, ``2,5E4``: the mark before
an exponent is always the decimal mark). A group of thousands has exactly three digits after its mark, and the first
group one to three digits not starting with 0 (``0.125`` is never a group). ``nan`` and ``inf`` are numbers that are
refused as not finite, and so is anything too large for a float (``1e400``). Nothing else is a number: no spaces,
apostrophes or underscores inside, no currency or percent signs, ASCII digits only.

Each column is read in ONE style throughout, so it is never half converted. Its cells decide; integers such as
``987`` and numbers such as ``1e3`` read the same in both styles and matter only in the last two rows:

| the column holds | it is read |
| --- | --- |
| a cell that is a number in neither style: `1.2.3`, `1,2,3`, `abc` | refused: 'abc' is not a number |
| cells only point style reads: `1.5`, `0.125`, `1,060.5`, `1,234,567` | in point style |
| cells only comma style reads: `1,5`, `0,125`, `1.060,5`, `1.234.567` | in comma style |
| cells of both kinds | refused, naming one of each, with lines |
| else, cells like `1.060` or `1,060` (one mark, three digits after it), in a comma-separated file | point: 1.06, 1060 |
| else, in another file, a cell like `1,060` | comma: 1.06 |
| else, in another file, `1.060`s beside an integer of at most three digits (`987`) and none longer | comma: 1060, 987 |
| else, in another file, `1.060`s beside a longer integer (`1234`) or beside no integer | point: 1.06 |

(In a comma-separated file a cell with a comma is quoted, ``"1,5"``; unquoted, it would be two cells.)

Why the last two rows: a writer that groups thousands writes 1234 as ``1.234``, and one that writes a fixed number
of decimals writes 987 as ``987.000``; so ``1.060`` beside ``987`` can only be grouping, beside ``1234`` only a
decimal point. When every number has a mark, both readings are uniform; the decimal point is taken.

**Missing values**: an empty cell, a usual mark (``NA``, ``n/a``, ``#N/A``, ``null``, ``none``, ``nil``, ``missing``,
``-``, ``?``, ``.``) or ``nan`` is a gap (``is_gap``), not a number; the reader decides what a gap means.

**Magnitude**: a number beyond ±1e100 (``MAX_MAGNITUDE``) is refused. Training subtracts values from each other
and sums their squares over the whole series (the mean and spread of normalisation, differencing, the RMSE in raw
units): with every value within ±1e100 a difference is within ±2e100, its square within 4e200, and a sum of as many
squares as memory can hold (2^53) stays below 4e216, far under the largest float (1.8e308), so none of this can
overflow. No measurement comes near 1e100 (the observable universe holds ~1e80 atoms): such a cell is a typo or a
placeholder such as 1e308.
"""

from __future__ import annotations

import math
import re
from array import array

import numpy as np

POINT, COMMA = "point", "comma"
MARKS = {POINT: (".", ","), COMMA: (",", ".")}  # style: (decimal mark, grouping mark)
SHOWN_CHARACTERS = 40  # messages quote at most this much of a cell, so they stay one short line
MAX_MAGNITUDE = 1e100  # the largest magnitude of a number read (the module docstring says why)

_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_NAN = re.compile(r"[+-]?nan", re.IGNORECASE)
_DIGITS = frozenset("0123456789")
_INTEGER = re.compile(r"[+-]?(\d+)", re.ASCII)
_MISSING = frozenset({"na", "n/a", "#n/a", "null", "none", "nil", "missing", "-", "?", "."})


def _patterns(decimal: str, group: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The plain (exponent allowed) and the grouped form of one style."""
    d, g = re.escape(decimal), re.escape(group)
    plain = re.compile(rf"[+-]?(?:\d+(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?", re.ASCII)
    grouped = re.compile(rf"[+-]?[1-9]\d{{0,2}}(?:{g}\d{{3}})+(?:{d}\d+)?", re.ASCII)
    return plain, grouped


_FORMS = {style: _patterns(*marks) for style, marks in MARKS.items()}


def value(cell: str, style: str) -> float | None:
    """The number a stripped cell holds when its column is in ``style``; None when it is not written that way."""
    plain, grouped = _FORMS[style]
    if plain.fullmatch(cell) or grouped.fullmatch(cell):
        decimal, group = MARKS[style]
        return float(cell.replace(group, "").replace(decimal, "."))
    return float(cell) if _NOT_FINITE.fullmatch(cell) else None


def readings(cell: str) -> tuple[float | None, float | None]:
    """The values of a stripped cell in point style and in comma style (None: not written that way)."""
    if "." not in cell and "," not in cell:  # no mark: the same in both styles
        number = value(cell, POINT)
        return number, number
    return value(cell, POINT), value(cell, COMMA)


def is_number(cell: str) -> bool:
    """Whether a stripped cell is a number in either style (nan and inf included)."""
    return readings(cell) != (None, None)


def is_missing(cell: str) -> bool:
    """Whether a stripped cell is a usual mark for a missing value (NA, null, -, …)."""
    return cell.lower() in _MISSING


def is_gap(cell: str) -> bool:
    """Whether a stripped cell stands for a missing value: empty, a missing-value mark, or nan."""
    if not cell:
        return True
    if cell[-1] in _DIGITS:  # no mark and no nan ends in a digit: the usual number is ruled out at once
        return False
    return is_missing(cell) or _NAN.fullmatch(cell) is not None


def is_word(cell: str) -> bool:
    """Whether a stripped cell is a name: not empty, not a number, not a missing-value mark."""
    return bool(cell) and not is_number(cell) and not is_missing(cell)


def printable(text: str) -> str:
    """``text`` with unprintable characters (line breaks, controls) escaped, so a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(text: str) -> str:
    """``text`` for a one-line message: at most SHOWN_CHARACTERS characters, unprintable ones escaped."""
    return printable(text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…")


def quoted(text: str) -> str:
    """``text`` quoted for a message, as repr() does, at most SHOWN_CHARACTERS characters of it."""
    return repr(text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…")


class CellError(ValueError):
    """A cell that cannot be read; ``line`` is None when the message names its lines itself."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _what_decides(cell: str, style: str) -> str:
    """Why only ``style`` reads ``cell``, for the message about a column that mixes styles."""
    decimal, group = MARKS[style]
    if decimal in cell:
        return "a decimal point" if decimal == "." else "a decimal comma"
    return "commas grouping thousands" if group == "," else "dots grouping thousands"


class NumberColumn:
    """The numbers of one column, read in the one style its cells allow (the module docstring has the rule).

    Cells are read as they come, in both styles, so the file needs reading only once; a cell that contradicts an
    earlier one is refused at once. The first cell that only one style reads decides the column's style for good:
    from there on only that style's numbers are kept (8 bytes a cell instead of 16).
    """

    def __init__(self, comma_separated: bool) -> None:
        self._comma_separated = comma_separated
        self._values = {POINT: array("d"), COMMA: array("d")}  # every cell as each style still possible reads it
        self._count = 0
        self._decided: str | None = None  # the style a cell only it reads has decided
        self._only: dict[str, tuple[int, str] | None] = {POINT: None, COMMA: None}  # first (line, cell) per style
        self._ambiguous_marks: set[str] = set()  # the marks of cells like 1.060 and 1,060
        self._short_integer = False  # an integer of at most three digits
        self._long_integer = False  # an integer of four digits or more

    def __len__(self) -> int:
        return self._count

    def add(self, line: int, cell: str) -> None:
        """Read one stripped, non-empty cell of file line ``line``; CellError when it is not a finite number or its
        style contradicts an earlier cell's."""
        decided = self._decided
        if decided is not None:  # the usual cell of a decided column: read once, in its style
            number = value(cell, decided)
            if number is not None and -MAX_MAGNITUDE <= number <= MAX_MAGNITUDE:  # (NaN fails this too)
                self._values[decided].append(number)
                self._count += 1
                return
        point, comma = readings(cell)
        if point is None and comma is None:
            raise CellError(f"{quoted(cell)} is not a number", line)
        if not math.isfinite(point if point is not None else comma):
            raise CellError(f"{quoted(cell)} is not a finite number", line)
        if max(abs(point or 0.0), abs(comma or 0.0)) > MAX_MAGNITUDE:
            raise CellError(f"{quoted(cell)} is too large: numbers beyond ±1e100 overflow when scaled", line)
        if comma is None:
            self._note_only(POINT, line, cell)
        elif point is None:
            self._note_only(COMMA, line, cell)
        elif point != comma:
            self._ambiguous_marks.add("," if "," in cell else ".")
        else:
            self._note_integer(cell)
        values = self._values
        if POINT in values:
            values[POINT].append(math.nan if point is None else point)
        if COMMA in values:
            values[COMMA].append(math.nan if comma is None else comma)
        self._count += 1

    def add_missing(self) -> None:
        """Note a gap: NaN in either style."""
        for values in self._values.values():
            values.append(math.nan)
        self._count += 1

    def _note_only(self, style: str, line: int, cell: str) -> None:
        """Remember the first cell only ``style`` reads; refuse the column if an earlier cell only the other reads."""
        other = COMMA if style == POINT else POINT
        if self._only[other] is not None:
            first_line, first = self._only[other]
            raise CellError(
                f"{quoted(first)} (line {first_line}) has {_what_decides(first, other)} but {quoted(cell)} "
                f"(line {line}) {_what_decides(cell, style)}: a column's numbers must be written one way throughout"
            )
        if self._only[style] is None:
            self._only[style] = (line, cell)
            self._decided = style
            self._values.pop(other)  # the column is in ``style`` now, or refused

    def _note_integer(self, cell: str) -> None:
        """Remember the lengths of plain integers: they tell grouping dots from decimal points."""
        match = _INTEGER.fullmatch(cell)
        if match:
            digits = len(match.group(1))
            self._short_integer |= digits <= 3
            self._long_integer |= digits >= 4

    def style(self) -> str:
        """The style the column is read in."""
        for style in (POINT, COMMA):
            if self._only[style] is not None:
                return style
        if self._comma_separated or not self._ambiguous_marks:
            return POINT
        if "," in self._ambiguous_marks:
            return COMMA
        return COMMA if self._short_integer and not self._long_integer else POINT

    def values(self) -> np.ndarray:
        """The column's numbers, float64, in file order, NaN at gaps. Reading ends here: the array is the chosen
        style's buffer itself, not a copy, and the other style's is let go."""
        chosen = self._values[self.style()]
        self._values, self._count = {POINT: array("d"), COMMA: array("d")}, 0
        return np.frombuffer(chosen, dtype=np.float64) if len(chosen) else np.zeros(0)
