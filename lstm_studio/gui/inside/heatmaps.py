"""Heatmaps over time × units of every layer's gates, cell and hidden state, the input above them.

One column per LSTM layer; in each, the input sequence, then i, f, g, o, c and h, all on one time
axis. Gates share a fixed 0–1 colour scale; c and h share a scale symmetric around 0.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QPaintEvent

from lstm_studio.training.snapshots import Trace, unit_order

# (attribute of LayerTrace, row title, what a newcomer should know about it)
ROWS = (
    ("input_gate", "i  input gate", "how much of the candidate enters the cell (0 closed, 1 open)"),
    ("forget_gate", "f  forget gate", "near 1: the cell keeps its memory; near 0: it forgets"),
    ("candidate", "g  candidate", "what could be written into the cell this step (−1 to 1)"),
    ("output_gate", "o  output gate", "how much of the cell the layer shows as its hidden state"),
    ("cell", "c  cell state", "the layer's memory, carried from step to step"),
    ("hidden", "h  hidden state", "what the next layer (or the output) reads"),
)
GATE_ROWS = 4  # the first four rows are gates, on a fixed 0–1 scale
AXIS_WIDTH = 48  # pixels, the same in every row so the time axes line up
GATE_MAP, STATE_MAP = pg.colormap.get("viridis"), pg.colormap.get("CET-D1")


class Heatmaps(pg.GraphicsLayoutWidget):
    """The activations of one window, drawn by ``draw_trace``; ``describe_at`` reads a point back."""

    painted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.setObjectName("insideHeatmaps")
        self.trace: Trace | None = None
        self.orders: list[np.ndarray] = []  # per layer, the unit shown in each row
        self.columns: list[tuple[pg.PlotItem, pg.PlotDataItem, list[tuple[pg.PlotItem, pg.ImageItem]]]] = []
        self.gate_bar = pg.ColorBarItem(values=(0, 1), colorMap=GATE_MAP, interactive=False, label="gates")
        self.state_bar = pg.ColorBarItem(values=(-1, 1), colorMap=STATE_MAP, interactive=False, label="c, h")
        self._layout(1)  # built now, at start-up, not in the middle of the first run (the usual model has one layer)

    def _layout(self, layers: int) -> None:
        """One column per layer (a new model may have another number of layers)."""
        self.clear()
        self.ci.layout.setVerticalSpacing(2)
        self.columns = [self._column(k) for k in range(layers)]
        self.gate_bar.setImageItem([img for _, _, rows in self.columns for _, img in rows[:GATE_ROWS]])
        self.state_bar.setImageItem([img for _, _, rows in self.columns for _, img in rows[GATE_ROWS:]])
        self.addItem(self.gate_bar, row=1, col=layers, rowspan=GATE_ROWS)
        self.addItem(self.state_bar, row=1 + GATE_ROWS, col=layers, rowspan=len(ROWS) - GATE_ROWS)

    def _column(self, k: int) -> tuple[pg.PlotItem, pg.PlotDataItem, list[tuple[pg.PlotItem, pg.ImageItem]]]:
        top = self.addPlot(row=0, col=k, title=f"LSTM layer {k + 1}: the input sequence, then its units")
        top.setMaximumHeight(90)
        top.hideAxis("bottom")
        top.getAxis("left").setWidth(AXIS_WIDTH)
        top.hideButtons()
        curve = top.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=4, symbolBrush="#1f77b4")
        rows = []
        for r, (_, title, tip) in enumerate(ROWS):
            plot = self.addPlot(row=r + 1, col=k)
            axis = plot.getAxis("left")
            axis.setWidth(AXIS_WIDTH)
            axis.setStyle(showValues=False)
            axis.setLabel(title.split()[0])
            axis.setToolTip(f"{title}: {tip}")
            if r < len(ROWS) - 1:
                plot.hideAxis("bottom")
            plot.setXLink(top)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            image = pg.ImageItem(axisOrder="row-major")
            image.setToolTip(f"{title}: {tip}")
            plot.addItem(image)
            rows.append((plot, image))
        rows[-1][0].setLabel("bottom", "step")
        return top, curve, rows

    def draw_trace(self, trace: Trace, ordered: bool) -> None:
        """Draw ``trace``; units ordered by activity when ``ordered``."""
        if len(self.columns) != len(trace.layers):
            self._layout(len(trace.layers))
        self.trace = trace
        T = len(trace.raw)
        shift = T - trace.layers[0].hidden.shape[1]  # a model reading differences starts one step later
        self.orders = [unit_order(layer) if ordered else np.arange(layer.hidden.shape[2]) for layer in trace.layers]
        span = max(float(np.max(np.abs(getattr(layer, name)))) for layer in trace.layers for name in ("cell", "hidden"))
        for (top, curve, rows), layer, order in zip(self.columns, trace.layers, self.orders, strict=True):
            curve.setData(np.arange(1, T + 1), trace.raw)
            top.setXRange(0.5, T + 0.5, padding=0)
            H = layer.hidden.shape[2]
            for (plot, image), (name, _, _) in zip(rows, ROWS, strict=True):
                image.setImage(getattr(layer, name)[0][:, order].T.astype(float), autoLevels=False)
                image.setRect(QRectF(shift + 0.5, -0.5, layer.hidden.shape[1], H))
                plot.setYRange(-0.5, H - 0.5, padding=0)
        self.gate_bar.setLevels((0.0, 1.0))
        self.state_bar.setLevels((-max(span, 1e-6), max(span, 1e-6)))

    def blank(self) -> None:
        """Nothing to show (no model): empty rows, no readout."""
        self.trace = None
        for _, curve, rows in self.columns:
            curve.setData([], [])
            for _, image in rows:
                image.clear()

    def describe_at(self, pos: QPointF) -> str:
        """'layer 1 · f forget gate · step 7 · unit 12 · 0.93' for the point under the mouse, or ''."""
        if self.trace is None:
            return ""
        for k, (_, _, rows) in enumerate(self.columns):
            for (plot, _), (name, title, _) in zip(rows, ROWS, strict=True):
                if plot.vb.sceneBoundingRect().contains(pos):
                    return self._describe(k, name, title, plot.vb.mapSceneToView(pos))
        return ""

    def _describe(self, k: int, name: str, title: str, point: QPointF) -> str:
        values = getattr(self.trace.layers[k], name)[0]  # (T', H)
        shift = len(self.trace.raw) - values.shape[0]
        t, row = round(point.x()) - shift - 1, round(point.y())
        if not (0 <= t < values.shape[0] and 0 <= row < values.shape[1]):
            return ""
        unit = int(self.orders[k][row])
        return f"layer {k + 1} · {title} · step {t + shift + 1} · unit {unit + 1} · {values[t, unit]:.3g}"

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Paint, then tell (a run in a thread waits while a frame is painted)."""
        super().paintEvent(event)
        self.painted.emit()
