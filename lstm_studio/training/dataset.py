"""Splitting a task's data into training and validation parts the model can read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_studio.training.csv_series import Series
from lstm_studio.training.normalization import Normalizer
from lstm_studio.training.tasks import Task, TaskSettings
from lstm_studio.training.windows import EncodedTargets, EncodedWindows, series_windows

Inputs = np.ndarray | EncodedWindows  # (N, T, 1) model inputs: an array, or a series' windows encoded per batch
Targets = np.ndarray | EncodedTargets  # (N, O) model targets (or (N,) class indices): likewise


@dataclass
class Dataset:
    """Model-ready data plus the raw validation data the metrics are measured on.

    A generated task holds arrays. A series task holds no copy of its windows: ``val_windows``,
    ``val_targets`` and ``train_targets`` are read-only views of the series, and ``x_*`` / ``y_*``
    encode the windows a batch (or a chunk of validation) indexes, when it indexes them
    (``windows.EncodedWindows``): read them by index or slice, as the trainer and the metrics do.
    """

    task: Task
    settings: TaskSettings
    normalizer: Normalizer
    x_train: Inputs  # (N_train, T, 1)
    y_train: Targets  # (N_train, 1) floats, or (N_train,) class indices
    x_val: Inputs
    y_val: Targets
    val_windows: np.ndarray  # raw (N_val, T)
    val_targets: np.ndarray  # raw next values (N_val,) or (N_val, horizon), or class indices (N_val,)
    train_targets: np.ndarray  # raw, for baselines such as the training mean
    series: Series | None = None  # the whole series, for series tasks
    val_start: int = 0  # index in the series of the first validation target
    source_sha256: str = ""  # of the CSV file the series was read from
    notes: tuple[str, ...] = ()  # how the data was read, one line each: an encoding, gaps filled


def check_val_split(val_split: float) -> None:
    """ValueError unless the validation fraction lies strictly between 0 and 1."""
    if not 0.0 < val_split < 1.0:
        raise ValueError(f"val-split must lie strictly between 0 and 1, got {val_split}")


def split_sizes(n: int, val_split: float) -> tuple[int, int]:
    """(train, validation) counts; both at least one or ValueError."""
    check_val_split(val_split)
    n_val = round(n * val_split)
    if n_val < 1 or n - n_val < 1:
        raise ValueError(f"{n} samples cannot be split {1 - val_split:.0%}/{val_split:.0%}: add samples")
    return n - n_val, n_val


def make_dataset(
    task: Task, settings: TaskSettings, val_split: float, seed: int, normalizer: Normalizer | None = None
) -> Dataset:
    """Generate the task's data from ``seed``, shuffle-split it, and fit the normaliser on
    the training part only (unless a trained model's ``normalizer`` is given).
    """
    settings.validate()  # make_dataset may be called on its own: the settings' one check
    n_train, _ = split_sizes(settings.n_samples, val_split)
    rng = np.random.default_rng(seed)
    windows, targets = task.generate(settings, rng)
    order = rng.permutation(len(windows))
    train, val = order[:n_train], order[n_train:]
    normalizer = normalizer or Normalizer.fit(windows[train], task.relative_to_last)
    if task.is_classification:
        y_train, y_val = targets[train].astype(np.int64), targets[val].astype(np.int64)
    else:
        y_train = normalizer.encode_target(targets[train], windows[train])
        y_val = normalizer.encode_target(targets[val], windows[val])
    return Dataset(
        task=task,
        settings=settings,
        normalizer=normalizer,
        x_train=normalizer.encode(windows[train]),
        y_train=y_train,
        x_val=normalizer.encode(windows[val]),
        y_val=y_val,
        val_windows=windows[val],
        val_targets=targets[val],
        train_targets=targets[train],
    )


def series_window_counts(series: Series, seq_len: int, horizon: int, val_split: float) -> tuple[int, int, int]:
    """(windows, training windows used, first validation window) of a series; ValueError when
    the series is too short for its windows and split. Counts only: no window is built."""
    n = len(series.values) - seq_len - horizon + 1
    if n < 2:
        raise ValueError(
            f"{series.path}: {len(series.values)} values in column {series.column!r} are too few for windows of "
            f"{seq_len} values and {horizon} to predict: at least {seq_len + horizon + 1} are needed"
        )
    n_train, _ = split_sizes(n, val_split)
    # The last horizon - 1 training windows would predict values that validation predicts too.
    n_fit = n_train - (horizon - 1)
    if n_fit < 1:
        raise ValueError(f"{series.path}: the series is too short for a horizon of {horizon} with this split")
    return n, n_fit, n_train


def make_series_dataset(
    task: Task,
    settings: TaskSettings,
    series: Series,
    horizon: int,
    val_split: float,
    difference: bool,
    normalizer: Normalizer | None = None,
) -> Dataset:
    """Windows of ``seq_len`` values predicting the next ``horizon``, split in time: the last
    ``val_split`` part of the windows is validation, and normalisation is fitted on the values
    the training windows use, so nothing from the validation part leaks into training. A
    trained model's ``normalizer`` is used as it is: that is what its predictions assume."""
    settings.validate(generated=False)
    T, values = settings.seq_len, series.values
    n, n_fit, n_train = series_window_counts(series, T, horizon, val_split)
    windows, targets = series_windows(values, T, horizon)  # views: (n, T) and (n, horizon), nothing copied
    normalizer = normalizer or Normalizer.fit_series(values[: n_fit - 1 + T + horizon], difference)
    train, val = slice(0, n_fit), slice(n_train, n)
    return Dataset(
        task=task,
        settings=settings,
        normalizer=normalizer,
        x_train=EncodedWindows(windows[train], normalizer),
        y_train=EncodedTargets(targets[train], windows[train], normalizer),
        x_val=EncodedWindows(windows[val], normalizer),
        y_val=EncodedTargets(targets[val], windows[val], normalizer),
        val_windows=windows[val],
        val_targets=targets[val],
        train_targets=targets[train],
        series=series,
        val_start=n_train + T,
    )
