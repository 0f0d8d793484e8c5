"""A series' windows are views encoded batch by batch: the same numbers as copying them all, a
fraction of the memory."""

import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from lstm_studio.core import LSTMModel
from lstm_studio.training import BatchEnd, EpochEnd, RunEnd, TrainConfig, evaluate, train
from lstm_studio.training.csv_series import Series
from lstm_studio.training.dataset import Dataset, make_series_dataset
from lstm_studio.training.limits import eval_chunk
from lstm_studio.training.metrics import baselines
from lstm_studio.training.snapshots import Probe, take_snapshot
from lstm_studio.training.tasks import get_task
from lstm_studio.training.windows import EncodedTargets, EncodedWindows, series_windows


def a_series(n: int, seed: int = 0, trend: float = 0.0) -> Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 20 + 5 * np.sin(t / 6) + trend * t + rng.normal(0, 0.3, n)
    return Series(values, None, "value", "memory.csv")


def series_data(series: Series, seq_len=12, horizon=1, difference=False, val_split=0.2) -> Dataset:
    """The series task's data of ``series``, as ``Experiment.make_dataset`` makes it."""
    task = get_task("csv")
    return make_series_dataset(task, replace(task.settings, seq_len=seq_len), series, horizon, val_split, difference)


def materialised(data: Dataset, horizon: int) -> Dataset:
    """``data`` as ``make_series_dataset`` built it before windows became views: every window
    copied by fancy indexing, then encoded whole (the code of that version, verbatim)."""
    T, values, normalizer = data.settings.seq_len, data.series.values, data.normalizer
    n_fit, n_train = len(data.x_train), data.val_start - T
    n = n_train + len(data.val_windows)
    starts = np.arange(n)[:, None]
    windows = values[starts + np.arange(T)]  # (n, T)
    targets = values[starts + T + np.arange(horizon)]  # (n, horizon)
    train, val = slice(0, n_fit), slice(n_train, n)
    return replace(
        data,
        x_train=normalizer.encode(windows[train]),
        y_train=normalizer.encode_target(targets[train], windows[train]),
        x_val=normalizer.encode(windows[val]),
        y_val=normalizer.encode_target(targets[val], windows[val]),
        val_windows=windows[val],
        val_targets=targets[val],
        train_targets=targets[train],
    )


def events_of(data: Dataset, dtype: str, epochs: int = 3) -> tuple[list, LSTMModel]:
    horizon = data.val_targets.shape[1]
    model = LSTMModel(1, [8], horizon, loss="mse", seed=3, dtype=np.dtype(dtype))
    return list(train(model, data, TrainConfig(lr=0.01, epochs=epochs, batch_size=16, seed=5))), model


# ----- the same numbers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("horizon", "difference", "dtype"),
    [(1, False, "float64"), (1, True, "float32"), (3, False, "float32"), (3, True, "float64")],
)
def test_training_on_views_gives_exactly_the_losses_of_copied_windows(horizon, difference, dtype):
    lazy = series_data(a_series(300, trend=0.05), horizon=horizon, difference=difference)
    copied = materialised(lazy, horizon)
    assert isinstance(lazy.x_train, EncodedWindows) and isinstance(copied.x_train, np.ndarray)
    for name in ("x_train", "y_train", "x_val", "y_val", "val_windows", "val_targets", "train_targets"):
        np.testing.assert_array_equal(np.asarray(getattr(lazy, name)), getattr(copied, name), err_msg=name)
    (lazy_events, lazy_model), (copied_events, copied_model) = events_of(lazy, dtype), events_of(copied, dtype)
    assert [type(e) for e in lazy_events] == [type(e) for e in copied_events]
    batches = [(e.loss, e.grad_norm) for e in lazy_events if isinstance(e, BatchEnd)]
    assert batches == [(e.loss, e.grad_norm) for e in copied_events if isinstance(e, BatchEnd)]
    epochs = [e for e in lazy_events if isinstance(e, EpochEnd)]
    for mine, theirs in zip(epochs, [e for e in copied_events if isinstance(e, EpochEnd)], strict=True):
        assert (mine.train_loss, mine.val_loss, mine.layer_grad_norms) == (
            theirs.train_loss,
            theirs.val_loss,
            theirs.layer_grad_norms,
        )
        assert mine.evaluation.summary() == theirs.evaluation.summary()
        np.testing.assert_array_equal(mine.evaluation.predictions, theirs.evaluation.predictions)
        np.testing.assert_array_equal(mine.evaluation.targets, theirs.evaluation.targets)
    assert isinstance(lazy_events[-1], RunEnd) and lazy_events[-1].train_loss == copied_events[-1].train_loss
    for name, value in lazy_model.state_dict().items():
        np.testing.assert_array_equal(value, copied_model.state_dict()[name], err_msg=name)
    assert baselines(lazy) == baselines(copied)


