"""Training and validation loss per epoch on a log scale, with every batch as a faint trace and, for
regression, the validation loss of two forecasts that learn nothing as dashed reference lines."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from lstm_studio.gui.panels.base import (
    BATCH_COLOR,
    LEGEND_BRUSH,
    TRAIN_COLOR,
    TYPICAL_LOG_SPAN,
    VAL_COLOR,
    EpochAxes,
    HoverReadout,
    Panel,
    nearest,
)  # fmt: skip
from lstm_studio.training.baseline_losses import PERSISTENCE, TRAINING_MEAN
from lstm_studio.training.session import Session

BATCH_TAIL = 512  # batches whose losses may widen the axis at each redraw
BASELINES = {  # the session's baseline name: (legend label, colour)
    PERSISTENCE: ("persistence", "#2ca02c"),  # repeat the last value
    TRAINING_MEAN: ("training mean", "#9467bd"),
}


class LossPanel(Panel):
    """The loss of every batch and epoch of the current model, over all its runs."""

    name = "lossPlot"
    title = "Loss"
    period = 0.2  # the batch trace moves with every batch: five frames a second

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("bottom", "epoch")
        self.setLabel("left", "loss (log)")
        self.setLogMode(y=True)
        self.legend = self.addLegend(offset=(-10, 10), brush=LEGEND_BRUSH)
        self.getPlotItem().setDownsampling(mode="peak")
        self.getPlotItem().setClipToView(True)
        self.batch_curve = self.plot(pen=pg.mkPen(BATCH_COLOR, width=1), name="batch")
        self.train_curve = self.plot(
            pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=4, symbolBrush=TRAIN_COLOR, name="train"
        )
        self.val_curve = self.plot(
            pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=4, symbolBrush=VAL_COLOR, name="validation"
        )
        self.baseline_curves = {
            name: pg.PlotDataItem(pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine))
            for name, (_, color) in BASELINES.items()
        }
        for curve in self.baseline_curves.values():
            self.addItem(curve)  # not in the legend until a task has the baseline
        self.axes = EpochAxes(self, log=True)
        self.readout = HoverReadout(self, self._describe)
        self.replay_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#555", style=Qt.PenStyle.DotLine))
        self.addItem(self.replay_line, ignoreBounds=True)
        self.replay_line.hide()  # marks the epoch an epoch replay shows

    def new_model(self, session: Session) -> None:
        """A new model's losses start from a typical span."""
        self.axes.reset(typical=TYPICAL_LOG_SPAN)

    def reset(self, session: Session) -> None:
        """The epoch axis covers the run's plan."""
        super().reset(session)
        self.axes.set_end(session.epoch_span)
        for name, curve in self.baseline_curves.items():
            self.legend.removeItem(curve)
            if name in session.baselines:
                self.legend.addItem(curve, BASELINES[name][0])
            else:
                curve.setData([], [])

    def draw(self, session: Session) -> None:
        """Curves from the session's history (views of its arrays, no copies)."""
        for name, value in session.baselines.items():
            self.baseline_curves[name].setData([0.0, session.epoch_span], [value, value])
        self.axes.include(list(session.baselines.values()))
        self.replay_line.setVisible(session.replayed is not None)
        if session.replayed is not None:
            self.replay_line.setValue(session.replayed.epoch)
        h = session.history
        if h is None:
            for curve in (self.batch_curve, self.train_curve, self.val_curve):
                curve.setData([], [])
            return
        self.axes.include(h.batch_loss.y[-BATCH_TAIL:])
        self.axes.include(h.val_loss.y[-8:])
        self.batch_curve.setData(h.batch_loss.x, h.batch_loss.y)
        self.train_curve.setData(h.train_loss.x, h.train_loss.y)
        self.val_curve.setData(h.val_loss.x, h.val_loss.y)

    def _describe(self, x: float, _y: float) -> str:
        h = self.session.history if self.session is not None else None
        i = nearest(h.train_loss.x, x) if h is not None else None
        if i is None:
            return ""
        lines = [f"epoch {h.train_loss.x[i]:g}", f"train {h.train_loss.y[i]:.4g}", f"val {h.val_loss.y[i]:.4g}"]
        lines += [f"{name} {value:.4g}" for name, value in self.session.baselines.items()]
        return "\n".join(lines)
