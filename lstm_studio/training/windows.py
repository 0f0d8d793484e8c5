"""The windows of a series as views, encoded for the model only when a batch asks for them.

A series of N values read in windows of T values has about N windows; copying them all (and their
encoding, and the model's dtype copy of it) costs N × T values each time: a million hourly values
read 48 at a time were more than a gigabyte. Here the raw windows are a read-only
``sliding_window_view`` of the series (no copy), and ``EncodedWindows`` / ``EncodedTargets`` stand
where the encoded arrays stood: ``len()``, ``shape``, indexing by an int, a slice, a batch of indices
or a mask, each returning the encoded array of just those windows, computed by the normaliser exactly
as it encodes all of them at once (element by element, so the values are the same to the last bit).
``np.asarray()`` of either builds the whole array, for tests and small data only.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from lstm_studio.training.normalization import Normalizer


def series_windows(values: np.ndarray, seq_len: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(windows (n, seq_len), targets (n, horizon)): read-only views of ``values``, window ``i``
    being ``values[i : i + seq_len]`` and its targets the ``horizon`` values after it."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values) - seq_len - horizon + 1
    windows = sliding_window_view(values[: n + seq_len - 1], seq_len)
    targets = sliding_window_view(values[seq_len : seq_len + n + horizon - 1], horizon)
    return windows, targets


def compact_view_reduce(array: np.ndarray) -> tuple:
    """How to pickle ``array``: a view whose elements overlap in memory (the window views ``series_windows``
    and ``covariates.column_windows`` make), or that covers most of the array it views, as that array and
    where the view lies in it (a pickle sends the array once, however many views share it); any other
    array as NumPy pickles it. A million windows of 48 values then cost a million values to send, not 48
    million."""
    root, itemsize, strides = _viewed_array(array), array.itemsize, array.strides
    if root is None or root.dtype != array.dtype or not array.size or any(s < 0 or s % itemsize for s in strides):
        return array.__reduce__()
    span = sum((n - 1) * s for n, s in zip(array.shape, strides, strict=True)) // itemsize + 1
    start, misaligned = divmod(array.__array_interface__["data"][0] - root.__array_interface__["data"][0], itemsize)
    if misaligned or not 0 <= start <= root.size - span or (span >= array.size and root.size > 2 * span):
        return array.__reduce__()
    return _strided_view, (root, start, array.shape, strides, array.flags.writeable)


def _viewed_array(array: np.ndarray) -> np.ndarray | None:
    """The contiguous array ``array`` is a view of, through any views and ``as_strided``'s wrappers
    (None when there is none)."""
    found, base = None, array.base
    while base is not None:
        if isinstance(base, np.ndarray):
            found = base
        base = getattr(base, "base", None)
    return found if found is not None and found.flags.c_contiguous else None


def _strided_view(values: np.ndarray, start: int, shape: tuple[int, ...], strides: tuple[int, ...],
                  writeable: bool) -> np.ndarray:  # fmt: skip
    flat = values.reshape(-1)[start:]
    return as_strided(flat, shape=shape, strides=strides, writeable=writeable)


class _Encoded:
    """Rows encoded on demand; subclasses say how (``_encode``) and what shape the whole has."""

    windows: np.ndarray  # raw (N, T) windows, usually a view of the series
    dtype: np.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _encode(self, rows: Any) -> np.ndarray:
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: Any) -> np.ndarray:
        rows, rest = (index[0], index[1:]) if isinstance(index, tuple) and index else (index, ())
        if rows is Ellipsis or rows is None:  # indexing that does not start with the rows: rare, do it plainly
            return np.asarray(self)[index]
        if isinstance(rows, (int, np.integer)):
            i = operator.index(rows)
            if not -len(self) <= i < len(self):
                raise IndexError(f"index {i} is out of bounds for {len(self)} windows")
            i %= len(self)
            return self._encode(slice(i, i + 1))[(0, *rest)]
        out = self._encode(rows)
        return out[(slice(None), *rest)] if rest else out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("encoded windows are computed: an array of them is always a new one")
        out = self._encode(slice(None))
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype})"


class EncodedWindows(_Encoded):
    """Model inputs (N, T, 1) — (N, T - 1, 1) when differencing — of raw windows (N, T)."""

    def __init__(self, windows: np.ndarray, normalizer: Normalizer, dtype: Any = np.float64) -> None:
        self.windows, self.normalizer, self.dtype = windows, normalizer, np.dtype(dtype)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(windows, steps the model reads, 1)."""
        return (len(self.windows), self.windows.shape[1] - int(self.normalizer.difference), 1)

    def astype(self, dtype: Any) -> EncodedWindows:
        """The same windows, encoded into ``dtype`` (no data is copied now)."""
        return EncodedWindows(self.windows, self.normalizer, dtype)

    def _encode(self, rows: Any) -> np.ndarray:
        return self.normalizer.encode(self.windows[rows]).astype(self.dtype, copy=False)


class EncodedTargets(_Encoded):
    """Model targets (N, horizon) of raw targets (N, horizon) after raw windows (N, T)."""

    def __init__(
        self, targets: np.ndarray, windows: np.ndarray, normalizer: Normalizer, dtype: Any = np.float64
    ) -> None:
        self.targets, self.windows, self.normalizer, self.dtype = targets, windows, normalizer, np.dtype(dtype)

    @property
    def shape(self) -> tuple[int, int]:
        """(windows, values predicted after each)."""
        return (len(self.targets), self.targets.shape[1])

    def astype(self, dtype: Any) -> EncodedTargets:
        """The same targets, encoded into ``dtype`` (no data is copied now)."""
        return EncodedTargets(self.targets, self.windows, self.normalizer, dtype)

    def _encode(self, rows: Any) -> np.ndarray:
        return self.normalizer.encode_target(self.targets[rows], self.windows[rows]).astype(self.dtype, copy=False)
