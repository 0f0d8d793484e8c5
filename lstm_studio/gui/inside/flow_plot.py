"""Gradient flow through time: ‖∂L/∂h_t‖ over the steps, per layer, the shown epoch bold and the
epochs before it fading."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QPaintEvent

from lstm_studio.gui.panels.base import LAYER_COLORS, LEGEND_BRUSH, TITLE_STYLE, EpochAxes, steady_axes

EPOCHS_SHOWN = 8  # the shown epoch and the seven before it


class GradientFlowPlot(pg.PlotWidget):
    """How far back in time the loss still reaches: where a curve falls towards the early steps,
    those steps barely learn (vanishing gradients); where it climbs, it explodes."""

    painted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("gradientFlowPlot")
        self.setBackground("w")
        self.setTitle("Gradient flow through time: ‖∂L/∂h_t‖ per layer", **TITLE_STYLE)
        self.setLabel("bottom", "step t")
        self.setLabel("left", "norm (log)")
        self.setLogMode(y=True)
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setMinimumHeight(180)
        self.legend = self.addLegend(offset=(10, 10), brush=LEGEND_BRUSH)
        self.curves: list[list[pg.PlotDataItem]] = []  # [age][layer], age 0 = the shown epoch
        steady_axes(self)  # re-fitting after every epoch painted the plot four times over
        self.axes = EpochAxes(self, log=True)  # y grows by whole decades; x is the steps, set in _fit
        self._steps: tuple[int, int] | None = None
        self._make_curves(1)  # built now, not in the middle of the first run (the usual model has one layer)

    def forget_range(self) -> None:
        """Another model: its norms start the y axis afresh."""
        self.axes.reset()

    def show_flows(self, flows: Sequence[list[np.ndarray]], shift: int = 0) -> None:
        """``flows``: oldest first, the shown epoch last; each a list of (T',) arrays per layer.
        ``shift``: steps the model does not read (1 when it reads differences)."""
        if not flows:  # nothing to show: the curves stay, empty, for the next model
            for curves in self.curves:
                for curve in curves:
                    curve.setData([], [])
            return
        layers = len(flows[-1])
        if not self.curves or len(self.curves[0]) != layers:
            self._make_curves(layers)
        recent = list(flows[-EPOCHS_SHOWN:])[::-1]  # the shown epoch first
        self._fit([values for flow in recent for values in flow], shift)
        for age, curves in enumerate(self.curves):
            for k, curve in enumerate(curves):
                if age < len(recent):
                    values = recent[age][k]
                    curve.setData(np.arange(1, len(values) + 1) + shift, np.maximum(values, 1e-30))
                else:
                    curve.setData([], [])

    def _fit(self, curves: list[np.ndarray], shift: int) -> None:
        """Steps 1 … T on x; y widened by whole decades to cover ``curves``."""
        if not curves:
            return
        steps = (1 + shift, max(len(values) for values in curves) + shift)
        if steps != self._steps:
            self._steps = steps
            self.setXRange(steps[0], max(steps[1], steps[0] + 1), padding=0.02)
        self.axes.include(np.concatenate([np.maximum(values, 1e-30) for values in curves]))

    def _make_curves(self, layers: int) -> None:
        self.clear()
        self.legend.clear()
        self.curves = []
        for age in range(EPOCHS_SHOWN):
            alpha = 255 if age == 0 else int(150 * (1 - age / EPOCHS_SHOWN))
            row = []
            for k in range(layers):
                color = pg.mkColor(LAYER_COLORS[k % len(LAYER_COLORS)])
                color.setAlpha(alpha)
                name = f"LSTM {k + 1}" if age == 0 else None
                row.append(self.plot(pen=pg.mkPen(color, width=3 if age == 0 else 1), name=name))
            self.curves.append(row)
        for curve in self.curves[0]:
            curve.setZValue(10)  # the shown epoch above the faded ones

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Paint, then tell (a run in a thread waits while a frame is painted)."""
        super().paintEvent(event)
        self.painted.emit()
