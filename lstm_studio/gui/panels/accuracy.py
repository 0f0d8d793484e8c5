"""Classification: validation accuracy per epoch."""

from __future__ import annotations

import pyqtgraph as pg

from lstm_studio.gui.panels.base import VAL_COLOR, EpochAxes, HoverReadout, Panel, nearest
from lstm_studio.training.session import Session
from lstm_studio.training.tasks import Task


class AccuracyPanel(Panel):
    """The share of validation windows classified right, epoch by epoch."""

    name = "accuracyPlot"
    title = "Validation accuracy"

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("bottom", "epoch")
        self.setLabel("left", "accuracy")
        self.curve = self.plot(pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=4, symbolBrush=VAL_COLOR)
        self.axes = EpochAxes(self, log=False)
        self.axes.include([0.0, 1.0])
        self.readout = HoverReadout(self, self._describe)

    def suits(self, task: Task) -> bool:
        """Classification tasks."""
        return task.is_classification

    def reset(self, session: Session) -> None:
        """The epoch axis covers the run's plan."""
        self.axes.set_end(session.epoch_span)
        super().reset(session)

    def draw(self, session: Session) -> None:
        """The session's accuracy history."""
        if session.history is None:
            self.curve.setData([], [])
            return
        self.curve.setData(session.history.metric.x, session.history.metric.y)

    def _describe(self, x: float, _y: float) -> str:
        h = self.session.history if self.session is not None else None
        i = nearest(h.metric.x, x) if h is not None else None
        return "" if i is None else f"epoch {h.metric.x[i]:g}\naccuracy {h.metric.y[i]:.1%}"
