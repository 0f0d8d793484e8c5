"""A person's working session with one model at a time, outside any window.

The session holds the model, its data and experiment, the run under way, what every run of the
model recorded, and the decisions that are not about widgets: whether Train may go on with the
current model, what Reset forgets, what Load adopts. The window holds one session and renders
it; the worker thread computes and the session only stores what it is handed (see
``Job``, ``Update`` and ``Outcome``), so it is tested without Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.training.baseline_losses import baseline_losses
from lstm_studio.training.csv_series import Series
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.experiment import Experiment, run_meta
from lstm_studio.training.forecast import forecast_beyond
from lstm_studio.training.history import History
from lstm_studio.training.metrics import Evaluation, baselines
from lstm_studio.training.predictor import Predictor
from lstm_studio.training.snapshots import Probe, Snapshot, SnapshotStore
from lstm_studio.training.tasks import Task
from lstm_studio.training.trainer import BatchEnd, EpochEnd, RunEnd, TrainConfig


@dataclass
class Job:
    """One run for the worker: go on training ``model`` on ``data``, or first make both from
    ``experiment`` (and ``series``, the CSV data the form already read)."""

    config: TrainConfig
    model: LSTMModel | None = None
    data: Dataset | None = None
    experiment: Experiment | None = None
    series: Series | None = None
    probe: Probe | None = None  # what the inside view looks at: a snapshot per epoch when given
    first_epoch: int = 0  # where the run's epochs start on the model's epoch axis
    record_as: Experiment | None = None  # the run's settings, for its run folder
    runs_dir: Path | None = None  # where the run is recorded (None: not recorded)


@dataclass
class Update:
    """What happened in a run since the worker last reported: batches, finished epochs, and
    the weights after the latest epoch (a copy, readable while training goes on)."""

    batches: list[BatchEnd] = field(default_factory=list)
    epochs: list[EpochEnd] = field(default_factory=list)
    state: dict[str, np.ndarray] | None = None
    snapshots: list[Snapshot] = field(default_factory=list)  # one per epoch, for the inside view

    def __bool__(self) -> bool:
        return bool(self.batches or self.epochs)


@dataclass(frozen=True)
class Outcome:
    """What is worth showing of a model as it is now, computed where computing is allowed (the
    worker): its evaluation, the baselines beside it, and a forecast beyond a series."""

    evaluation: Evaluation | None
    baselines: dict[str, float] = field(default_factory=dict)
    forecast: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, model: LSTMModel, data: Dataset, evaluation: Evaluation | None) -> Outcome:
        """Measure ``model`` (which holds the weights ``evaluation`` was made of) on ``data``."""
        if evaluation is None:
            return cls(None)
        regression = not data.task.is_classification
        return cls(
            evaluation,
            baselines(data) if regression else {},
            forecast_beyond(Predictor.for_data(model, data), data) if regression else None,
        )


@dataclass
class Run:
    """One run of the session: its settings, where its epochs start on the model's axis, its end."""

    experiment: Experiment
    first_epoch: int
    end: RunEnd | None = None


