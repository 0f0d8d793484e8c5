"""The live plots. Slots only store data; ``refresh()`` (called from a timer) redraws what changed.

Each curve is created once and updated with ``setData``; values under the mouse are read
out in a corner label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QGraphicsItem

from lstm_studio.gui.ranges import ExpandingRange
from lstm_studio.gui.series import Series
from lstm_studio.training import Evaluation

TRAIN_COLOR, VAL_COLOR, BATCH_COLOR = "#1f77b4", "#ff7f0e", (120, 120, 120, 90)
LAYER_COLORS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
LEFT_AXIS_WIDTH = 64  # pixels: room for tick labels such as 1e-07 or -1500 beside the axis title
MAX_SCATTER_POINTS = 500  # a denser scatter tells nothing more and slows the redraw
TYPICAL_LOG_SPAN = (1e-3, 10.0)  # where losses and gradient norms start out: log axes begin there


def _configure(plot: pg.PlotWidget, name: str, title: str, x_label: str, y_label: str) -> None:
    plot.setObjectName(name)
    plot.setBackground("w")
    plot.setTitle(title, color="#333", size="10pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMinimumSize(260, 200)
    plot.disableAutoRange()  # ranges follow ExpandingRange: re-fitting every frame is the costliest part
    item = plot.getPlotItem()
    item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)  # a fixed width: new tick labels never re-lay out the plot
    for part in (item.getAxis("left"), item.getAxis("bottom"), item.titleLabel):
        part.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # redrawn only when they change


class EpochAxes:
    """x from 0 to the run's last epoch, y growing in round steps (decades on a log axis)."""

    def __init__(self, plot: pg.PlotWidget, log: bool) -> None:
        self.plot = plot
        self.y = ExpandingRange(log=log)
        self.end = 1.0

    def reset(self, typical: tuple[float, float] | None = None) -> None:
        """Forget the y extent (a new model), starting from a ``typical`` span if given: early
        epochs then stay inside it instead of re-drawing the axis every few frames."""
        self.y.reset()
        if typical is not None:
            self.include(list(typical))

    def set_end(self, end: float) -> None:
        """Show epochs 0 to ``end``."""
        self.end = max(end, 1.0)
        self.plot.setXRange(0, self.end, padding=0.02)

    def include(self, values: np.ndarray | list[float]) -> None:
        """Make room for ``values`` on the y axis."""
        if self.y.include(values):
            self.plot.setYRange(self.y.low, self.y.high, padding=0.02)


class Plot(pg.PlotWidget):
    """A PlotWidget that says when it has painted (the window lets training go on then)."""

    painted = Signal()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Paint, then tell."""
        super().paintEvent(event)
        self.painted.emit()


class HoverReadout:
    """Writes ``describe(x, y)`` for the point under the mouse into the plot's corner."""

    def __init__(self, plot: pg.PlotWidget, describe: Callable[[float, float], str]) -> None:
        self.plot, self.describe = plot, describe
        self.label = pg.TextItem(color="#222", anchor=(0, 0), fill=(255, 255, 255, 200))
        self.label.setZValue(100)
        plot.addItem(self.label, ignoreBounds=True)
        self.label.hide()
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=30, slot=self._moved)

    def _moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        view = self.plot.getViewBox()
        if not view.sceneBoundingRect().contains(pos):
            self.label.hide()
            return
        point = view.mapSceneToView(pos)
        text = self.describe(point.x(), point.y())
        if not text:
            self.label.hide()
            return
        (x0, _), (_, y1) = view.viewRange()
        self.label.setText(text)
        self.label.setPos(x0, y1)
        self.label.show()


def _nearest(x: np.ndarray, value: float) -> int | None:
    return int(np.argmin(np.abs(x - value))) if len(x) else None


