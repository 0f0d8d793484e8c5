"""The compare plot: the ticked runs' loss (or metric) curves in one plot, a mark at each best epoch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from lstm_studio.gui.panels.base import LAYER_COLORS, LEGEND_BRUSH, TITLE_STYLE
from lstm_studio.training.compare import smooth
from lstm_studio.training.run_format import RunHistory

COLORS = ("#1f77b4", "#ff7f0e", *LAYER_COLORS, "#d62728")


class ComparePlot(pg.PlotWidget):
    """Validation (solid) and training (dashed) loss of each run, or its metric, keyed by what differs."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("comparePlot")
        self.setBackground("w")
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setLabel("bottom", "epoch")
        self.getAxis("left").enableAutoSIPrefix(False)  # log ticks read 0.001, not "(x0.001)"
        self.legend = self.addLegend(offset=(-10, 10), brush=LEGEND_BRUSH)
        self.curves: list[pg.PlotDataItem] = []
        self.show_runs([], [], [], metric=False, smoothing=0.0)

    def show_runs(self, histories: Sequence[RunHistory], labels: Sequence[str], best: Sequence[int],
                  metric: bool, smoothing: float) -> None:  # fmt: skip
        """One colour per run: the metric, or validation (solid) and training (dashed) loss, smoothed;
        a dot at each run's best epoch."""
        for item in self.curves:
            self.removeItem(item)
        self.legend.clear()
        self.curves = []
        self.setLogMode(y=not metric)
        name = histories[0].metric if metric and histories else "loss (log)"
        self.setTitle("Compare runs: " + ("the task's metric" if metric else "validation — and training - -"),
                      **TITLE_STYLE)  # fmt: skip
        self.setLabel("left", name)
        for k, (history, label, best_epoch) in enumerate(zip(histories, labels, best, strict=True)):
            color = COLORS[k % len(COLORS)]
            epochs = history.column("epoch")
            columns = [(history.metric, Qt.PenStyle.SolidLine)] if metric else [
                ("val_loss", Qt.PenStyle.SolidLine), ("train_loss", Qt.PenStyle.DashLine)]  # fmt: skip
            for i, (column, style) in enumerate(columns):
                values = smooth(history.column(column), smoothing)
                curve = self.plot(epochs, values, pen=pg.mkPen(color, width=2, style=style),
                                  name=(label or f"run {k + 1}") if i == 0 else None)  # fmt: skip
                self.curves.append(curve)
            if 1 <= best_epoch <= len(epochs):
                y = smooth(history.column(columns[0][0]), smoothing)[best_epoch - 1]
                dot = pg.ScatterPlotItem([best_epoch], [np.log10(y) if not metric and y > 0 else y], size=10,
                                         brush=pg.mkBrush(color), pen=pg.mkPen("w"), symbol="o")  # fmt: skip
                dot.setToolTip(f"best epoch {best_epoch}")
                self.addItem(dot)
                self.curves.append(dot)
        self.enableAutoRange()
