"""Regression: predicted against true value on the validation windows, with the diagonal."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from lstm_studio.gui.panels.base import EpochAxes, HoverReadout, Panel
from lstm_studio.gui.ranges import ExpandingRange
from lstm_studio.training.session import Session
from lstm_studio.training.tasks import Task

MAX_SCATTER_POINTS = 500  # a denser scatter tells nothing more and slows the redraw


class ScatterPanel(Panel):
    """The newest measurement: each validation window's prediction against its true next value."""

    name = "predictionPlot"
    title = "Predicted vs true (validation)"

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("bottom", "true next value")
        self.setLabel("left", "predicted")
        self.scatter = pg.ScatterPlotItem(
            size=6, pen=None, brush=pg.mkBrush(31, 119, 180, 140), hoverable=True,
            tip="true {x:.4g}\npredicted {y:.4g}".format,
        )  # fmt: skip
        self.diagonal = self.plot(pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        self.addItem(self.scatter)
        self.y_axis = EpochAxes(self, log=False)  # only its growing y range is used
        self.x_range = ExpandingRange()
        self.readout = HoverReadout(self, self._describe)

    def suits(self, task: Task) -> bool:
        """Regression tasks."""
        return not task.is_classification

    def new_model(self, session: Session) -> None:
        """Another model, other data: the ranges start afresh."""
        self.y_axis.reset()
        self.x_range.reset()

    def draw(self, session: Session) -> None:
        """The session's newest evaluation."""
        evaluation = session.shown_evaluation
        if evaluation is None or session.task is None or session.task.is_classification:
            self.scatter.clear()
            self.diagonal.setData([], [])
            return
        true = evaluation.targets[:MAX_SCATTER_POINTS]
        pred = evaluation.predictions[:MAX_SCATTER_POINTS]
        self.scatter.setData(true, pred)
        if self.x_range.include(true):
            self.setXRange(self.x_range.low, self.x_range.high, padding=0.02)
        self.y_axis.include(np.concatenate([true, pred]))
        low, high = float(np.min(true)), float(np.max(true))
        self.diagonal.setData([low, high], [low, high])

    def _describe(self, x: float, y: float) -> str:
        shown = self.session is not None and self.session.shown_evaluation is not None
        return f"true {x:.4g}\npredicted {y:.4g}" if shown else ""