class LossPlot(Plot):
    """Training and validation loss per epoch on a log scale, with every batch as a faint trace."""

    def __init__(self) -> None:
        super().__init__()
        _configure(self, "lossPlot", "Loss", "epoch", "loss (log)")
        self.setLogMode(y=True)
        self.addLegend(offset=(-10, 10))
        self.getPlotItem().setDownsampling(mode="peak")
        self.getPlotItem().setClipToView(True)
        self.batch_curve = self.plot(pen=pg.mkPen(BATCH_COLOR, width=1), name="batch")
        self.train_curve = self.plot(
            pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=4, symbolBrush=TRAIN_COLOR, name="train"
        )
        self.val_curve = self.plot(
            pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=4, symbolBrush=VAL_COLOR, name="validation"
        )
        self.batch, self.train, self.val = Series(4096), Series(), Series()
        self.axes = EpochAxes(self, log=True)
        self._dirty = False
        self.readout = HoverReadout(self, self._describe)

    def clear_history(self) -> None:
        """Forget every point (a new model)."""
        for series in (self.batch, self.train, self.val):
            series.clear()
        self.axes.reset(typical=TYPICAL_LOG_SPAN)
        self._dirty = True

    def add_batches(self, epochs: Sequence[float], losses: Sequence[float]) -> None:
        """Batch losses at fractional epochs."""
        self.batch.extend(epochs, losses)
        self._dirty = True

    def add_epoch(self, epoch: float, train_loss: float, val_loss: float) -> None:
        """One finished epoch."""
        self.train.append(epoch, train_loss)
        self.val.append(epoch, val_loss)
        self._dirty = True

    def refresh(self) -> bool:
        """Hand new data to the curves; True when anything changed."""
        if not self._dirty:
            return False
        self._dirty = False
        self.axes.include(self.batch.y[-512:])
        self.axes.include(self.val.y[-8:])
        self.batch_curve.setData(self.batch.x, self.batch.y)
        self.train_curve.setData(self.train.x, self.train.y)
        self.val_curve.setData(self.val.x, self.val.y)
        return True

    def _describe(self, x: float, _y: float) -> str:
        i = _nearest(self.train.x, x)
        if i is None:
            return ""
        return f"epoch {self.train.x[i]:g}\ntrain {self.train.y[i]:.4g}\nval {self.val.y[i]:.4g}"


class GradientPlot(Plot):
    """Mean pre-clip gradient norm per layer and epoch, with the clip threshold drawn."""

    def __init__(self) -> None:
        super().__init__()
        _configure(self, "gradientPlot", "Gradient norm per layer", "epoch", "norm (log)")
        self.setLogMode(y=True)
        self.legend = self.addLegend(offset=(-10, 10))
        self.clip_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("#c0392b", style=Qt.PenStyle.DashLine),
            label="clip {value:.3g}", labelOpts={"position": 0.1, "color": "#c0392b"},
        )  # fmt: skip
        self.addItem(self.clip_line, ignoreBounds=True)
        self.clip_line.setVisible(False)  # until a model and its clip setting exist
        self.curves: list[pg.PlotDataItem] = []
        self.series: list[Series] = []
        self.axes = EpochAxes(self, log=True)
        self._dirty = False
        self.readout = HoverReadout(self, self._describe)

    def set_layers(self, names: Sequence[str]) -> None:
        """One curve per layer (a new model); forgets the history."""
        for curve in self.curves:
            self.removeItem(curve)
            self.legend.removeItem(curve)
        self.curves = [
            self.plot(pen=pg.mkPen(LAYER_COLORS[i % len(LAYER_COLORS)], width=2), name=name)
            for i, name in enumerate(names)
        ]
        self.series = [Series() for _ in names]
        self._names = list(names)
        self.axes.reset(typical=TYPICAL_LOG_SPAN)
        self._dirty = True

    def set_clip(self, clip: float) -> None:
        """Draw the clip threshold (hidden when clipping is off)."""
        self.clip_line.setVisible(clip > 0)
        if clip > 0:
            self.clip_line.setValue(np.log10(clip))  # the view is in log10 units
            self.clip_line.label.setFormat(f"clip {clip:g}")
            self.axes.include([clip])

    def add_epoch(self, epoch: float, norms: Sequence[float]) -> None:
        """One epoch's norms, one per layer."""
        for series, norm in zip(self.series, norms, strict=False):
            series.append(epoch, norm)
        self._dirty = True

    def refresh(self) -> bool:
        """Hand new data to the curves; True when anything changed."""
        if not self._dirty:
            return False
        self._dirty = False
        for curve, series in zip(self.curves, self.series, strict=True):
            self.axes.include(series.y[-8:])
            curve.setData(series.x, series.y)
        return True

    def _describe(self, x: float, _y: float) -> str:
        if not self.series or not len(self.series[0]):
            return ""
        i = _nearest(self.series[0].x, x)
        lines = [f"epoch {self.series[0].x[i]:g}"]
        lines += [f"{name} {s.y[i]:.3g}" for name, s in zip(self._names, self.series, strict=True)]
        return "\n".join(lines)


