"""The main window (Contract 4): settings on the left, views on the right, controls, Try it.

The window holds one ``Session`` and renders it: the session decides (may Train go on with this
model? what does Reset forget?), the worker threads compute, the panels draw. The window only
arranges widgets, forwards what happens and says it in words.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lstm_studio.core import LSTMModel
from lstm_studio.export import ExportError
from lstm_studio.gui.background import BackgroundJob
from lstm_studio.gui.controls import RunControls
from lstm_studio.gui.exports import EXPORTED, export_other
from lstm_studio.gui.file_dialogs import WEIGHTS, ask_export_path, ask_weights_to_open
from lstm_studio.gui.inside import InsideView
from lstm_studio.gui.messages import metrics_text, run_end_message
from lstm_studio.gui.panels import PANELS, PanelArea
from lstm_studio.gui.runner import TrainingRunner
from lstm_studio.gui.runs import RunsView
from lstm_studio.gui.settings_form import SettingsForm
from lstm_studio.gui.status import StatusPanel
from lstm_studio.gui.try_it import TryItBox
from lstm_studio.gui.window_settings import WindowSettings
from lstm_studio.training import Dataset, Prediction, RunEnd
from lstm_studio.training.saved import OpenedModel, open_with_data
from lstm_studio.training.session import Outcome, Session, Update
from lstm_studio.weights import WeightsError, save_weights

LOAD_JOIN_MS = 10_000  # closing waits this long for a weights file being opened


class MainWindow(QMainWindow):
    """Pick a task and a model, click Train, watch it learn, export the weights."""

    trainingFinished = Signal()  # noqa: N815 - Contract 4's name; emitted once whenever a run ends
    loadFinished = Signal(bool)  # noqa: N815 - like trainingFinished: a weights file opened (True) or refused

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("LSTM Studio")
        self.settings = settings if settings is not None else QSettings()
        self.remembered = WindowSettings(self.settings)
        self.session = Session()
        self.runner = TrainingRunner(self)
        self.loader = BackgroundJob(self)  # opens weights files off the GUI thread
        self._close_when_finished = False
        self._build()
        self._connect()
        self._restore_settings()
        self._render()

    # ----- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = SettingsForm()
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(340)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.controls = RunControls()
        c = self.controls
        self.train_button, self.pause_button, self.stop_button = c.train_button, c.pause_button, c.stop_button
        self.reset_button, self.load_button, self.export_button = c.reset_button, c.load_button, c.export_button

        self.message_label = QLabel(objectName="messageLabel", wordWrap=True)
        self.metrics_label = QLabel(objectName="metricsLabel", wordWrap=True)
        self.try_it = TryItBox()
        self.panels = PanelArea(PANELS, self.runner)
        self.inside = InsideView(self.try_it.values)
        self.panels.add_view(self.inside)
        self.views = QTabWidget(objectName="viewTabs")
        self.views.addTab(self.panels, "Training")
        self.views.addTab(self.inside, "Inside")
        self.runs_view = RunsView(lambda: self.session.runs_dir, self.form.experiment)
        self.views.addTab(self.runs_view, "Runs")

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.controls)
        right_layout.addWidget(self.message_label)
        right_layout.addWidget(self.views, stretch=1)
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
        self.form.reader.ready.connect(lambda: self._close_when_finished and self.close())
        self.try_it.answered.connect(self._on_try_it_answered)
        self.try_it.input.textChanged.connect(self.inside.typed_changed)
        self.inside.replay.moved.connect(self._on_replay_moved)
        self.views.currentChanged.connect(lambda: self.panels.redraw(force=True))  # the Runs view reads on show
        self.runner.recording.connect(lambda problem: self.show_message(problem, error=True))
        self.runs_view.message.connect(self.show_message)
        self.runs_view.open_requested.connect(lambda info: self.load_weights_file(info.weights_path))
        self.runs_view.folder_chosen.connect(self._set_runs_dir)

    # ----- actions ---------------------------------------------------------------------------------
    def start_training(self) -> None:
        """Train with the form's settings, continuing from the current weights when the
        model and data still fit them, otherwise from new ones."""
        if self._busy:
            return
        problem = self.form.problem()
        if problem:
            self.show_message(problem, error=True)
            return
        experiment = self.form.experiment()
        job = self.session.start(experiment, self.form.series())
        self.runner.start(job)
        if job.model is None:  # the worker makes the model and its data, then says so through ``prepared``
            self._render()
            self.show_message("preparing the data and a new model…")
        else:
            self._show_run_start()
        self.panels.start()
        self._update_controls()

    def reset_model(self) -> None:
        """Forget the weights: the next Train starts from new random ones. Empty plots."""
        if self._busy:
            return
        self.session.forget()
        self._render()
        self.show_message("the next Train starts from new random weights")

    def export_weights(self, path: str | Path) -> Path:
        """Write the current model and its record to ``path`` (the Export button after its dialog).

        Raises WeightsError when there is nothing valid to write, or ``path`` is the run's own CSV.
        """
        problem, s = self.session.export_problem(), self.session
        if problem:
            raise WeightsError(problem)
        return save_weights(path, s.model, s.weights_record(Path(path).parent), inputs=s.input_files())

    def load_weights_file(self, path: str | Path) -> bool:
        """Open a weights file in a worker thread; ``loadFinished`` says how it went. Its settings
        then fill the form, Try it uses it, and Train continues it. False when busy."""
        if self._busy:
            return False
        self.show_message(f"opening {Path(path).name}…")
        self.loader.start(lambda: open_with_data(path))
        self._update_controls()
        return True

    def show_message(self, text: str, error: bool = False) -> None:
        """One visible line for what just happened; errors in red."""
        self.message_label.setStyleSheet(f"color: {'#c0392b' if error else '#2c3e50'};")
        self.message_label.setText(text)
        self.statusBar().showMessage(text, 8000)

    # ----- what the workers report -------------------------------------------------------------------
    def _on_prepared(self, model: LSTMModel, data: Dataset) -> None:
        self.session.adopt(model, self.session.run.experiment, data)
        self._show_run_start()

    def _show_run_start(self) -> None:
        """Set the panels, status and Try it up for a run that has begun."""
        s = self.session
        experiment = s.run.experiment
        self.try_it.set_predictor(None, waiting="Try it answers after the first epoch")
        self.status_panel.start(experiment.train.epochs)
        trend = "".join(f"; {note}" for note in experiment.data_notes(s.data))
        self.show_message(
            f"training: {experiment.task}, layers {list(experiment.hidden_sizes)} "
            f"({s.model.num_parameters():,} weights), lr {experiment.train.lr:g}{trend}"
        )
        self.panels.show_for(s.task)
        self.panels.reset(s)  # the new axes are painted while the worker holds still
        self.panels.start()  # and from now on the per-epoch panels repaint in turns, not all at once

    def _on_progress(self, update: Update) -> None:
        self.session.record(update)
        self.panels.feed(self.session, update)
        if update.epochs:
            self.status_panel.show_epoch(update.epochs[-1])
        if update.state is not None:  # the latest epoch's weights: Try it answers with them
            self.try_it.set_predictor(self.session.predictor())

    def _on_run_finished(self, result: RunEnd, outcome: Outcome | None) -> None:
        self.panels.stop()
        self.pause_button.setChecked(False)
        self.session.finish(result, outcome)
        self._render(keep_status=True)
        self.show_message(*run_end_message(result))
        if self.views.currentWidget() is self.runs_view:
            self.runs_view.refresh()
        self.trainingFinished.emit()
        if self._close_when_finished:
            self.close()

    def _on_loaded(self, opened: OpenedModel) -> None:
        saved, name = opened.saved, opened.saved.path.name
        self.form.set_experiment(saved.experiment)
        if opened.data is None:  # the CSV it was trained on has moved or changed: it can still be tried
            self.session.adopt_for_trying(saved.model, saved.experiment, saved.predictor)
            message, error = f"loaded {name} to try only: {opened.missing}", True
        else:
            self.session.adopt(
                saved.model, saved.experiment, opened.data, opened.outcome, saved.metrics.get("train_loss")
            )
            if self.session.can_continue(self.form.experiment()):
                message, error = f"loaded {name}: Train continues from these weights", False
            else:
                message, error = f"{name} has settings the form cannot show; Train would start a new model", True
        self._render()
        self.show_message(message, error)
        self._load_ended(True)

    def _on_load_failed(self, error: Exception) -> None:
        if not isinstance(error, (WeightsError, ValueError, OSError, MemoryError)):
            raise error  # a bug: the excepthook reports it
        self.show_message(f"could not load: {error}", error=True)
        self._load_ended(False)

    def _load_ended(self, loaded: bool) -> None:
        self._update_controls()
        self.loadFinished.emit(loaded)
        if self._close_when_finished:
            self.close()

    # ----- rendering -------------------------------------------------------------------------------
    def _render(self, keep_status: bool = False) -> None:
        """Show the session as it is now: panels, metrics, Try it, controls."""
        s = self.session
        self.panels.show_for(s.task or self.form.experiment().task_spec)
        self.panels.reset(s)
        self.metrics_label.setText(metrics_text(s.metrics()))
        self.try_it.set_predictor(s.predictor())
        if not keep_status:
            self.status_panel.reset()
        self._update_controls()

    def _on_form_changed(self) -> None:
        experiment = self.form.experiment()
        examples = experiment.task_spec.examples
        self.try_it.set_expected(experiment.settings.seq_len, examples[0] if examples else ())
        if self.session.model is None:  # with no model the panels follow the form's task
            self.panels.show_for(experiment.task_spec)
        self._update_controls()

    def _on_try_it_answered(self, values: list[float], prediction: Prediction) -> None:
        if not self.session.task.is_classification:  # Try it answers only for a model, whose task is known
            self.panels.show_tried(values, prediction.values[0])

    def _on_replay_moved(self, position: int | None) -> None:
        self.session.replay_at(position)
        self.panels.touch(self.session)

    def _on_pause_toggled(self, paused: bool) -> None:
        self.runner.pause(paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        if self.runner.running:
            self.show_message("paused: Resume goes on, Stop ends the run" if paused else "training")

    @property
    def _busy(self) -> bool:
        return self.runner.running or self.loader.busy

    def _update_controls(self) -> None:
        self.controls.set_state(self.runner.running, self._busy, self.form.problem(), self.session.data is not None)
        self.form.setEnabled(not self._busy)

    # ----- dialogs ---------------------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        chosen = ask_export_path(self)
        if chosen is not None:
            self.export_as(*chosen)

    def export_as(self, path: str | Path, fmt: str) -> None:
        """Export the current model in ``fmt`` (weights, ONNX, NumPy script); the result is a message."""
        try:
            written = self.export_weights(path) if fmt == WEIGHTS else export_other(self.session, path, fmt)
        except (WeightsError, ExportError) as exc:
            self.show_message(str(exc), error=True)
            return
        self.show_message(f"{EXPORTED[fmt]} written to {written}")

    def _on_load_clicked(self) -> None:
        path = ask_weights_to_open(self)
        if path is not None:
            self.load_weights_file(path)

    # ----- settings and closing --------------------------------------------------------------------
    def _restore_settings(self) -> None:
        experiment, unreadable = self.remembered.experiment()
        if experiment is not None:
            self.form.set_experiment(experiment)
        elif unreadable:
            self.form.restore_defaults()
            self.show_message("saved settings were unreadable; using the defaults")
        self.session.runs_dir = self.remembered.runs_dir()
        if self.remembered.geometry() is not None:
            self.restoreGeometry(self.remembered.geometry())
        self._on_form_changed()

    def _set_runs_dir(self, folder: Path) -> None:
        self.session.runs_dir = folder
        self.remembered.set_runs_dir(folder)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Stop and join the training thread and any sweep, remember the settings, then close."""
        self.runs_view.close_down()  # no trial process outlives the window, no thread its listing
        joined = all(job.wait(LOAD_JOIN_MS) for job in (self.loader, self.form.reader, self.inside.job))
        if not self.runner.stop_and_wait() or not joined:
            # A batch, an evaluation or a file longer than the wait: close when it has ended.
            self._close_when_finished = True
            self.show_message("stopping: the window closes when the current batch ends")
            event.ignore()
            return
        self.panels.stop()
        self.remembered.save(self.form.experiment(), self.saveGeometry())
        super().closeEvent(event)
