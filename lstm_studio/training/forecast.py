"""Forecasting beyond the end of the data: the model's own predictions fed back as inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstm_studio.training.dataset import Dataset
from lstm_studio.training.predictor import Predictor

FORECAST_STEPS = 10  # at least this many values beyond the data (a sequence length, if longer)


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


def no_forecast_reason(predictor: Predictor) -> str:
    """Why there is no forecast beyond the data ('' when there can be one)."""
    if predictor.input_columns:
        return (
            f"no forecast beyond the data: the model also reads {', '.join(predictor.input_columns)}, "
            "whose future values are not known"
        )
    return ""


def forecast_beyond(predictor: Predictor, data: Dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, values) of a forecast past the end of a series task's data, joined to its last real
    value and spaced like its time axis; None for tasks without a series, and for a model that reads
    other columns (``no_forecast_reason``)."""
    if data.series is None or data.task.is_classification or predictor.input_columns:
        return None
    seq_len, x = data.settings.seq_len, data.series.axis
    steps = max(seq_len, FORECAST_STEPS)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            ahead = forecast(predictor, data.series.values, seq_len, steps)
        except ValueError:  # an answer that is not a finite number: no forecast to show
            return None
    step = x[-1] - x[-2] if len(x) > 1 else 1.0
    return x[-1] + step * np.arange(0, steps + 1), np.concatenate([data.series.values[-1:], ahead])
