"""Regression on generated sequences: one sequence, its true next value and the model's answer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from lstm_studio.gui.panels.base import TRAIN_COLOR, Panel
from lstm_studio.gui.ranges import ExpandingRange
from lstm_studio.training.session import Session
from lstm_studio.training.tasks import Task


class SequencePanel(Panel):
    """A validation window (or the sequence typed into Try it) with the next value it leads to."""

    name = "sequencePlot"
    title = "Sequence and next value"

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("bottom", "step")
        self.setLabel("left", "value  (● true next, × predicted)")
        self.sequence_curve = self.plot(pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=5,
                                        symbolBrush=TRAIN_COLOR)  # fmt: skip
        self.true_point = pg.ScatterPlotItem(size=11, symbol="o", brush=pg.mkBrush("#2ca02c"), pen=None)
        self.pred_point = pg.ScatterPlotItem(size=13, symbol="x", brush=pg.mkBrush("#d62728"), pen=None)
        self.addItem(self.true_point)
        self.addItem(self.pred_point)
        self.y_range = ExpandingRange()
        self.caption = ""
        self.tried: tuple[np.ndarray, float] | None = None  # what Try it showed last

    def suits(self, task: Task) -> bool:
        """Regression on generated windows (series tasks show a forecast instead)."""
        return not task.is_classification and not task.series

    def reset(self, session: Session) -> None:
        """A new model or run: back to the first validation window."""
        self.tried = None
        super().reset(session)

    def show_tried(self, values: Sequence[float], predicted: float) -> None:
        """Show a sequence typed into Try it and the model's answer (drawn at the next refresh)."""
        self.tried = (np.asarray(values, dtype=float), predicted)
        self.dirty = True

    def draw(self, session: Session) -> None:
        """Try it's sequence when there is one, else the first validation window."""
        if self.tried is not None:
            values, predicted = self.tried
            self._show(values, predicted, None, "your sequence (Try it)")
            return
        evaluation, data = session.shown_evaluation, session.data
        if evaluation is None or data is None or data.task.is_classification:
            self._show(np.array([]), None, None, "")
            return
        self._show(data.val_windows[0], float(evaluation.predictions[0]), float(evaluation.targets[0]),
                   "validation window 1")  # fmt: skip

    def _show(self, values: np.ndarray, predicted: float | None, true: float | None, caption: str) -> None:
        steps = np.arange(1, len(values) + 1)
        self.sequence_curve.setData(steps, values)
        nxt = len(values) + 1
        self.true_point.setData([nxt], [true]) if true is not None else self.true_point.clear()
        self.pred_point.setData([nxt], [predicted]) if predicted is not None else self.pred_point.clear()
        if caption != self.caption:
            self.caption = caption  # a new sequence: the y range starts afresh
            self.y_range.reset()
            self.set_title(self.title + (f": {caption}" if caption else ""))
            self.setXRange(0.5, nxt + 0.5, padding=0.02)
        shown = [*values, *(v for v in (predicted, true) if v is not None)]
        if self.y_range.include(shown):
            self.setYRange(self.y_range.low, self.y_range.high, padding=0.08)  # room for the markers
