"""The Runs view: every run kept, compared, and swept."""

from lstm_studio.gui.runs.view import RunsView

__all__ = ["RunsView"]
