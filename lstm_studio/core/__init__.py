"""The network in NumPy only: LSTM layers with BPTT, dense output, losses, Adam, clipping, and a look inside."""

from lstm_studio.core.inside import LayerGradients, LayerTrace
from lstm_studio.core.model import DTYPES, LSTMModel
from lstm_studio.core.optim import Adam, clip_by_global_norm, global_norm

__all__ = ["DTYPES", "Adam", "LSTMModel", "LayerGradients", "LayerTrace", "clip_by_global_norm", "global_norm"]
