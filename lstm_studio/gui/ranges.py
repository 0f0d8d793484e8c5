"""Axis ranges that only grow, in round steps.

Re-fitting the axes to the data on every frame makes pyqtgraph re-lay out and re-render
every tick label, which costs the GUI thread more than drawing the curves. A range that
grows in round steps changes a handful of times per run instead.
"""

from __future__ import annotations

import math

import numpy as np


def _nice_step(span: float) -> float:
    """A 1, 2 or 5 × 10^k step about a tenth of ``span``."""
    raw = span / 10 if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class ExpandingRange:
    """The smallest round interval covering every value seen since ``reset()``.

    With ``log=True`` the interval is in log10 units and rounded to whole decades
    (pyqtgraph's log axes take log10 values).
    """

    def __init__(self, log: bool = False) -> None:
        self.log = log
        self.low: float | None = None
        self.high: float | None = None

    def reset(self) -> None:
        """Forget every value."""
        self.low = self.high = None

    def include(self, values: np.ndarray | list[float]) -> bool:
        """Widen to cover ``values`` (non-finite ones, and for log non-positive ones, are
        ignored); True when the interval changed."""
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if self.log:
            v = np.log10(v[v > 0])
        if v.size == 0:
            return False
        lo, hi = float(v.min()), float(v.max())
        if self.low is not None and self.low <= lo and hi <= self.high:
            return False
        lo = lo if self.low is None else min(lo, self.low)
        hi = hi if self.high is None else max(hi, self.high)
        if self.log:
            new_low, new_high = math.floor(lo), math.ceil(hi)
            new_high = max(new_high, new_low + 1)
        else:
            step = _nice_step(hi - lo if hi > lo else abs(hi) or 1.0)
            new_low, new_high = math.floor(lo / step) * step, math.ceil(hi / step) * step
            if new_high <= new_low:
                new_low, new_high = new_low - step, new_high + step
        changed = (new_low, new_high) != (self.low, self.high)
        self.low, self.high = new_low, new_high
        return changed
