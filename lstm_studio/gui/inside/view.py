"""The Inside view: the gates, cell and hidden states of one sequence, the gradient flow through
time, and a replay of every recorded epoch.

During a run the worker measures each epoch (``training.snapshots``); what a snapshot does not hold
(another window, a sequence typed into Try it, a loaded model) is measured in a background thread.
The view only draws.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from lstm_studio.core import LSTMModel
from lstm_studio.gui.background import BackgroundJob
from lstm_studio.gui.inside.flow_plot import GradientFlowPlot
from lstm_studio.gui.inside.heatmaps import Heatmaps
from lstm_studio.gui.inside.replay import ReplayBar
from lstm_studio.gui.panels.base import EPOCH_PERIOD
from lstm_studio.training.session import Session, Update
from lstm_studio.training.snapshots import Trace, inspect, worst_window

CAPTION = (
    "Each column is a layer; rows are its units, left to right the steps of the sequence. "
    "Gates run from 0 (closed) to 1 (open): a forget gate near 1 keeps the cell's memory. "
    "Below, how strongly the loss reaches back to each step: a curve falling to the left is a fading gradient."
)


TYPED_TIP = "look inside for the sequence typed into Try it"


class InsideView(QWidget):
    """What happens inside the LSTM for one sequence, at the live epoch or a replayed one."""

    painted = Signal()
    period = EPOCH_PERIOD

    def __init__(self, typed_values: Callable[[], list[float] | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("insideView")
        self.typed_values = typed_values  # what Try it holds now
        self.session: Session | None = None
        self._model: object = None  # the model last shown: another one starts the flow plot's range afresh
        self.dirty = False
        self.job = BackgroundJob(self)
        self._wanted: tuple | None = None  # what the view waits for from the job
        self._build()
        self.job.done.connect(self._on_measured)
        self.job.failed.connect(lambda error: self.hover_label.setText(f"could not look inside: {error}"))
        self._unpainted: set[QWidget] = set()  # drawn since the last paint: the view has painted when both have
        self.heatmaps.painted.connect(lambda: self._on_part_painted(self.heatmaps))
        self.flow_plot.painted.connect(lambda: self._on_part_painted(self.flow_plot))
        self.heatmaps.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def _build(self) -> None:
        self.window_spin = QSpinBox(objectName="insideWindowSpin", minimum=1, maximum=1)
        self.window_spin.setToolTip("which validation window to look inside")
        self.worst_button = QPushButton("Worst predicted", objectName="worstButton")
        self.worst_button.setToolTip("the validation window the model gets most wrong at the shown epoch")
        self.try_it_check = QCheckBox("Try it's sequence", objectName="insideTryItCheck")
        self.try_it_check.setToolTip(TYPED_TIP)
        self.order_check = QCheckBox("order units by activity", objectName="orderUnitsCheck", checked=True)
        self.order_check.setToolTip("most active units (mean |h|) at the top, so patterns show instead of noise")
        self.window_label = QLabel(objectName="insideWindowLabel")
        controls = QHBoxLayout()
        for widget in (QLabel("Validation window"), self.window_spin, self.worst_button, self.try_it_check,
                       self.order_check):  # fmt: skip
            controls.addWidget(widget)
        controls.addWidget(self.window_label, stretch=1)
        self.caption = QLabel(CAPTION, objectName="insideCaption", wordWrap=True)
        self.heatmaps = Heatmaps()
        self.flow_plot = GradientFlowPlot()
        self.hover_label = QLabel(objectName="insideHover")
        self.replay = ReplayBar()
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.heatmaps, stretch=3)
        layout.addWidget(self.hover_label)
        layout.addWidget(self.flow_plot, stretch=1)
        layout.addWidget(self.replay)
        self.window_spin.valueChanged.connect(self._on_window_chosen)
        self.worst_button.clicked.connect(self._on_worst)
        self.try_it_check.toggled.connect(self._mark)
        self.order_check.toggled.connect(self._mark)

    # ----- the panel protocol ------------------------------------------------------------------------
    def reset(self, session: Session) -> None:
        """A new model, run start or end, Load: follow the session."""
        if session.model is not self._model:
            self._model = session.model
            self.flow_plot.forget_range()
        self.session = session
        n = len(session.data.x_val) if session.data is not None else 1
        self.window_spin.setMaximum(max(n, 1))
        self.replay.set_count(len(session.snapshots))
        self._mark()

    def feed(self, session: Session, update: Update | None) -> None:
        """New snapshots: the slider grows (and stays at live when it was there)."""
        if update is None or update.snapshots:
            self.replay.set_count(len(session.snapshots))
            self._mark()

    def refresh(self) -> bool:
        """Draw what is due (only while the view is on screen); True when drawn now."""
        if not self.dirty or self.session is None or not self.isVisible():
            return False
        self.dirty = False
        return self._draw()

    # ----- drawing -----------------------------------------------------------------------------------
    def _mark(self) -> None:
        self.dirty = True

    def _draw(self) -> bool:
        s = self.session
        self._describe_position()
        one_column = s.experiment is None or not s.experiment.inputs  # Try it's values alone make a window
        self.try_it_check.setEnabled(one_column)
        self.try_it_check.setToolTip(
            TYPED_TIP if one_column else "this model also reads other columns: look inside a validation window"
        )
        typed = self.typed_values() if self.try_it_check.isChecked() and one_column else None
        snapshot = s.replayed or (s.snapshots.items[-1] if s.running and len(s.snapshots) else None)
        window = self.window_spin.value() - 1
        if snapshot is not None and typed is None and snapshot.trace.window == window:
            self._show(snapshot.trace, None)
            return True
        self._measure(snapshot.state if snapshot is not None else None, window, typed)
        return False

    def _on_part_painted(self, part: QWidget) -> None:
        self._unpainted.discard(part)
        if not self._unpainted:
            self.painted.emit()  # from this view: the panel area waits for it

    def _show(self, trace: Trace, flow: list | None) -> None:
        s = self.session
        self._unpainted = {self.heatmaps, self.flow_plot}
        self.heatmaps.draw_trace(trace, self.order_check.isChecked())
        shown = s.replay if s.replay is not None else len(s.snapshots)
        flows = [snap.flow for snap in s.snapshots.items[: shown + 1]] if len(s.snapshots) else []
        if flow is not None and (s.replay is None and not s.running):
            flows = [*flows, flow]  # the model as it is now, after the recorded epochs
        self.flow_plot.show_flows(flows, shift=len(trace.raw) - trace.layers[0].hidden.shape[1])
        self._describe_window(trace)

    def _measure(self, state: dict | None, window: int, typed: list[float] | None) -> None:
        """Measure in the background what no snapshot holds; drawn when it arrives."""
        s = self.session
        if s.model is None:
            self.heatmaps.blank()
            self.flow_plot.show_flows([])
            return
        config = s.model.config()
        state = state if state is not None else s.model.state_dict()  # a copy: training may go on meanwhile
        predictor = s.predictor() if typed else None
        if typed and predictor is None:
            return
        data = s.data
        wanted = (id(state), window, tuple(typed or ()), self.order_check.isChecked())
        self._wanted = wanted
        if self.job.busy:
            return  # the newest wish is measured when the running job ends

        def work() -> tuple:
            model = LSTMModel.from_config(config)
            model.load_state_dict(state)
            return (wanted, *inspect(model, data, window, (predictor, typed) if typed else None))

        self.job.start(work)

    def _on_measured(self, result: tuple) -> None:
        wanted, trace, flow = result
        if wanted != self._wanted:  # the user moved on meanwhile: measure the newest wish
            self._mark()
            self.refresh()
            return
        self._show(trace, flow)

    # ----- words ------------------------------------------------------------------------------------
    def _describe_position(self) -> None:
        s = self.session
        if s.replayed is not None:
            self.replay.describe(f"epoch {s.replayed.epoch} of {s.epochs_done} (replay)")
        elif s.running:
            self.replay.describe(f"epoch {s.epochs_done} (live) · {s.snapshots.describe()}")
        else:
            kept = s.kept_epoch()
            now = f"the weights kept (epoch {kept})" if kept else "the model now"
            self.replay.describe(f"{now} · {s.snapshots.describe()}")

    def _describe_window(self, trace: Trace) -> None:
        s, evaluation = self.session, self.session.shown_evaluation
        if trace.window < 0 or evaluation is None or s.task is None:
            self.window_label.setText("your sequence (Try it)" if trace.window < 0 else "")
            return
        true, predicted = evaluation.targets[trace.window], evaluation.predictions[trace.window]
        if s.task.is_classification:
            self.window_label.setText(
                f"true: {s.task.classes[int(true)]} · predicted: {s.task.classes[int(predicted)]}"
            )
        else:
            self.window_label.setText(f"next value {true:.4g} · predicted {predicted:.4g}")

    def typed_changed(self) -> None:
        """Try it holds another sequence: look inside for it when that is what the view shows."""
        if self.try_it_check.isChecked():
            self._mark()
            self.refresh()

    # ----- reactions ----------------------------------------------------------------------------------
    def _on_window_chosen(self, value: int) -> None:
        if self.session is not None:
            self.session.probe.chosen = value - 1  # the worker measures this window from the next epoch on
        self._mark()
        self.refresh()

    def _on_worst(self) -> None:
        s = self.session
        if s is not None and s.shown_evaluation is not None and s.task is not None:
            self.window_spin.setValue(worst_window(s.shown_evaluation, s.task.is_classification) + 1)

    def _on_mouse_moved(self, pos: QPointF) -> None:
        self.hover_label.setText(self.heatmaps.describe_at(pos))