class Session:
    """The current model with its data, history and runs, and the rules for Train, Reset and Load."""

    def __init__(self) -> None:
        self.runs: list[Run] = []  # every run since the session began, the one under way last
        self.running = False
        self.planned_end = 0  # the epoch the current model's latest run was to reach
        self.probe = Probe()  # shared with the worker of a run
        self.runs_dir: Path | None = None  # where every run is recorded (the window sets it)
        self._clear_model()

    # ----- what there is -------------------------------------------------------------------------
    @property
    def run(self) -> Run | None:
        """The run under way, or the last one."""
        return self.runs[-1] if self.runs else None

    @property
    def task(self) -> Task | None:
        """The task of the current model."""
        return self.experiment.task_spec if self.experiment is not None else None

    @property
    def epochs_done(self) -> int:
        """Epochs the current model has trained for, over all its runs."""
        return self.history.epochs if self.history is not None else 0

    @property
    def epoch_span(self) -> int:
        """How many epochs an epoch axis shows: all so far, and all the latest run planned."""
        return max(self.epochs_done, self.planned_end, 1)

    @property
    def latest_evaluation(self) -> Evaluation | None:
        """The newest measurement of the model: the last epoch's during a run, else the kept weights'."""
        return self._latest

    @property
    def shown_evaluation(self) -> Evaluation | None:
        """What the views show: the replayed epoch's measurement, or the newest."""
        return self.replayed.evaluation if self.replayed is not None else self._latest

    @property
    def replayed(self) -> Snapshot | None:
        """The snapshot a replay shows, or None for the live model."""
        return self.snapshots.at(self.replay) if self.replay is not None else None

    def replay_at(self, position: int | None) -> None:
        """Show the snapshot at ``position`` (None or past the last: the live model)."""
        self.replay = position if position is not None and 0 <= position < len(self.snapshots) else None

    def predictor(self) -> Predictor | None:
        """What Try it asks: the latest epoch's weights during a run, else the model's own."""
        if self.try_only is not None:
            return self.try_only
        model = self.preview if self.preview is not None else self.model
        if model is None or self.data is None:
            return None
        return Predictor.for_data(model, self.data)

    def kept_epoch(self) -> int:
        """The epoch (on the model's axis) whose weights the model holds after its last run; 0 if unknown."""
        run = self.run
        if self.running or run is None or run.end is None or not run.end.best_epoch or self.history is None:
            return 0
        return run.first_epoch + run.end.best_epoch

    def record_experiment(self) -> Experiment | None:
        """The experiment a weights file of the current model records: the settings of its latest
        run (its learning rate, epochs, …), or those it was built or loaded with."""
        return self.trained_with or self.experiment

    def export_problem(self) -> str:
        """Why the model cannot be exported now ('' when it can)."""
        if self.model is None or self.data is None or self.experiment is None:
            return "nothing to export yet: train or load a model first"
        return "wait until the run ends (or stop it) before exporting" if self.running else ""

    def input_files(self) -> list[str]:
        """The files the model was made from (its CSV): an export must never write over them."""
        return [self.data.series.path] if self.data is not None and self.data.series is not None else []

    def weights_record(self, saved_in: Path) -> dict:
        """The meta of a weights file of the model, written in folder ``saved_in`` (Contract 2)."""
        evaluation = self.outcome.evaluation if self.outcome is not None else None
        return run_meta(self.record_experiment(), self.data, evaluation, self.train_loss, saved_in=saved_in)

    def metrics(self) -> dict[str, float | None]:
        """The figures of the weights the model holds: losses, the task's metric, baselines."""
        if self.outcome is None or self.outcome.evaluation is None:
            return {}
        return {"train_loss": self.train_loss, **self.outcome.evaluation.summary(), **self.outcome.baselines}

    # ----- decisions -----------------------------------------------------------------------------
    def can_continue(self, experiment: Experiment) -> bool:
        """Whether a run of ``experiment`` may go on with the current model: same task, data and
        layers (only optimisation settings differ), and the data at hand."""
        return (
            self.model is not None
            and self.data is not None
            and self.experiment is not None
            and self.experiment.makes_same_model_and_data(experiment)
        )

    def start(self, experiment: Experiment, series: Series | None = None) -> Job:
        """Begin a run of ``experiment``: the job continues the current model when it fits,
        otherwise the model is forgotten and the worker makes a new one (``adopt`` follows)."""
        if self.running:
            raise RuntimeError("a run is already under way")
        if self.can_continue(experiment):
            job = Job(experiment.train, model=self.model, data=self.data)
        else:
            self.forget()
            job = Job(experiment.train, experiment=experiment, series=series)
        job.probe, job.first_epoch, self.replay = self.probe, self.epochs_done, None
        job.record_as, job.runs_dir = experiment, self.runs_dir
        self.runs.append(Run(experiment, self.epochs_done))
        self.running = True
        self.preview = None
        self.planned_end = self.epochs_done + experiment.train.epochs
        return job

    def adopt(self, model: LSTMModel, experiment: Experiment, data: Dataset, outcome: Outcome | None = None,
              train_loss: float | None = None) -> None:  # fmt: skip
        """Make ``model`` (new from the worker, or loaded) the current one, with an empty history.
        A run under way stays under way."""
        self._clear_model()
        self.model, self.experiment, self.data = model, experiment, data
        layers = [f"LSTM {k + 1}" for k in range(len(model.layers))] + ["dense"]
        self.history = History(layers, experiment.task_spec.is_classification)
        self.outcome, self.train_loss = outcome, train_loss
        self._latest = outcome.evaluation if outcome is not None else None
        self.baselines = baseline_losses(data)

    def adopt_for_trying(self, model: LSTMModel, experiment: Experiment, predictor: Predictor) -> None:
        """A model without its data (the CSV has moved): Try it works with the normalisation its
        file records; Train and Export need the data, so they wait for a model that has it."""
        self.forget()
        self.model, self.experiment, self.try_only = model, experiment, predictor

    def forget(self) -> None:
        """Reset: no model, no data, no history; the next Train starts from new random weights."""
        self._clear_model()
        self.planned_end = 0

    def _clear_model(self) -> None:
        self.model: LSTMModel | None = None
        self.experiment: Experiment | None = None  # what the model and data were built from
        self.data: Dataset | None = None
        self.baselines: dict[str, float] = {}  # validation losses that need no learning (regression)
        self.history: History | None = None
        self.outcome: Outcome | None = None  # of the weights the model holds now
        self.train_loss: float | None = None
        self.preview: LSTMModel | None = None  # a copy of the latest epoch's weights, during a run
        self.try_only: Predictor | None = None
        self.trained_with: Experiment | None = None  # the settings of the model's latest run
        self._latest: Evaluation | None = None
        self.snapshots = SnapshotStore()
        self.replay: int | None = None  # the snapshot shown instead of the live model
        self.probe.chosen = 0

    # ----- what the worker reports -----------------------------------------------------------------
    def record(self, update: Update) -> None:
        """Store a run's progress (the GUI thread calls this with what the worker sent)."""
        if self.history is None:
            return
        self.history.add_batches(update.batches)
        for epoch in update.epochs:
            self.history.add_epoch(epoch)
            self._latest = epoch.evaluation
        for snapshot in update.snapshots:
            self.snapshots.add(snapshot)
        if update.state is not None and self.model is not None:
            if self.preview is None:
                self.preview = self.model.copy()
            self.preview.load_state_dict(update.state)

    def finish(self, end: RunEnd, outcome: Outcome | None) -> None:
        """The run is over: the model holds its best weights, measured in ``outcome``."""
        self.running = False
        self.preview = None
        if self.run is not None:
            self.run.end = end
            if self.model is not None:
                self.trained_with = self.run.experiment
        if self.history is not None:
            self.history.end_run()
        if outcome is not None and outcome.evaluation is not None:
            self.outcome, self.train_loss = outcome, end.train_loss
            self._latest = outcome.evaluation
