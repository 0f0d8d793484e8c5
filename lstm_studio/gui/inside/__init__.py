"""The Inside view: gates, cell and hidden states, gradient flow through time, epoch replay."""

from lstm_studio.gui.inside.view import InsideView

__all__ = ["InsideView"]
