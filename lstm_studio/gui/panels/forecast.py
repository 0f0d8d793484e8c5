"""Series tasks: the validation part, the one-step predictions of it, and a forecast beyond the data."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from lstm_studio.gui.panels.base import LEGEND_BRUSH, TRAIN_COLOR, VAL_COLOR, Panel
from lstm_studio.gui.ranges import ExpandingRange
from lstm_studio.training.forecast import no_forecast_reason
from lstm_studio.training.predictor import Predictor
from lstm_studio.training.session import Session
from lstm_studio.training.tasks import Task


class ForecastPanel(Panel):
    """What the model makes of the end of a series; the forecast comes once a run has ended."""

    name = "forecastPlot"
    title = "actual · one step ahead · forecast beyond the data"

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("bottom", "time")
        self.setLabel("left", "value")
        self.addLegend(offset=(-10, 10), brush=LEGEND_BRUSH)
        self.getPlotItem().setDownsampling(auto=True, mode="peak")  # a long validation part draws quickly
        self.getPlotItem().setClipToView(True)
        self.actual_curve = self.plot(pen=pg.mkPen(TRAIN_COLOR, width=2), name="actual")
        self.one_step_curve = self.plot(pen=pg.mkPen(VAL_COLOR, width=2), name="one step ahead")
        self.future_curve = self.plot(pen=pg.mkPen("#d62728", width=2, style=Qt.PenStyle.DashLine), name="forecast")
        self.x_range, self.y_range = ExpandingRange(), ExpandingRange()

    def suits(self, task: Task) -> bool:
        """Series tasks (a CSV column, or the shipped sunspots)."""
        return task.series

    def new_model(self, session: Session) -> None:
        """Another model, other data: the ranges start afresh."""
        self.x_range.reset()
        self.y_range.reset()
        reason = no_forecast_reason(Predictor.for_data(session.model, session.data)) if session.data else ""
        self.set_title(f"{self.title} ({reason})" if reason else self.title)

    def draw(self, session: Session) -> None:
        """The newest evaluation over the validation part; the forecast of the weights kept."""
        data, evaluation = session.data, session.shown_evaluation
        if data is None or data.series is None or evaluation is None or data.task.is_classification:
            for curve in (self.actual_curve, self.one_step_curve, self.future_curve):
                curve.setData([], [])
            return
        x = data.series.axis[data.val_start : data.val_start + len(evaluation.targets)]
        self.actual_curve.setData(x, evaluation.targets)
        self.one_step_curve.setData(x, evaluation.predictions)
        forecast = session.outcome.forecast if session.outcome is not None and not session.running else None
        x_future, future = forecast if forecast is not None else (np.array([]), np.array([]))
        self.future_curve.setData(x_future, future)
        changed_x = self.x_range.include(np.concatenate([x, x_future]))
        if changed_x:
            self.setXRange(self.x_range.low, self.x_range.high, padding=0.02)
        if self.y_range.include(np.concatenate([evaluation.targets, evaluation.predictions, future])) or changed_x:
            self.setYRange(self.y_range.low, self.y_range.high, padding=0.05)
