"""Mean pre-clip gradient norm per layer and epoch, with the clip threshold drawn."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from lstm_studio.gui.panels.base import (
    LAYER_COLORS,
    LEGEND_BRUSH,
    TYPICAL_LOG_SPAN,
    EpochAxes,
    HoverReadout,
    Panel,
    nearest,
)  # fmt: skip
from lstm_studio.training.session import Session


class GradientPanel(Panel):
    """How large each layer's gradient was, epoch by epoch: where learning stalls or explodes."""

    name = "gradientPlot"
    title = "Gradient norm per layer"

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("bottom", "epoch")
        self.setLabel("left", "norm (log)")
        self.setLogMode(y=True)
        # the legend at the bottom left, the clip line (high up, as clip thresholds are) labelled at
        # its right end: they never overlap
        self.legend = self.addLegend(offset=(10, -10), brush=LEGEND_BRUSH)
        self.clip_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("#c0392b", style=Qt.PenStyle.DashLine),
            label="clip {value:.3g}", labelOpts={"position": 0.92, "color": "#c0392b", "anchors": [(1, 1), (1, 1)]},
        )  # fmt: skip
        self.addItem(self.clip_line, ignoreBounds=True)
        self.clip_line.setVisible(False)  # until a model and its clip setting exist
        self.curves: list[pg.PlotDataItem] = []
        self.names: list[str] = []
        self.axes = EpochAxes(self, log=True)
        self.readout = HoverReadout(self, self._describe)

    def new_model(self, session: Session) -> None:
        """One curve per layer of the new model."""
        self._set_layers(session.history.layer_names if session.history is not None else [])
        self.axes.reset(typical=TYPICAL_LOG_SPAN)

    def reset(self, session: Session) -> None:
        """The clip line of the run (or the model's last run); the epoch axis covers the run's plan."""
        super().reset(session)
        experiment = session.run.experiment if session.running and session.run else session.experiment
        self._set_clip(experiment.train.clip if experiment is not None and session.model is not None else 0.0)
        self.axes.set_end(session.epoch_span)

    def _set_layers(self, names: list[str]) -> None:
        for curve in self.curves:
            self.removeItem(curve)
            self.legend.removeItem(curve)
        self.curves = [
            self.plot(pen=pg.mkPen(LAYER_COLORS[i % len(LAYER_COLORS)], width=2), name=name)
            for i, name in enumerate(names)
        ]
        self.names = list(names)

    def _set_clip(self, clip: float) -> None:
        """Draw the clip threshold (hidden when clipping is off)."""
        self.clip_line.setVisible(clip > 0)
        if clip > 0:
            self.clip_line.setValue(np.log10(clip))  # the view is in log10 units
            self.clip_line.label.setFormat(f"clip {clip:g}")
            self.axes.include([clip])

    def draw(self, session: Session) -> None:
        """The session's per-layer norms."""
        if session.history is None:
            return
        for curve, points in zip(self.curves, session.history.grad_norms, strict=True):
            self.axes.include(points.y[-8:])
            curve.setData(points.x, points.y)

    def _describe(self, x: float, _y: float) -> str:
        h = self.session.history if self.session is not None else None
        if h is None or not len(h.grad_norms[0]):
            return ""
        i = nearest(h.grad_norms[0].x, x)
        lines = [f"epoch {h.grad_norms[0].x[i]:g}"]
        lines += [f"{name} {p.y[i]:.3g}" for name, p in zip(h.layer_names, h.grad_norms, strict=True)]
        return "\n".join(lines)
