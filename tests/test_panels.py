"""The panels against their protocol alone: a session, a panel area, a gate; no main window."""

import numpy as np
import pyqtgraph as pg
import pytest

from lstm_studio.gui.panels import PANELS, Panel, PanelArea
from lstm_studio.training import Experiment, get_task
from lstm_studio.training.session import Session
from lstm_studio.training.tasks import Task

from .test_session import quick, run


class Gate:
    """Stands in for the training runner: counts how often a frame holds the worker."""

    def __init__(self) -> None:
        self.begun = self.ended = 0

    def begin_frame(self) -> None:
        self.begun += 1

    def end_frame(self) -> None:
        self.ended += 1


class SecondsPanel(Panel):
    """A new panel, as a contributor would write it: seconds per epoch, for classification only."""

    name = "secondsPlot"
    title = "Seconds"

    def __init__(self) -> None:
        super().__init__()
        self.curve = self.plot()

    def suits(self, task: Task) -> bool:
        return task.is_classification

    def draw(self, session: Session) -> None:
        self.curve.setData(session.history.seconds.x, session.history.seconds.y)


@pytest.fixture
def area(qtbot):
    area = PanelArea([*PANELS, SecondsPanel], Gate())
    qtbot.addWidget(area)
    area.show()
    return area


def test_a_new_panel_is_one_class_and_one_entry_in_the_list(qtbot, area):
    session = Session()
    run(session, quick("pattern"))
    area.show_for(session.task)
    area.reset(session)
    panel = area["secondsPlot"]
    assert panel in area.shown and panel.isVisible()
    x, y = panel.curve.getData()
    assert list(x) == [1, 2] and np.all(y > 0)
    area.show_for(get_task("sine"))
    assert panel not in area.shown and not panel.isVisible()


def test_the_area_shows_four_panels_that_suit_each_kind_of_task(area):
    names = {}
    for task in ("next-number", "sunspots", "pattern"):
        area.show_for(get_task(task))
        names[task] = [p.objectName() for p in area.shown]
    assert names["next-number"] == ["lossPlot", "gradientPlot", "predictionPlot", "sequencePlot"]
    assert names["sunspots"] == ["lossPlot", "gradientPlot", "predictionPlot", "forecastPlot"]
    assert names["pattern"] == ["lossPlot", "gradientPlot", "accuracyPlot", "confusionPlot", "secondsPlot"]


def test_feeding_marks_panels_and_refresh_draws_each_once(area):
    session = Session()
    run(session, quick())
    area.show_for(session.task)
    area.reset(session)
    loss = area["lossPlot"]
    assert not loss.refresh()  # nothing new since the forced redraw
    loss.feed(session, None)
    assert loss.refresh() and not loss.refresh()
    assert len(loss.train_curve.getData()[0]) == 2


def test_a_timed_redraw_repaints_only_what_is_due(area):
    session = Session()
    run(session, quick())
    area.show_for(session.task)
    area.reset(session)
    area.start()
    for panel in area.panels:
        panel.feed(session, None)
    area.redraw()
    drawn = {p.objectName() for p in area.shown if not p.dirty}
    assert drawn == {"lossPlot"}  # one panel a frame, the longest-waiting first: no frame stalls the window long
    for panel in area.shown:  # every panel overdue: still one a frame, the longest-waiting first
        area._last_redraw[panel] = -100.0 + area.shown.index(panel)
        panel.feed(session, None)
    area.redraw()
    assert [p.objectName() for p in area.shown if not p.dirty] == [area.shown[0].objectName()]
    area.stop()


def test_every_panel_renders_an_empty_session_and_a_trained_one(qtbot):
    for task in ("next-number", "sunspots", "pattern"):
        session = Session()
        panels = [make() for make in PANELS]
        for panel in panels:
            qtbot.addWidget(panel)
            panel.reset(session)
            assert panel.refresh()  # nothing to show is drawn as nothing, without an error
        experiment = Experiment.for_task(task).with_changes(epochs=1)
        if not experiment.task_spec.series:
            experiment = experiment.with_changes(n_samples=120)
        run(session, experiment)
        for panel in panels:
            panel.reset(session)
            assert panel.refresh()
            assert isinstance(panel, pg.PlotWidget) and panel.objectName() == panel.name


def test_the_forecast_panel_shows_the_forecast_once_the_run_is_over(qtbot):
    from lstm_studio.gui.panels.forecast import ForecastPanel

    panel = ForecastPanel()
    qtbot.addWidget(panel)
    session = Session()
    run(session, Experiment.for_task("sunspots").with_changes(epochs=1))
    panel.reset(session)
    panel.refresh()
    x, values = panel.future_curve.getData()
    assert x[0] == 2008 and len(values) == 21
    np.testing.assert_array_equal(values, session.outcome.forecast[1])