def test_snapshots_read_the_same_windows_either_way():
    lazy = series_data(a_series(200), difference=True)
    copied = materialised(lazy, 1)
    model = LSTMModel(1, [6], 1, seed=1)
    evaluation = evaluate(model, lazy)
    mine = take_snapshot(model, lazy, Probe(7), 1, evaluation, model.state_dict())
    theirs = take_snapshot(model, copied, Probe(7), 1, evaluation, model.state_dict())
    np.testing.assert_array_equal(mine.trace.raw, theirs.trace.raw)
    for a, b in zip(mine.flow, theirs.flow, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(mine.trace.layers, theirs.trace.layers, strict=True):
        np.testing.assert_array_equal(a.hidden, b.hidden)


# ----- views, indexed like arrays ----------------------------------------------------------------
def test_windows_are_read_only_views_of_the_series():
    series = a_series(100)
    windows, targets = series_windows(series.values, 10, 2)
    assert windows.shape == (89, 10) and targets.shape == (89, 2)
    np.testing.assert_array_equal(windows[5], series.values[5:15])
    np.testing.assert_array_equal(targets[5], series.values[15:17])
    data = series_data(series, seq_len=10, horizon=2)
    for part in (data.val_windows, data.val_targets, data.train_targets):
        assert np.shares_memory(part, series.values) and not part.flags.writeable
    assert np.shares_memory(data.x_train.windows, series.values)


@pytest.mark.parametrize("difference", [False, True])
def test_encoded_windows_index_like_the_array_they_stand_for(difference):
    data = series_data(a_series(120), seq_len=9, horizon=2, difference=difference)
    for lazy in (data.x_train, data.y_train, data.x_val, data.y_val):
        whole = np.asarray(lazy)
        assert lazy.shape == whole.shape and len(lazy) == len(whole) and lazy.ndim == whole.ndim
        rng = np.random.default_rng(0)
        batch = rng.permutation(len(lazy))[:7]
        mask = rng.random(len(lazy)) < 0.3
        for index in (0, 3, -1, -len(lazy), slice(2, 9), slice(None, None, 3), batch, list(batch), mask,
                      (batch, 0), (slice(1, 4), -1), (2, 0), np.int64(4)):  # fmt: skip
            np.testing.assert_array_equal(lazy[index], whole[index], err_msg=f"{type(lazy).__name__}[{index!r}]")
        with pytest.raises(IndexError):
            lazy[len(lazy)]
        np.testing.assert_array_equal(np.array(list(lazy)), whole)  # iteration
        with pytest.raises(ValueError, match="always a new one"):
            np.asarray(lazy, copy=False)
        as32 = lazy.astype(np.float32)
        assert as32[batch].dtype == np.float32 and np.asarray(as32).dtype == np.float32
        np.testing.assert_array_equal(as32[batch], whole[batch].astype(np.float32))
    assert data.x_train.shape[1] == (8 if difference else 9)
    assert isinstance(data.y_val, EncodedTargets)


# ----- memory ------------------------------------------------------------------------------------
def test_a_long_series_costs_memory_for_its_values_not_for_every_window():
    series = a_series(100_000)
    T = 100  # copying every window (x_train, x_val, the raw windows) took 3 × 100,000 × 100 × 8 bytes = 240 MB
    tracemalloc.start()
    try:
        data = series_data(series, seq_len=T, difference=True)
        held = tracemalloc.get_traced_memory()[0]
        model = LSTMModel(1, [4], 1, seed=0, dtype=np.float32)
        tracemalloc.reset_peak()
        events = train(model, data, TrainConfig(epochs=1, batch_size=64))
        for event in events:  # a few steps: each gathers its batch and nothing more
            if isinstance(event, BatchEnd) and event.batch == 20:
                events.close()
        train_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    values = series.values.nbytes  # 0.8 MB
    assert held < values, held  # views: the dataset copies nothing of the series
    assert train_peak < 4 * values, train_peak  # the order of the windows, a batch and the model's buffers


def evaluation_peak(n_val: int) -> int:
    data = series_data(a_series(2 * n_val + 50), seq_len=50, val_split=0.5)  # 2 × n_val windows of 50 values
    model = LSTMModel(1, [4], 1, seed=0)
    tracemalloc.start()
    try:
        evaluation = evaluate(model, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(evaluation.predictions) == len(data.val_windows) == n_val
    return peak


def test_validation_is_measured_chunk_by_chunk():
    chunk = eval_chunk(1, [4], 50, 8)  # windows per forward pass: its buffers are the same for both
    more = 6 * chunk
    small, large = evaluation_peak(2 * chunk), evaluation_peak(8 * chunk)
    # More validation windows cost a few arrays of one value per window (outputs, targets, predictions,
    # errors), not an encoding of every window at once (50 × 8 bytes per window, and as much for a dtype copy).
    assert large - small < 12 * more * 8, (small, large)
