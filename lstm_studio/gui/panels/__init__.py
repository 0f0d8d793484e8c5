"""The live panels of the Training view. A new panel is one file here and one line in ``PANELS``."""

from lstm_studio.gui.panels.accuracy import AccuracyPanel
from lstm_studio.gui.panels.area import PanelArea
from lstm_studio.gui.panels.base import Panel
from lstm_studio.gui.panels.confusion import ConfusionPanel
from lstm_studio.gui.panels.forecast import ForecastPanel
from lstm_studio.gui.panels.gradient import GradientPanel
from lstm_studio.gui.panels.loss import LossPanel
from lstm_studio.gui.panels.scatter import ScatterPanel
from lstm_studio.gui.panels.sequence import SequencePanel

# In grid order; the area shows those that suit the task (four for every kind of task).
PANELS = (LossPanel, GradientPanel, ScatterPanel, AccuracyPanel, SequencePanel, ForecastPanel, ConfusionPanel)

__all__ = ["PANELS", "Panel", "PanelArea"]
