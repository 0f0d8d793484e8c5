"""Baselines as losses: what persistence and the training mean would score on the loss curves' scale."""

import numpy as np
import pytest

from lstm_studio.gui.panels.loss import BASELINES, LossPanel
from lstm_studio.training import Experiment
from lstm_studio.training.baseline_losses import PERSISTENCE, TRAINING_MEAN, baseline_losses
from lstm_studio.training.metrics import baselines
from lstm_studio.training.session import Session

from .test_session import quick, run
from .test_trend import co2_like, series_csv


@pytest.mark.parametrize(
    ("task", "changes"),
    [
        ("next-number", {"n_samples": 200}),
        ("sine", {"n_samples": 200}),
        ("sunspots", {}),
        ("sunspots", {"difference": "on"}),
    ],
)
def test_a_baseline_loss_is_its_raw_rmse_in_the_models_units(task, changes):
    data = Experiment.for_task(task).with_changes(**changes).make_dataset()
    losses, raw = baseline_losses(data), baselines(data)
    scale = data.normalizer.scale
    assert losses[PERSISTENCE] == pytest.approx(raw["persistence_rmse"] ** 2 / scale**2)
    assert losses[TRAINING_MEAN] == pytest.approx(raw["mean_rmse"] ** 2 / scale**2)


def test_classification_has_no_baseline_loss():
    assert baseline_losses(quick("pattern").make_dataset()) == {}


def test_the_loss_plot_shows_the_validation_curve_crossing_under_persistence(qtbot, tmp_path):
    session = Session()
    experiment = Experiment.for_task("csv").with_changes(csv_path=str(series_csv(tmp_path, co2_like())),
                                                         column="value", epochs=15)  # fmt: skip
    run(session, experiment)
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.reset(session)
    panel.refresh()
    x, y = panel.baseline_curves[PERSISTENCE].getData()
    assert list(x) == [0, session.epoch_span] and np.allclose(10**y, session.baselines[PERSISTENCE])  # log axis
    labels = {label.text for _, label in panel.legend.items}
    assert {BASELINES[PERSISTENCE][0], BASELINES[TRAINING_MEAN][0]} <= labels
    val = session.history.val_loss.y
    assert val[-1] < session.baselines[PERSISTENCE]  # the model has beaten persistence: under the line


def test_a_classification_run_shows_no_baseline_lines(qtbot):
    session = Session()
    run(session, quick("pattern"))
    panel = LossPanel()
    qtbot.addWidget(panel)
    panel.reset(session)
    panel.refresh()
    assert len(panel.baseline_curves[PERSISTENCE].getData()[0] or []) == 0
    assert not {BASELINES[PERSISTENCE][0]} & {label.text for _, label in panel.legend.items}
