"""Forecasting beyond the end of the data: the model's own predictions fed back as inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstm_studio.training.predictor import Predictor


def forecast(predictor: Predictor, history: Sequence[float], seq_len: int, steps: int) -> np.ndarray:
    """The next ``steps`` values after ``history``, one step at a time, each prediction
    appended to the window the next one reads (autoregressive)."""
    window = list(np.asarray(history, dtype=np.float64)[-seq_len:])
    out = []
    for _ in range(steps):
        value = predictor.predict(window).values[0]
        out.append(value)
        window = [*window[1:], value]
    return np.array(out)