class PredictionPlot(Plot):
    """Regression: predicted against true value on validation windows. Classification:
    validation accuracy per epoch."""

    def __init__(self) -> None:
        super().__init__()
        _configure(self, "predictionPlot", "Predictions", "", "")
        self.scatter = pg.ScatterPlotItem(
            size=6, pen=None, brush=pg.mkBrush(31, 119, 180, 140), hoverable=True,
            tip="true {x:.4g}\npredicted {y:.4g}".format,
        )  # fmt: skip
        self.diagonal = self.plot(pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        self.addItem(self.scatter)
        self.accuracy_curve = self.plot(
            pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=4, symbolBrush=VAL_COLOR
        )
        self.accuracy = Series()
        self.axes = EpochAxes(self, log=False)
        self.x_range = ExpandingRange()
        self.classification = False
        self._latest: Evaluation | None = None
        self._dirty = False
        self.readout = HoverReadout(self, self._describe)
        self.set_classification(False)

    def set_classification(self, classification: bool) -> None:
        """Switch what the plot shows, and forget the history."""
        self.classification = classification
        self.accuracy.clear()
        self.axes.reset()
        self.x_range.reset()
        self._latest = None
        self.scatter.setVisible(not classification)
        self.diagonal.setVisible(not classification)
        self.accuracy_curve.setVisible(classification)
        if classification:
            self.setTitle("Validation accuracy", color="#333", size="10pt")
            self.setLabel("bottom", "epoch")
            self.setLabel("left", "accuracy")
        else:
            self.setTitle("Predicted vs true (validation)", color="#333", size="10pt")
            self.setLabel("bottom", "true next value")
            self.setLabel("left", "predicted")
        self._dirty = True

    def add_epoch(self, epoch: float, evaluation: Evaluation) -> None:
        """Keep the epoch's validation results for the next redraw."""
        self._latest = evaluation
        if evaluation.accuracy is not None:
            self.accuracy.append(epoch, evaluation.accuracy)
        self._dirty = True

    def refresh(self) -> bool:
        """Hand new data to the items; True when anything changed."""
        if not self._dirty:
            return False
        self._dirty = False
        if self.classification:
            self.axes.include([0.0, 1.0])
            self.accuracy_curve.setData(self.accuracy.x, self.accuracy.y)
            return True
        if self._latest is None:
            self.scatter.clear()
            self.diagonal.setData([], [])
            return True
        true = self._latest.targets[:MAX_SCATTER_POINTS]
        pred = self._latest.predictions[:MAX_SCATTER_POINTS]
        self.scatter.setData(true, pred)
        if self.x_range.include(true):
            self.setXRange(self.x_range.low, self.x_range.high, padding=0.02)
        self.axes.include(np.concatenate([true, pred]))
        low, high = float(np.min(true)), float(np.max(true))
        self.diagonal.setData([low, high], [low, high])
        return True

    def _describe(self, x: float, y: float) -> str:
        if self.classification:
            i = _nearest(self.accuracy.x, x)
            return "" if i is None else f"epoch {self.accuracy.x[i]:g}\naccuracy {self.accuracy.y[i]:.1%}"
        return f"true {x:.4g}\npredicted {y:.4g}" if self._latest is not None else ""


class DetailPlot(Plot):
    """Regression: one sequence, its true next value and the model's prediction.
    Classification: the validation confusion matrix."""

    def __init__(self) -> None:
        super().__init__()
        _configure(self, "detailPlot", "", "", "")
        self.sequence_curve = self.plot(pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=5,
                                        symbolBrush=TRAIN_COLOR, name="input")  # fmt: skip
        self.true_point = pg.ScatterPlotItem(size=11, symbol="o", brush=pg.mkBrush("#2ca02c"), pen=None)
        self.pred_point = pg.ScatterPlotItem(size=13, symbol="x", brush=pg.mkBrush("#d62728"), pen=None)
        self.addItem(self.true_point)
        self.addItem(self.pred_point)
        self.actual_curve = self.plot(pen=pg.mkPen(TRAIN_COLOR, width=2), name="actual")
        self.one_step_curve = self.plot(pen=pg.mkPen(VAL_COLOR, width=2), name="one step ahead")
        self.future_curve = self.plot(pen=pg.mkPen("#d62728", width=2, style=Qt.PenStyle.DashLine), name="forecast")
        self.forecast_x = ExpandingRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.addItem(self.image)
        self.cell_labels: list[pg.TextItem] = []
        self.y_range = ExpandingRange()
        self.caption = ""
        self.classes: list[str] = []
        self.series_mode = False
        self._pending: tuple | None = None
        self.set_classes([])

    def set_classes(self, classes: Sequence[str], series: bool = False) -> None:
        """Confusion-matrix mode for these classes; else forecast mode for a series task, or
        sequence mode."""
        self.classes = list(classes)
        matrix_mode = bool(classes)
        self.series_mode = series and not matrix_mode
        for item in (self.sequence_curve, self.true_point, self.pred_point):
            item.setVisible(not matrix_mode and not self.series_mode)
        for item in (self.actual_curve, self.one_step_curve, self.future_curve):
            item.setVisible(self.series_mode)
            item.setData([], [])
        self.forecast_x.reset()
        self.image.setVisible(matrix_mode)
        for label in self.cell_labels:
            self.removeItem(label)
        self.cell_labels = []
        item = self.getPlotItem()
        item.invertY(matrix_mode)
        item.setAspectLocked(matrix_mode)
        if matrix_mode:
            k = len(classes)
            ticks = [[(i + 0.5, name) for i, name in enumerate(classes)]]
            item.getAxis("bottom").setTicks(ticks)
            item.getAxis("left").setTicks(ticks)
            self.setTitle("Confusion matrix (validation)", color="#333", size="10pt")
            self.setLabel("bottom", "predicted")
            self.setLabel("left", "true")
            self.image.setImage(np.zeros((k, k)), levels=(0, 1))
            for r in range(k):
                for c in range(k):
                    label = pg.TextItem("", anchor=(0.5, 0.5), color="w")
                    label.setPos(c + 0.5, r + 0.5)
                    self.addItem(label)
                    self.cell_labels.append(label)
            self.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        else:
            item.getAxis("bottom").setTicks(None)
            item.getAxis("left").setTicks(None)
            self._set_caption("")
            self.setLabel("bottom", "time" if self.series_mode else "step")
            self.setLabel("left", "value")
            if self.series_mode:
                self.setTitle("actual · one step ahead · forecast beyond the data", color="#333", size="10pt")
        self._pending = None

    def show_sequence(self, values: Sequence[float], predicted: float | None, true: float | None,
                      caption: str) -> None:  # fmt: skip
        """A sequence with its predicted (and, when known, true) next value."""
        self._pending = ("sequence", np.asarray(values, dtype=float), predicted, true, caption)

    def show_forecast(
        self, x: np.ndarray, actual: np.ndarray, one_step: np.ndarray, x_future: np.ndarray, future: np.ndarray
    ) -> None:
        """The validation part of a series, the model's one-step predictions of it, and a
        forecast beyond the end of the data (empty until a run has ended)."""
        self._pending = ("forecast", x, actual, one_step, x_future, future)

    def show_confusion(self, matrix: np.ndarray) -> None:
        """Counts of (true, predicted) class pairs."""
        self._pending = ("confusion", np.asarray(matrix))

    def refresh(self) -> bool:
        """Hand what was last shown to the items, once; True when anything changed."""
        if self._pending is None:
            return False
        kind, *rest = self._pending
        self._pending = None
        if kind == "forecast":
            x, actual, one_step, x_future, future = rest
            self.actual_curve.setData(x, actual)
            self.one_step_curve.setData(x, one_step)
            self.future_curve.setData(x_future, future)
            changed_x = self.forecast_x.include(np.concatenate([x, x_future]))
            if changed_x:
                self.setXRange(self.forecast_x.low, self.forecast_x.high, padding=0.02)
            if self.y_range.include(np.concatenate([actual, one_step, future])) or changed_x:
                self.setYRange(self.y_range.low, self.y_range.high, padding=0.05)
            return True
        if kind == "confusion":
            (matrix,) = rest
            self.image.setImage(matrix.astype(float), levels=(0, max(1, matrix.max())))
            for label, count in zip(self.cell_labels, matrix.ravel(), strict=True):
                label.setText(str(int(count)))
            return True
        values, predicted, true, caption = rest
        steps = np.arange(1, len(values) + 1)
        self.sequence_curve.setData(steps, values)
        nxt = len(values) + 1
        self.true_point.setData([nxt], [true]) if true is not None else self.true_point.clear()
        self.pred_point.setData([nxt], [predicted]) if predicted is not None else self.pred_point.clear()
        if caption != self.caption:
            self._set_caption(caption)
            self.setXRange(0.5, nxt + 0.5, padding=0.02)
        shown = [*values, *(v for v in (predicted, true) if v is not None)]
        if self.y_range.include(shown):
            self.setYRange(self.y_range.low, self.y_range.high, padding=0.08)  # room for the markers
        return True

    def _set_caption(self, caption: str) -> None:
        """Title the sequence view; a new caption is a new sequence, so the y range starts afresh."""
        self.caption = caption
        self.y_range.reset()
        title = "Sequence and next value" + (f": {caption}" if caption else "")
        self.setTitle(title, color="#333", size="10pt")
