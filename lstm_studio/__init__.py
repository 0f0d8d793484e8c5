"""LSTM Studio: train a from-scratch NumPy LSTM and watch it learn."""

__version__ = "0.1.0"
