"""Filling the gaps of a series (NaN where a CSV cell was missing) so that validation never leaks into training.

``train_end`` is the index of the first value of the validation part (``len(values)`` when every value is
training). A gap is a run of NaN; what fills it depends on its known neighbours, the last value before it and the
first after it:

- **both neighbours before train_end** (a gap inside the training part): linear interpolation between them;
- **the next neighbour at or after train_end, or none** (a gap in the validation part, one straddling the boundary,
  or one at the end): the last known value, carried forward. The validation part is never filled from its future,
  so a filled value is one a forecaster would have had at that time; and the training part is never filled from a
  validation value;
- **no value before it** (the series starts with gaps): the first known value, carried back, when it lies in the
  training part; training is fitted on every training value anyway, so this uses nothing it does not already see.
  When the training part holds no number at all there is nothing to fill from, and that is a ``ValueError``.

Pure NumPy: the neighbours of every gap are found at once with ``np.searchsorted`` on the known positions.
"""

from __future__ import annotations

import numpy as np


def fill_gaps(values: np.ndarray, train_end: int) -> tuple[np.ndarray, int]:
    """(a copy of ``values`` with every NaN filled as the module docstring says, how many were filled).

    ``values``: 1-D floats, finite or NaN. ``train_end``: 0 ≤ train_end ≤ len(values). ValueError when the input
    is not that, or when the series starts with gaps and its training part holds no number to fill them from.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"fill_gaps takes a 1-D series, not an array of shape {values.shape}")
    n = len(values)
    if not 0 <= train_end <= n:
        raise ValueError(f"train_end must lie between 0 and the series' length {n}, not {train_end}")
    if np.isinf(values).any():
        raise ValueError("fill_gaps takes finite values and NaN at gaps, not infinities")
    gap = np.isnan(values)
    gaps = np.flatnonzero(gap)
    filled = values.copy()
    if not len(gaps):
        return filled, 0
    known = np.flatnonzero(~gap)
    if not len(known) or (gaps[0] < known[0] and known[0] >= train_end):
        raise ValueError(_leading_gap_message(int(known[0]) if len(known) else n, train_end))
    after = np.searchsorted(known, gaps)  # where each gap's next known value is among the known positions
    has_before, has_after = after > 0, after < len(known)
    before = known[np.maximum(after - 1, 0)]
    next_known = known[np.minimum(after, len(known) - 1)]
    inside = has_before & has_after & (next_known < train_end)
    carried = has_before & ~inside
    leading = ~has_before
    at, lo, hi = gaps[inside], before[inside], next_known[inside]
    filled[at] = values[lo] + (at - lo) / (hi - lo) * (values[hi] - values[lo])
    filled[gaps[carried]] = values[before[carried]]
    filled[gaps[leading]] = values[known[0]]
    return filled, len(gaps)


def _leading_gap_message(first: int, train_end: int) -> str:
    """Why the gaps at the start of a series cannot be filled: no number in its training part."""
    start = f"the series starts with {first} missing value{'s' if first != 1 else ''}"
    if train_end == 0:
        return f"{start} and has no training part to fill them from"
    return f"{start}: its training part (the first {train_end}) holds no number to fill them from"
