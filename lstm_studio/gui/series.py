"""Append-only plot data that grows by doubling, so appending stays cheap for long runs."""

from __future__ import annotations

import numpy as np


class Series:
    """(x, y) points appended one at a time or in blocks; ``x``/``y`` are views, no copies."""

    def __init__(self, capacity: int = 256) -> None:
        self._data = np.empty((2, capacity))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, y: float) -> None:
        """Add one point."""
        self.extend([x], [y])

    def extend(self, xs: list[float] | np.ndarray, ys: list[float] | np.ndarray) -> None:
        """Add many points."""
        k = len(xs)
        if self._n + k > self._data.shape[1]:
            grown = np.empty((2, max(2 * self._data.shape[1], self._n + k)))
            grown[:, : self._n] = self._data[:, : self._n]
            self._data = grown
        self._data[0, self._n : self._n + k] = xs
        self._data[1, self._n : self._n + k] = ys
        self._n += k

    def clear(self) -> None:
        """Forget every point."""
        self._n = 0

    @property
    def x(self) -> np.ndarray:
        """The x values so far."""
        return self._data[0, : self._n]

    @property
    def y(self) -> np.ndarray:
        """The y values so far."""
        return self._data[1, : self._n]
