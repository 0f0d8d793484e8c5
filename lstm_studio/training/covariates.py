"""Other columns of a CSV as inputs beside the target's own history (covariates).

Each step of a window then carries the target's value (as the normaliser encodes it) and the values of
the other columns at the same time, each z-scored on the training part. A window predicting the value
at time t + T reads the columns up to time t + T - 1: only what is known when the forecast is made.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lstm_studio.training.dataset import Dataset
from lstm_studio.training.normalization import InputScale, Normalizer
from lstm_studio.training.windows import EncodedWindows


class EncodedWindowsWithInputs(EncodedWindows):
    """Model inputs (N, T', 1 + k) of raw windows (N, T) and the other columns over them (N, T, k)."""

    def __init__(self, windows: np.ndarray, covariates: np.ndarray, normalizer: Normalizer, dtype: Any = np.float64
                 ) -> None:  # fmt: skip
        super().__init__(windows, normalizer, dtype)
        self.covariates = covariates

    @property
    def shape(self) -> tuple[int, int, int]:
        """(windows, steps the model reads, 1 + other columns)."""
        n, steps, _ = super().shape
        return (n, steps, 1 + self.covariates.shape[2])

    def astype(self, dtype: Any) -> EncodedWindowsWithInputs:
        """The same windows, encoded into ``dtype`` (no data is copied now)."""
        return EncodedWindowsWithInputs(self.windows, self.covariates, self.normalizer, dtype)

    def _encode(self, rows: Any) -> np.ndarray:
        encoded = self.normalizer.encode(self.windows[rows], self.covariates[rows])
        return encoded.astype(self.dtype, copy=False)


def column_windows(columns: np.ndarray, seq_len: int, n_windows: int) -> np.ndarray:
    """(n_windows, seq_len, k) read-only views of ``columns`` (N, k): window i covers rows i … i + seq_len - 1."""
    view = sliding_window_view(columns[: n_windows + seq_len - 1], seq_len, axis=0)  # (n, k, T)
    return view.transpose(0, 2, 1)


def with_inputs(data: Dataset, names: tuple[str, ...], columns: np.ndarray, training_length: int,
                normalizer: Normalizer | None = None) -> Dataset:  # fmt: skip
    """``data`` (a series task's, built without covariates) reading ``columns`` (N, k), named ``names``,
    beside its own values: scaled on the first ``training_length`` rows (what the training windows
    use), or as a trained model's ``normalizer`` records."""
    if normalizer is not None and normalizer.input_columns != names:
        raise ValueError(f"the model reads columns {list(normalizer.input_columns)}, not {list(names)}")
    if normalizer is None:
        scales = tuple(InputScale.fit(name, columns[:training_length, k]) for k, name in enumerate(names))
        normalizer = replace(data.normalizer, inputs=scales)
    n_train, n_val = len(data.x_train), len(data.x_val)
    first_val = data.val_start - data.settings.seq_len  # the first validation window
    windows = column_windows(columns, data.settings.seq_len, first_val + n_val)
    return replace(
        data,
        normalizer=normalizer,
        x_train=EncodedWindowsWithInputs(data.x_train.windows, windows[:n_train], normalizer),
        x_val=EncodedWindowsWithInputs(data.x_val.windows, windows[first_val:], normalizer),
    )
