"""The main window (Contract 4): settings on the left, live plots on the right, controls, Try it.

The window only arranges and forwards: data, models and training come from
``lstm_studio.training``; the training itself runs in ``TrainingRunner``'s thread.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lstm_studio.core import LSTMModel
from lstm_studio.gui.background import BackgroundJob
from lstm_studio.gui.plots import DetailPlot, GradientPlot, LossPlot, PredictionPlot
from lstm_studio.gui.runner import TrainingRunner
from lstm_studio.gui.settings_form import SettingsForm
from lstm_studio.gui.status import StatusPanel, format_seconds
from lstm_studio.gui.try_it import TryItBox
from lstm_studio.gui.worker import Job, Progress
from lstm_studio.training import (
    COMPLETED,
    FAILED,
    Dataset,
    Evaluation,
    Experiment,
    Prediction,
    Predictor,
    RunEnd,
    experiment_from_json,
    experiment_to_json,
    forecast,
    run_meta,
)
from lstm_studio.training.metrics import baselines
from lstm_studio.training.saved import OpenedModel, open_with_data
from lstm_studio.weights import WeightsError, save_weights

REDRAW_MS = 100  # the redraw timer's tick
LOSS_REDRAW_SECONDS = 0.1  # the loss curve moves with every batch: ten frames a second
EPOCH_PLOT_REDRAW_SECONDS = 0.5  # the other plots change once per epoch
LOAD_JOIN_MS = 10_000  # closing waits this long for a weights file being opened
SETTINGS_KEY = "experiment"
GEOMETRY_KEY = "geometry"


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text, objectName=name)
    button.setToolTip(tip)
    return button


class MainWindow(QMainWindow):
    """Pick a task and a model, click Train, watch it learn, export the weights."""

    trainingFinished = Signal()  # noqa: N815 - Contract 4's name; emitted once whenever a run ends
    loadFinished = Signal(bool)  # noqa: N815 - like trainingFinished: a weights file opened (True) or refused

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("LSTM Studio")
        self.settings = settings if settings is not None else QSettings()
        self.runner = TrainingRunner(self)
        self.loader = BackgroundJob(self)  # opens weights files off the GUI thread
        # The model and what it was built from; None until the first Train or Load.
        self.model: LSTMModel | None = None
        self.model_experiment: Experiment | None = None
        self.data: Dataset | None = None
        self.run_experiment: Experiment | None = None  # settings of the run under way or last run
        self.evaluation: Evaluation | None = None  # of the weights the model holds now
        self.train_loss: float | None = None
        self.epochs_done = 0  # epochs the model has trained for, across runs (the plots' x offset)
        self.preview_model: LSTMModel | None = None  # a copy Try it reads while the worker trains
        self._close_when_finished = False

        self._build()
        self._connect()
        self._restore_settings()
        self._on_form_changed()

    # ----- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = SettingsForm()
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(340)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.train_button = _button("Train", "trainButton", "train the model (continues from the current weights)")
        self.train_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.pause_button = _button("Pause", "pauseButton", "hold training between two batches")
        self.pause_button.setCheckable(True)
        self.stop_button = _button(
            "Stop", "stopButton", "end the run after the current batch, keeping the best weights"
        )
        self.reset_button = _button("Reset", "resetButton", "new random weights and empty plots")
        self.export_button = _button("Export weights…", "exportButton", "save the model as an .npz file")
        self.load_button = _button("Load weights…", "loadButton", "open an .npz file to try it or train it further")
        controls = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button, self.reset_button):
            controls.addWidget(button)
        controls.addStretch()
        controls.addWidget(self.load_button)
        controls.addWidget(self.export_button)

        self.message_label = QLabel(objectName="messageLabel", wordWrap=True)
        self.metrics_label = QLabel(objectName="metricsLabel", wordWrap=True)
        self.try_it = TryItBox()

        self.loss_plot = LossPlot()
        self.prediction_plot = PredictionPlot()
        self.gradient_plot = GradientPlot()
        self.detail_plot = DetailPlot()
        plots = QGridLayout()
        plots.addWidget(self.loss_plot, 0, 0)
        plots.addWidget(self.prediction_plot, 0, 1)
        plots.addWidget(self.gradient_plot, 1, 0)
        plots.addWidget(self.detail_plot, 1, 1)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.message_label)
        right_layout.addLayout(plots, stretch=1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.try_it, stretch=1)
        bottom.addWidget(self.metrics_label, stretch=1)
        right_layout.addLayout(bottom)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 1000])
        self.setCentralWidget(splitter)
        self.status_panel = StatusPanel()
        self.statusBar().addPermanentWidget(self.status_panel)
        self.redraw_timer = QTimer(self, interval=REDRAW_MS)
        self._redraw_periods = {  # seconds between repaints of each plot while training
            self.loss_plot: LOSS_REDRAW_SECONDS,
            self.gradient_plot: EPOCH_PLOT_REDRAW_SECONDS,
            self.prediction_plot: EPOCH_PLOT_REDRAW_SECONDS,
            self.detail_plot: EPOCH_PLOT_REDRAW_SECONDS,
        }
        self._last_redraw: dict[object, float] = {}
        self._awaiting_paint: set[object] = set()
        self.resize(1280, 820)

    def _connect(self) -> None:
        self.train_button.clicked.connect(self.start_training)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.stop_button.clicked.connect(self.runner.stop)
        self.reset_button.clicked.connect(self.reset_model)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.load_button.clicked.connect(self._on_load_clicked)
        self.form.changed.connect(self._on_form_changed)
        self.runner.prepared.connect(self._on_prepared)
        self.runner.progressed.connect(self._on_progress)
        self.runner.finished.connect(self._on_run_finished)
        self.loader.done.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.redraw_timer.timeout.connect(self._redraw)  # the timer passes no argument: not forced
        self.try_it.answered.connect(self._on_try_it_answered)
        for plot in self._redraw_periods:
            plot.painted.connect(self._on_plot_painted)

    # ----- actions ---------------------------------------------------------------------------------
    def start_training(self) -> None:
        """Train with the form's settings, continuing from the current weights when the
        model and data still fit them, otherwise from new ones."""
        if self.runner.running or self.loader.busy:
            return
        experiment = self.form.experiment()
        problem = self.form.problem()
        if problem:
            self.show_message(problem, error=True)
            return
        self.run_experiment = experiment
        if self.model is not None and self.data is not None and self._fits_model(experiment):
            self.runner.start(Job(experiment.train, model=self.model, data=self.data))
            self._show_run_start(experiment)
        else:  # a new model: the worker makes it and its data, then says so through ``prepared``
            self._forget_model()
            self.run_experiment = experiment
            self.show_message("preparing the data and a new model…")
            self.runner.start(Job(experiment.train, experiment=experiment, series=self.form.series()))
        self.redraw_timer.start()
        self._update_controls()

    def reset_model(self) -> None:
        """Forget the weights: the next Train starts from new random ones. Empty plots."""
        if self.runner.running or self.loader.busy:
            return
        self._forget_model()
        self.show_message("the next Train starts from new random weights")

    def _on_prepared(self, model: LSTMModel, data: Dataset) -> None:
        experiment = self.run_experiment
        self._adopt(model, experiment, data)
        self.run_experiment = experiment
        self._show_run_start(experiment)

    def _show_run_start(self, experiment: Experiment) -> None:
        """Set the plots, status and Try it up for a run that has begun."""
        self.preview_model = None  # made from the first epoch's weights
        self.try_it.set_predictor(None, waiting="Try it answers after the first epoch")
        self.gradient_plot.set_clip(experiment.train.clip)
        self._set_epoch_span(self.epochs_done + experiment.train.epochs)
        self.status_panel.start(experiment.train.epochs)
        self.show_message(
            f"training: {experiment.task}, layers {list(experiment.hidden_sizes)} "
            f"({self.model.num_parameters():,} weights), lr {experiment.train.lr:g}"
        )
        self._redraw(force=True)  # the new axes are painted while the worker holds still
        self._stagger_redraws()

    def export_weights(self, path: str | Path) -> Path:
        """Write the current model and its record to ``path`` (the Export button after its dialog).

        Raises WeightsError when there is nothing valid to write, or ``path`` is the run's own CSV.
        """
        if self.model is None or self.data is None or self.model_experiment is None:
            raise WeightsError("nothing to export yet: train or load a model first")
        if self.runner.running:
            raise WeightsError("wait until the run ends (or stop it) before exporting")
        experiment = self.run_experiment or self.model_experiment
        inputs = [self.data.series.path] if self.data.series is not None else []
        meta = run_meta(experiment, self.data, self.evaluation, self.train_loss, saved_in=Path(path).parent)
        return save_weights(path, self.model, meta, inputs=inputs)

    def load_weights_file(self, path: str | Path) -> bool:
        """Open a weights file in a worker thread; ``loadFinished`` says how it went. Its settings
        then fill the form, Try it uses it, and Train continues it. False when busy."""
        if self.runner.running or self.loader.busy:
            return False
        self.show_message(f"opening {Path(path).name}…")
        self.loader.start(lambda: open_with_data(path))
        self._update_controls()
        return True

    def _on_load_failed(self, error: Exception) -> None:
        if not isinstance(error, (WeightsError, ValueError, OSError, MemoryError)):
            raise error  # a bug: the excepthook reports it
        self.show_message(f"could not load: {error}", error=True)
        self._update_controls()
        self.loadFinished.emit(False)
        if self._close_when_finished:
            self.close()

    def _on_loaded(self, opened: OpenedModel) -> None:
        saved, name = opened.saved, opened.saved.path.name
        self.form.set_experiment(saved.experiment)
        if opened.data is None:  # the CSV it was trained on has moved or changed: it can still be tried
            self._adopt_for_trying(saved.model, saved.experiment, saved.predictor)
            self.show_message(f"loaded {name} to try only: {opened.missing}", error=True)
        else:
            self._adopt(saved.model, saved.experiment, opened.data)
            self.evaluation, self.train_loss = opened.evaluation, saved.metrics.get("train_loss")
            self._show_evaluation(opened.evaluation, self.train_loss)
            if opened.evaluation.accuracy is None:  # the predicted-against-true scatter of the loaded model
                self.prediction_plot.add_epoch(0, opened.evaluation)
            self._redraw(force=True)
            if self._fits_model(self.form.experiment()):
                self.show_message(f"loaded {name}: Train continues from these weights")
            else:
                self.show_message(
                    f"{name} has settings the form cannot show; Train would start a new model", error=True
                )
        self._update_controls()
        self.loadFinished.emit(True)
        if self._close_when_finished:
            self.close()

    def show_message(self, text: str, error: bool = False) -> None:
        """One visible line for what just happened; errors in red."""
        color = "#c0392b" if error else "#2c3e50"
        self.message_label.setStyleSheet(f"color: {color};")
        self.message_label.setText(text)
        self.statusBar().showMessage(text, 8000)

    # ----- run events ------------------------------------------------------------------------------
    def _on_progress(self, progress: Progress) -> None:
        base = self.epochs_done
        if progress.batches:
            self.loss_plot.add_batches(
                [base + b.epoch - 1 + b.batch / b.batches for b in progress.batches],
                [b.loss for b in progress.batches],
            )
        for e in progress.epochs:
            x = base + e.epoch
            self.loss_plot.add_epoch(x, e.train_loss, e.val_loss)
            self.gradient_plot.add_epoch(x, e.layer_grad_norms)
            self.prediction_plot.add_epoch(x, e.evaluation)
        if progress.epochs:
            self.status_panel.show_epoch(progress.epochs[-1])
            self._show_detail(progress.epochs[-1].evaluation)
        if progress.state is not None and self.model is not None:
            if self.preview_model is None:
                m = self.model
                self.preview_model = LSTMModel(m.input_size, m.hidden_sizes, m.output_size, m.loss, m.seed, m.dtype)
                self.preview_model.load_state_dict(progress.state)
                self.try_it.set_predictor(self._predictor(self.preview_model))
            else:
                self.preview_model.load_state_dict(progress.state)
                self.try_it.update_answer()

    def _on_run_finished(self, result: RunEnd) -> None:
        self.redraw_timer.stop()
        self.pause_button.setChecked(False)
        self.epochs_done += result.epochs_run
        self.preview_model = None
        self.try_it.set_predictor(self._predictor(self.model))
        if result.evaluation is not None:
            self.evaluation, self.train_loss = result.evaluation, result.train_loss
            self._show_evaluation(result.evaluation, result.train_loss)
        self._redraw(force=True)
        self.show_message(*self._run_end_message(result))
        self._update_controls()
        self.trainingFinished.emit()
        if self._close_when_finished:
            self.close()

    def _show_evaluation(self, evaluation: Evaluation, train_loss: float | None) -> None:
        """The metrics line and the plots of the model as it is now (after a run or a Load)."""
        metrics = {"train_loss": train_loss, **evaluation.summary()}
        if evaluation.rmse is not None:
            metrics.update(baselines(self.data))
        self.metrics_label.setText(self._metrics_text(metrics))
        self._show_detail(evaluation, with_forecast=True)

    def _on_pause_toggled(self, paused: bool) -> None:
        self.runner.pause(paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        if self.runner.running:
            self.show_message("paused: Resume goes on, Stop ends the run" if paused else "training")

    def _on_try_it_answered(self, values: list[float], prediction: Prediction) -> None:
        if prediction.label is None and not self.detail_plot.series_mode:
            self.detail_plot.show_sequence(values, prediction.values[0], None, "your sequence (Try it)")
            self.detail_plot.refresh()

    # ----- dialogs ---------------------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export weights", "lstm-weights.npz", "Weights (*.npz)")
        if not path:
            return
        if not path.endswith(".npz"):
            path += ".npz"  # the dialog asked about overwriting the name as typed, not this one
            if Path(path).exists() and not self._confirm_overwrite(path):
                return
        try:
            written = self.export_weights(path)
        except WeightsError as exc:
            self.show_message(str(exc), error=True)
            return
        self.show_message(f"weights written to {written}")

    def _confirm_overwrite(self, path: str) -> bool:
        answer = QMessageBox.question(self, "Export weights", f"{Path(path).name} exists. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", "", "Weights (*.npz);;All files (*)")
        if path:
            self.load_weights_file(path)

    # ----- helpers ---------------------------------------------------------------------------------
    def _fits_model(self, experiment: Experiment) -> bool:
        """Whether the current model and data were built from the same task, data and layers."""
        return self.model_experiment is not None and self.model_experiment.makes_same_model_and_data(experiment)

    def _adopt(self, model: LSTMModel, experiment: Experiment, data: Dataset) -> None:
        """Make ``model`` the current one, with empty plots sized for it."""
        self._set_model(model, experiment, data)

    def _adopt_for_trying(self, model: LSTMModel, experiment: Experiment, predictor: Predictor) -> None:
        """A model without its data: Try it works (with the normalisation its file records); Train
        and Export need the data, so they wait for a model that has it."""
        self._set_model(model, experiment, None)
        self.try_it.set_predictor(predictor)

    def _forget_model(self) -> None:
        """No model: empty plots, nothing to try or export."""
        self._set_model(None, None, None)

    def _set_model(self, model: LSTMModel | None, experiment: Experiment | None, data: Dataset | None) -> None:
        self.model, self.model_experiment, self.data = model, experiment, data
        self.run_experiment = self.evaluation = self.train_loss = self.preview_model = None
        self.epochs_done = 0
        self.loss_plot.clear_history()
        layers = len(model.layers) if model is not None else 0
        self.gradient_plot.set_layers([f"LSTM {k + 1}" for k in range(layers)] + (["dense"] if layers else []))
        self.gradient_plot.set_clip(experiment.train.clip if experiment is not None else 0.0)
        self.prediction_plot.set_classification(data is not None and data.is_classification)
        classes = data.task.classes if data is not None else ()
        self.detail_plot.set_classes(classes, series=data is not None and data.series is not None)
        self.status_panel.reset()
        self.metrics_label.setText("")
        self.try_it.set_predictor(self._predictor(model))
        self._redraw(force=True)
        self._update_controls()

    def _set_epoch_span(self, end: int) -> None:
        """Epoch axes run from 0 to ``end``, so they stay still while a run fills them."""
        self.loss_plot.axes.set_end(end)
        self.gradient_plot.axes.set_end(end)
        if self.prediction_plot.classification:
            self.prediction_plot.axes.set_end(end)

    def _show_detail(self, evaluation: Evaluation, with_forecast: bool = False) -> None:
        if evaluation.confusion is not None:
            self.detail_plot.show_confusion(evaluation.confusion)
        elif self.data is not None and self.data.series is not None:
            self._show_forecast(evaluation, with_forecast)
        elif self.try_it.values() is None and self.data is not None:
            self.detail_plot.show_sequence(
                self.data.val_windows[0], float(evaluation.predictions[0]), float(evaluation.targets[0]),
                "validation window 1",
            )  # fmt: skip

    def _show_forecast(self, evaluation: Evaluation, with_forecast: bool) -> None:
        """Validation part, one-step predictions and (after a run) a forecast beyond the data."""
        data = self.data
        x = data.series.axis
        x_val = x[data.val_start : data.val_start + len(evaluation.targets)]
        x_future, future = np.array([]), np.array([])
        predictor = self._predictor(self.model)
        if with_forecast and predictor is not None:
            steps = max(data.settings.seq_len, 10)
            ahead = forecast(predictor, data.series.values, data.settings.seq_len, steps)
            step = x[-1] - x[-2] if len(x) > 1 else 1.0
            x_future = x[-1] + step * np.arange(0, steps + 1)
            future = np.concatenate([data.series.values[-1:], ahead])  # joined to the last real value
        self.detail_plot.show_forecast(x_val, evaluation.targets, evaluation.predictions, x_future, future)

    def _predictor(self, model: LSTMModel | None) -> Predictor | None:
        if model is None or self.data is None:
            return None
        return Predictor.for_data(model, self.data)

    def _run_end_message(self, result: RunEnd) -> tuple[str, bool]:
        """What to tell about a finished run, and whether it is an error."""
        took = format_seconds(result.elapsed)
        if result.status == FAILED:
            if self.model is None:  # the data could not be made
                return result.message, True
            if result.message.endswith("lower the learning rate"):
                return f"{result.message}. The weights are those of the best epoch before it.", True
            return f"{result.message}. Reset for new weights.", True
        kept = (
            f"the model keeps the best epoch ({result.best_epoch})"
            if result.best_epoch
            else "the weights are back to where the run started"
        )
        return f"{result.message} {'in' if result.status == COMPLETED else 'after'} {took}; {kept}", False

    @staticmethod
    def _metrics_text(metrics: dict) -> str:
        names = {"train_loss": "train loss", "val_loss": "val loss", "val_accuracy": "val accuracy",
                 "val_rmse": "val RMSE", "val_mae": "val MAE", "persistence_rmse": "RMSE of repeating the last value",
                 "mean_rmse": "RMSE of the training mean"}  # fmt: skip
        parts = []
        for key, label in names.items():
            value = metrics.get(key)
            if value is not None:
                parts.append(f"{label} {value:.2%}" if key == "val_accuracy" else f"{label} {value:.4g}")
        return "Best weights: " + " · ".join(parts) if parts else ""

    def _redraw(self, force: bool = False) -> None:
        """Update the plots that are due and paint them at once, while the worker holds still.

        Each plot has its own pace: the loss moves every batch, the rest once per epoch,
        and painting is what costs the GUI thread (and, through the GIL, the worker) most.
        """
        now = time.monotonic()
        self._awaiting_paint.clear()
        self.runner.end_frame()  # a frame that was never painted (hidden window) holds nothing up
        for plot, period in self._redraw_periods.items():
            if (force or now - self._last_redraw.get(plot, 0.0) >= period) and plot.refresh():
                self._last_redraw[plot] = now
                self._awaiting_paint.add(plot)
        handle = self.windowHandle()
        if self._awaiting_paint and handle is not None and handle.isExposed() and not self.isMinimized():
            self.runner.begin_frame()  # only when a paint will come to end the frame

    def _stagger_redraws(self) -> None:
        """Spread the per-epoch plots over different frames, so no frame paints them all at once."""
        now = time.monotonic()
        plots = list(self._redraw_periods)
        for i, plot in enumerate(plots):
            period = self._redraw_periods[plot]
            self._last_redraw[plot] = now - period * (1 - i / len(plots))

    def _on_plot_painted(self) -> None:
        self._awaiting_paint.discard(self.sender())
        if not self._awaiting_paint:
            self.runner.end_frame()

    def _on_form_changed(self) -> None:
        experiment = self.form.experiment()
        examples = experiment.task_spec.examples
        self.try_it.set_expected(experiment.settings.seq_len, examples[0] if examples else ())
        self._update_controls()

    def _update_controls(self) -> None:
        running = self.runner.running
        busy = running or self.loader.busy
        problem = self.form.problem()
        self.train_button.setEnabled(not busy and not problem)
        self.train_button.setToolTip(problem or "train the model (continues from the current weights)")
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.reset_button.setEnabled(not busy)
        self.load_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy and self.data is not None)
        self.form.setEnabled(not busy)

    # ----- settings and closing --------------------------------------------------------------------
    def _restore_settings(self) -> None:
        text = self.settings.value(SETTINGS_KEY, "", type=str)
        if text:
            try:
                self.form.set_experiment(experiment_from_json(text))
            except Exception:  # a hand-edited or outdated settings file must never stop the app
                self.form.restore_defaults()
                self.show_message("saved settings were unreadable; using the defaults")
        geometry = self.settings.value(GEOMETRY_KEY)
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Stop and join a running training thread, remember the settings, then close."""
        if not self.runner.stop_and_wait() or not self.loader.wait(LOAD_JOIN_MS):
            # A batch, an evaluation or a file longer than the wait: close when it has ended.
            self._close_when_finished = True
            self.show_message("stopping: the window closes when the current batch ends")
            event.ignore()
            return
        self.redraw_timer.stop()
        self.settings.setValue(SETTINGS_KEY, experiment_to_json(self.form.experiment()))
        self.settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self.settings.sync()
        super().closeEvent(event)
