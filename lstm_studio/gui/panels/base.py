"""What every panel is: a plot that renders part of the session, behind one small protocol.

- ``suits(task)``: whether the panel belongs on screen for a task (the area shows those that do);
- ``reset(session)``: start again from the session as it is (a new model, a Load, a run's start
  or end); the panel keeps the session to read from;
- ``feed(session, update)``: a run recorded more in the session (slots only note it);
- ``refresh() -> bool``: hand what changed to the plot items, from the panel area's timer;
  True when anything did, and ``painted`` follows once the plot is on screen.

``period`` says how often a panel is worth repainting while training: the loss moves with every
batch, most panels once per epoch. Painting is what costs the GUI thread most (and, where a run trains
in a thread of the window's process, the training too), so the area repaints each panel at its own pace.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QGraphicsItem

from lstm_studio.gui.ranges import ExpandingRange
from lstm_studio.training.session import Session, Update
from lstm_studio.training.tasks import Task

TRAIN_COLOR, VAL_COLOR, BATCH_COLOR = "#1f77b4", "#ff7f0e", (120, 120, 120, 90)
LAYER_COLORS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
TITLE_STYLE = {"color": "#333", "size": "10pt"}
LEGEND_BRUSH = (255, 255, 255, 200)  # legends stay readable where they lie over a curve
LEFT_AXIS_WIDTH = 64  # pixels: room for tick labels such as 1e-07 or -1500 beside the axis title
EPOCH_PERIOD = 0.5  # seconds between repaints of a panel that changes once per epoch
TYPICAL_LOG_SPAN = (1e-3, 10.0)  # where losses and gradient norms start out: log axes begin there


class Panel(pg.PlotWidget):
    """A live plot of the session; subclasses set ``name``, ``title`` and draw in ``refresh``."""

    painted = Signal()
    name = ""  # the object name (Contract 4 names some)
    title = ""
    period = EPOCH_PERIOD

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.dirty = False
        self._model: object = None  # the model last rendered: another one starts the ranges afresh
        self.setObjectName(self.name)
        self.setBackground("w")
        self.set_title(self.title)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setMinimumSize(260, 200)
        steady_axes(self)

    # ----- the protocol --------------------------------------------------------------------------
    def suits(self, task: Task) -> bool:
        """Whether this panel belongs on screen for ``task``."""
        return True

    def reset(self, session: Session) -> None:
        """Render ``session`` from scratch at the next refresh."""
        if session.model is not self._model:
            self._model = session.model
            self.new_model(session)
        self.session = session
        self.dirty = True

    def new_model(self, session: Session) -> None:
        """The session holds another model (or none): forget what belonged to the last one."""

    def feed(self, session: Session, update: Update) -> None:
        """The session recorded ``update``: redraw at the next refresh."""
        self.dirty = True

    def refresh(self) -> bool:
        """Hand new data to the plot items; True when anything changed."""
        if not self.dirty or self.session is None:
            return False
        self.dirty = False
        self.draw(self.session)
        return True

    def draw(self, session: Session) -> None:
        """Put the session's data into the plot items (subclasses)."""

    # ----- helpers -------------------------------------------------------------------------------
    def set_title(self, text: str) -> None:
        """The panel's title in the common style."""
        self.setTitle(text, **TITLE_STYLE)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Paint, then tell (the area lets training go on once every due panel has painted)."""
        super().paintEvent(event)
        self.painted.emit()


def steady_axes(plot: pg.PlotWidget) -> None:
    """Axes that cost a frame only when they change: no re-fitting (ranges follow ``ExpandingRange``;
    re-fitting every frame is the costliest part of painting), a fixed left width (new tick labels never
    re-lay out the plot), and axes and title cached as pictures."""
    plot.disableAutoRange()
    item = plot.getPlotItem()
    item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
    for part in (item.getAxis("left"), item.getAxis("bottom"), item.titleLabel):
        part.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class EpochAxes:
    """x from 0 to the run's last epoch, y growing in round steps (decades on a log axis)."""

    def __init__(self, plot: pg.PlotWidget, log: bool) -> None:
        self.plot = plot
        self.y = ExpandingRange(log=log)
        self.end = 0.0

    def reset(self, typical: tuple[float, float] | None = None) -> None:
        """Forget the y extent (a new model), starting from a ``typical`` span if given: early
        epochs then stay inside it instead of re-drawing the axis every few frames."""
        self.y.reset()
        if typical is not None:
            self.include(list(typical))

    def set_end(self, end: float) -> None:
        """Show epochs 0 to ``end`` (only when it changed: setting a range re-lays out the axis)."""
        end = max(end, 1.0)
        if end != self.end:
            self.end = end
            self.plot.setXRange(0, end, padding=0.02)

    def include(self, values: np.ndarray | list[float]) -> None:
        """Make room for ``values`` on the y axis."""
        if self.y.include(values):
            self.plot.setYRange(self.y.low, self.y.high, padding=0.02)


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
        self.show_at(event[0])

    def show_at(self, pos: QPointF) -> None:
        """Read out the point at scene position ``pos`` (hidden outside the plot)."""
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


def nearest(x: np.ndarray, value: float) -> int | None:
    """Index of the entry of ``x`` closest to ``value`` (None when empty)."""
    return int(np.argmin(np.abs(x - value))) if len(x) else None
