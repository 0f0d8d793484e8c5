"""The network in NumPy only: LSTM layers with BPTT, dense output, losses, Adam, clipping."""

from lstm_studio.core.model import DTYPES, LSTMModel
from lstm_studio.core.optim import Adam, clip_by_global_norm, global_norm

__all__ = ["DTYPES", "Adam", "LSTMModel", "clip_by_global_norm", "global_norm"]
