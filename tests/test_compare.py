"""Comparing runs: labels that name what differs, and TensorBoard's debiased smoothing."""

import numpy as np
import pytest

from lstm_studio.training import Experiment
from lstm_studio.training.compare import differing_labels, of_one_kind, smooth


def test_labels_name_only_the_settings_that_differ():
    base = Experiment.for_task("sine")
    runs = [base.with_changes(lr=0.01), base.with_changes(lr=0.002, hidden_sizes=(16, 16)), base.with_changes(lr=0.01)]
    assert differing_labels(runs) == ["layers 32, lr 0.01", "layers 16,16, lr 0.002", "layers 32, lr 0.01"]
    assert differing_labels([base, base]) == ["", ""]


def test_smoothing_is_a_debiased_moving_average():
    values = np.array([10.0, 0.0, 0.0, 0.0])
    assert list(smooth(values, 0.0)) == list(values)
    smoothed = smooth(values, 0.5)
    assert smoothed[0] == pytest.approx(10.0)  # debiased: the first point is not pulled towards zero
    assert smoothed[1] == pytest.approx((0.5 * 0.5 * 10) / (1 - 0.25))
    assert np.all(np.diff(smoothed) < 0)
    with_gap = smooth(np.array([1.0, np.nan, 3.0]), 0.5)
    assert np.isnan(with_gap[1]) and np.isfinite(with_gap[2])


def test_one_plot_shows_runs_of_one_kind_and_says_which_it_left_out():
    assert of_one_kind([]) == ([], "") and of_one_kind(["val_rmse", "val_rmse"]) == ([0, 1], "")
    kept, note = of_one_kind(["val_rmse", "val_accuracy", "val_rmse", "val_accuracy"])
    assert kept == [0, 2]
    assert note.startswith("2 ticked runs not drawn: classification (cross-entropy, accuracy) does not share an axis")
    assert of_one_kind(["val_accuracy", "val_rmse"])[1].startswith("1 ticked run not drawn: regression")
