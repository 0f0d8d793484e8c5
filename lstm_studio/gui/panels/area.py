"""The panel area: the list of panels, which of them suit the task, and the pace of redrawing.

Slots only tell panels what is new; a timer asks one due panel at a time to refresh and tells the
runner when a frame is painted (``gate``): a run training in a thread of the window's process waits
meanwhile, since both threads share one interpreter lock and taking turns is faster for both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QWidget

from lstm_studio.gui.panels.base import Panel
from lstm_studio.training.session import Session, Update
from lstm_studio.training.tasks import Task

TICK_MS = 50  # the redraw timer's tick: each paints at most one panel, so no frame stalls the window long
COLUMNS = 2


class FrameGate(Protocol):
    """What holds the worker while a frame is painted (the training runner)."""

    def begin_frame(self) -> None:
        """A frame is about to be painted: hold the worker."""

    def end_frame(self) -> None:
        """The frame is painted: let the worker go on."""


class PanelArea(QWidget):
    """Shows the panels that suit the task in a grid and repaints each at its own pace."""

    def __init__(self, panels: Sequence[Callable[[], Panel]], gate: FrameGate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanels")
        self.panels = [make() for make in panels]
        self.gate = gate
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.timer = QTimer(self, interval=TICK_MS)
        self.timer.timeout.connect(self.redraw)  # the timer passes no argument: not forced
        self._last_redraw: dict[Panel, float] = {}
        self._awaiting_paint: set[Panel] = set()
        self.shown: list[Panel] = []
        self.views: list[Panel] = []  # views in other tabs, paced with the panels while they are on screen
        for panel in self.panels:
            panel.painted.connect(self._on_painted)
            panel.hide()

    def add_view(self, view: Panel) -> None:
        """Pace ``view`` (any object with the panel protocol, e.g. another tab) with the panels."""
        self.views.append(view)
        view.painted.connect(self._on_painted)

    def __getitem__(self, name: str) -> Panel:
        """The panel with this object name."""
        return next(p for p in self.panels if p.objectName() == name)

    # ----- what the window tells ---------------------------------------------------------------------
    def show_for(self, task: Task) -> None:
        """Lay out the panels that suit ``task``, in list order."""
        shown = [p for p in self.panels if p.suits(task)]
        if shown == self.shown:
            return
        for panel in self.shown:
            self.grid.removeWidget(panel)
            panel.hide()
        for i, panel in enumerate(shown):
            self.grid.addWidget(panel, i // COLUMNS, i % COLUMNS)
            panel.show()
        self.shown = shown
        self.redraw(force=True)  # panels now shown draw what they were told while hidden

    def reset(self, session: Session) -> None:
        """Every panel renders the session from scratch, painted now (the worker holds meanwhile)."""
        for panel in [*self.panels, *self.views]:
            panel.reset(session)
        self.redraw(force=True)

    def touch(self, session: Session) -> None:
        """What the session shows changed (a replayed epoch): every panel draws again, now."""
        self.feed(session, None)
        self.redraw(force=True)

    def feed(self, session: Session, update: Update | None) -> None:
        """A run recorded ``update`` in the session (None: something else changed)."""
        for panel in [*self.panels, *self.views]:
            panel.feed(session, update)

    def show_tried(self, values: list[float], predicted: float) -> None:
        """Show a sequence typed into Try it and the model's answer, now."""
        self["sequencePlot"].show_tried(values, predicted)
        self.redraw(force=True)

    def start(self) -> None:
        """Repaint from the timer while a run is under way, each panel's start staggered."""
        now = time.monotonic()
        for i, panel in enumerate(self.shown):  # spread the per-epoch panels over different frames
            self._last_redraw[panel] = now - panel.period * (1 - i / len(self.shown))
        self.timer.start()

    def stop(self) -> None:
        """The run is over: no more timed repaints."""
        self.timer.stop()

    # ----- pacing ----------------------------------------------------------------------------------
    def redraw(self, force: bool = False) -> None:
        """Refresh what is due and paint it while the worker holds still: forced, every panel at once; from the
        timer, the longest-waiting due panel with something new, alone, so that no frame stalls the window long."""
        now = time.monotonic()
        self._awaiting_paint.clear()
        self.gate.end_frame()  # a frame that was never painted (hidden window) holds nothing up
        on_screen = [panel for panel in [*self.shown, *self.views] if panel.isVisible()]  # others wait, dirty
        if not force:  # the longest-waiting due panel that has something new, alone in its frame
            on_screen.sort(key=lambda panel: self._last_redraw.get(panel, 0.0) + panel.period)
        for panel in on_screen:
            due = force or now - self._last_redraw.get(panel, 0.0) >= panel.period
            if due and panel.refresh():
                self._last_redraw[panel] = now
                self._awaiting_paint.add(panel)
                if not force:
                    break
        handle = self.window().windowHandle()
        if self._awaiting_paint and handle is not None and handle.isExposed() and not self.window().isMinimized():
            self.gate.begin_frame()  # only when a paint will come to end the frame

    def _on_painted(self) -> None:
        self._awaiting_paint.discard(self.sender())
        if not self._awaiting_paint:
            self.gate.end_frame()
