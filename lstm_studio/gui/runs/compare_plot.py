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
        self.runs: list[_RunItems] = []  # the plot items of each run shown, reused from one call to the next
        self._shown: tuple = ()  # (metric, labels) the legend, title and axes were last set up for
        self.show_runs([], [], [], metric=False, smoothing=0.0)

    @property
    def curves(self) -> list[pg.GraphicsObject]:
        """Every curve and best-epoch dot on the plot."""
        return [item for run in self.runs for item in run.items]

    def show_runs(self, histories: Sequence[RunHistory], labels: Sequence[str], best: Sequence[int],
                  metric: bool, smoothing: float) -> None:  # fmt: skip
        """One colour per run: the metric, or validation (solid) and training (dashed) loss, smoothed;
        a dot at each run's best epoch. The items of runs already shown are given new data, not rebuilt:
        while a sweep adds its trials one by one, each redraw stays short."""
        labels = [label or f"run {k + 1}" for k, label in enumerate(labels)]
        setup = (metric, tuple(labels))
        if setup != self._shown:
            self._set_up(histories, labels, metric)
        for k, (history, best_epoch) in enumerate(zip(histories, best, strict=True)):
            self.runs[k].show(history, best_epoch, metric, smoothing)
        self.enableAutoRange()

    def _set_up(self, histories: Sequence[RunHistory], labels: Sequence[str], metric: bool) -> None:
        """Title, axes, legend and one set of items per run, for another set of runs or another measure."""
        self._shown = (metric, tuple(labels))
        while len(self.runs) > len(labels):
            for item in self.runs.pop().items:
                self.removeItem(item)
        while len(self.runs) < len(labels):
            self.runs.append(_RunItems(self, COLORS[len(self.runs) % len(COLORS)]))
        self.setLogMode(y=not metric)
        name = histories[0].metric if metric and histories else "loss (log)"
        self.setTitle("Compare runs: " + ("the task's metric" if metric else "validation — and training - -"),
                      **TITLE_STYLE)  # fmt: skip
        self.setLabel("left", name)
        self.legend.clear()
        for run, label in zip(self.runs, labels, strict=True):
            run.main.opts["name"] = label  # what PlotDataItem.name() answers, as if given when it was made
            self.legend.addItem(run.main, label)


class _RunItems:
    """One run's solid curve (validation loss or the metric), dashed curve (training loss) and best-epoch dot."""

    def __init__(self, plot: pg.PlotWidget, color: str) -> None:
        self.main = plot.plot(pen=pg.mkPen(color, width=2))
        self.training = plot.plot(pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine))
        self.dot = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(color), pen=pg.mkPen("w"), symbol="o")
        plot.addItem(self.dot)
        self.items = [self.main, self.training, self.dot]

    def show(self, history: RunHistory, best_epoch: int, metric: bool, smoothing: float) -> None:
        """Give the items ``history``'s values."""
        epochs = history.column("epoch")
        main = smooth(history.column(history.metric if metric else "val_loss"), smoothing)
        self.main.setData(epochs, main)
        if metric:
            self.training.setData([], [])
        else:
            self.training.setData(epochs, smooth(history.column("train_loss"), smoothing))
        if 1 <= best_epoch <= len(epochs):
            y = main[best_epoch - 1]
            self.dot.setData([best_epoch], [np.log10(y) if not metric and y > 0 else y])
            self.dot.setToolTip(f"best epoch {best_epoch}")
        else:
            self.dot.setData([], [])
