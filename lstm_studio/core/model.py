"""The whole network: stacked LSTM layers, then a dense layer on the last time step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod

import numpy as np

from lstm_studio.core.activations import softmax
from lstm_studio.core.dense import Dense
from lstm_studio.core.inside import LayerGradients, LayerTrace, backprop_layers, step_norms, trace_layers
from lstm_studio.core.losses import LOSSES, cross_entropy, mse
from lstm_studio.core.lstm_layer import LSTMLayer

DTYPES = {"float32": np.float32, "float64": np.float64}

# Limits on a recorded model description (a weights file's meta), checked before anything is
# allocated. The window trains at most 8 layers of 1024 units (0.5 GB of float64 parameters);
# these admit that with room to spare and refuse descriptions that only a hostile file makes.
MAX_LAYERS = 16
MAX_UNITS = 8192  # input, hidden and output sizes alike
MAX_PARAMETER_BYTES = 1 << 30  # the model holds as much again in gradient buffers
CONFIG_KEYS = ("input_size", "hidden_sizes", "output_size", "loss", "dtype")


class LSTMModel:
    """Stacked LSTM + dense output with PyTorch-compatible state names (Contract 1).

    x: (batch, time, input_size) -> (batch, output_size) raw outputs (logits for
    cross-entropy). ``state_dict()`` copies into ``torch.nn.LSTM`` (batch_first) +
    ``torch.nn.Linear`` under the prefixes ``lstm.`` and ``dense.``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        loss: str = "mse",
        seed: int = 0,
        dtype: type | np.dtype | str = np.float64,
    ) -> None:
        hidden_sizes = [int(h) for h in hidden_sizes]
        self.dtype = np.dtype(dtype)
        description = {"input_size": input_size, "hidden_sizes": hidden_sizes, "output_size": output_size,
                       "loss": loss, "dtype": self.dtype.name}  # fmt: skip
        parameter_shapes(description)  # the one check of a description, before anything is allocated
        self.input_size = int(input_size)
        self.hidden_sizes = hidden_sizes
        self.output_size = int(output_size)
        self.loss = loss
        self.seed = seed
        rng = np.random.default_rng(seed)
        sizes_in = [self.input_size, *hidden_sizes[:-1]]
        self.layers = [LSTMLayer(n_in, h, rng, self.dtype) for n_in, h in zip(sizes_in, hidden_sizes, strict=True)]
        self.dense = Dense(hidden_sizes[-1], self.output_size, rng, self.dtype)

    @classmethod
    def from_config(cls, config: Mapping, seed: int = 0) -> LSTMModel:
        """The model a recorded ``config()`` describes, its weights drawn from ``seed``; ValueError
        if the description is not exact. The one way to build a model from recorded settings.

        Strict because the description may come from a stranger's file: sizes must be real
        integers (not ``"32"`` or ``32.0``, which the constructor would convert) within the limits
        above and the whole model must fit ``MAX_PARAMETER_BYTES``, all checked before anything
        is allocated.
        """
        parameter_shapes(config)
        return cls(
            input_size=config["input_size"],
            hidden_sizes=config["hidden_sizes"],
            output_size=config["output_size"],
            loss=config["loss"],
            seed=seed,
            dtype=config["dtype"],
        )

    def copy(self) -> LSTMModel:
        """An independent model with this one's architecture, seed and current weights (for
        reading one epoch's weights while training goes on with the original)."""
        twin = LSTMModel.from_config(self.config(), seed=self.seed)
        twin.load_state_dict(self.parameters())
        return twin

    # ----- description -------------------------------------------------------------------
    def config(self) -> dict:
        """The architecture as plain JSON-able values (enough to rebuild the model)."""
        return {
            "input_size": self.input_size,
            "hidden_sizes": list(self.hidden_sizes),
            "output_size": self.output_size,
            "loss": self.loss,
            "dtype": self.dtype.name,
        }

    def parameters(self) -> dict[str, np.ndarray]:
        """The live parameter arrays under their public names (updating them updates the model)."""
        named = {f"lstm.{name}_l{k}": p for k, layer in enumerate(self.layers) for name, p in layer.params.items()}
        named.update({f"dense.{name}": p for name, p in self.dense.params.items()})
        return named

    def gradients(self) -> dict[str, np.ndarray]:
        """The live gradient arrays of the last backward pass, keyed like ``parameters()``."""
        named = {f"lstm.{name}_l{k}": g for k, layer in enumerate(self.layers) for name, g in layer.grads.items()}
        named.update({f"dense.{name}": g for name, g in self.dense.grads.items()})
        return named

    def num_parameters(self) -> int:
        """How many scalar weights the model has."""
        return sum(p.size for p in self.parameters().values())

    # ----- computation -------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Raw outputs (regression values or logits) for x: (batch, time, input_size)."""
        x = self._check_input(x)
        seq = x.transpose(2, 1, 0)  # (in, T, B): feature-major inside, see lstm_layer
        for layer in self.layers:
            seq = layer.forward(seq)
        return self.dense.forward(seq[:, -1].T)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Regression values, or class probabilities (softmax) for cross-entropy."""
        y = self.forward(x)
        return softmax(y) if self.loss == "cross_entropy" else y

    def loss_and_gradients(self, x: np.ndarray, target: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Batch-mean loss and its unclipped gradients, keyed like ``state_dict()``.

        The returned arrays are the model's own gradient buffers, overwritten by the
        next call: copy them to keep them.
        """
        loss, dy = self.output_loss(self.forward(x), target)
        dh_last = self.dense.backward(dy)  # (B, H_top): only the last step feeds the output
        dseq = self.layers[-1].backward(dh_last=dh_last.T, input_grad=len(self.layers) > 1)
        for k in range(len(self.layers) - 2, -1, -1):
            dseq = self.layers[k].backward(dHs=dseq, input_grad=k > 0)
        return loss, self.gradients()

    def output_loss(self, y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        """The batch-mean loss of outputs y (B, output_size) against ``target`` (Contract 1's formats,
        checked here) and its gradient dL/dy."""
        if self.loss == "mse":
            return mse(y, np.asarray(target, dtype=self.dtype).reshape(y.shape))
        target = np.asarray(target)
        if target.shape != (y.shape[0],) or not np.issubdtype(target.dtype, np.integer):
            raise ValueError(f"cross-entropy targets must be {y.shape[0]} integer class indices")
        if target.min() < 0 or target.max() >= self.output_size:
            raise ValueError(f"class indices must lie in [0, {self.output_size})")
        return cross_entropy(y, target)

    # ----- inside (Contract 5) -----------------------------------------------------------
    # Read-only: these run lstm_studio.core.inside on their own arrays and only read the parameters,
    # so the gradients and the training path's buffers (LSTMLayer._buffers/_cache, Dense._h) stay
    # as the last training step left them, and the worker may call them between batches.
    def trace(self, x: np.ndarray) -> list[LayerTrace]:
        """Contract 5: every layer's gates, cell and hidden state at every step, bottom layer first.

        x: (batch, time, input_size). Each record's ``input_gate``, ``forget_gate``, ``candidate``,
        ``output_gate``, ``cell`` and ``hidden`` is (batch, time, H_k) in the model's dtype, with
        PyTorch's meaning; ``trace(x)[-1].hidden[:, -1]`` is what the dense layer reads.
        """
        return trace_layers(self._layer_params(), self._check_input(x))

    def gradients_through_time(self, x: np.ndarray, target: np.ndarray) -> list[LayerGradients]:
        """dL/dh_t (total) and dL/dZ_t of every layer and step, bottom first, L the batch-mean loss of
        ``loss_and_gradients``. Computed in float64 whatever the model's dtype, so that a gradient fading
        over a long sequence is measured, not lost to float32's range."""
        params = self._layer_params(np.float64)
        traces = trace_layers(params, self._check_input(x).astype(np.float64))
        weight, bias = (self.dense.params[name].astype(np.float64) for name in ("weight", "bias"))
        y = traces[-1].hidden[:, -1] @ weight.T + bias  # the dense layer on the top layer's last step
        _, dy = self.output_loss(y, target)
        return backprop_layers(params, traces, dh_last=dy @ weight)

    def gradient_flow(self, x: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
        """Contract 5: per layer, bottom first, a (time,) float64 array of ‖∂L/∂h_t‖ (Frobenius norm over
        batch and units): the total gradient reaching h_t through h_{t+1}, C_{t+1} and the layer above.
        Where it fades towards early steps, those steps barely learn (vanishing gradients)."""
        return [step_norms(g.hidden) for g in self.gradients_through_time(x, target)]

    def _layer_params(self, dtype: type | None = None) -> list[dict[str, np.ndarray]]:
        """Each LSTM layer's parameters (PyTorch layout): the live arrays, or copies in ``dtype``."""
        if dtype is None:
            return [layer.params for layer in self.layers]
        return [{name: p.astype(dtype) for name, p in layer.params.items()} for layer in self.layers]

    # ----- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter under PyTorch's names and layouts."""
        return {name: p.copy() for name, p in self.parameters().items()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy ``state`` into the model after checking every name and shape."""
        own = self.parameters()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected {', '.join(unexpected)}")
            raise ValueError("state does not fit this model: " + "; ".join(parts))
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"{name} has shape {value.shape}, this model needs {p.shape}")
        for name, p in own.items():
            p[...] = state[name]

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"x must have shape (batch, time, {self.input_size}) with batch, time >= 1; got {x.shape}")
        return x


def parameter_shapes(config: Mapping) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter a recorded ``config()`` describes, in ``parameters()`` order.

    Computed without allocating anything, after checking the description as strictly as
    ``LSTMModel.from_config`` does, so that a loader can check a file's arrays against it first.
    ValueError names the first thing wrong, with the limit it exceeds.
    """
    _check_config_keys(config)
    input_size = _size(config["input_size"], "input_size")
    hidden_sizes = _layer_sizes(config["hidden_sizes"])
    output_size = _size(config["output_size"], "output_size")
    _choice(config["loss"], "loss", LOSSES)
    itemsize = np.dtype(DTYPES[_choice(config["dtype"], "dtype", tuple(DTYPES))]).itemsize
    shapes: dict[str, tuple[int, ...]] = {}
    for k, (n_in, h) in enumerate(zip([input_size, *hidden_sizes[:-1]], hidden_sizes, strict=True)):
        shapes |= {
            f"lstm.weight_ih_l{k}": (4 * h, n_in),
            f"lstm.weight_hh_l{k}": (4 * h, h),
            f"lstm.bias_ih_l{k}": (4 * h,),
            f"lstm.bias_hh_l{k}": (4 * h,),
        }
    shapes |= {"dense.weight": (output_size, hidden_sizes[-1]), "dense.bias": (output_size,)}
    nbytes = itemsize * sum(prod(shape) for shape in shapes.values())
    if nbytes > MAX_PARAMETER_BYTES:
        raise ValueError(
            f"its parameters would take {nbytes:,} bytes, more than the limit of {MAX_PARAMETER_BYTES:,} "
            f"({MAX_PARAMETER_BYTES / 2**30:g} GiB)"
        )
    return shapes


def _check_config_keys(config: object) -> None:
    if not isinstance(config, Mapping):
        raise ValueError(f"it must be an object with {', '.join(CONFIG_KEYS)}, not {_shown(config)}")
    missing = [key for key in CONFIG_KEYS if key not in config]
    if missing:
        raise ValueError(f"{missing[0]} is missing")
    unknown = [key for key in config if key not in CONFIG_KEYS]
    if unknown:
        raise ValueError(f"unknown entry {str(unknown[0])[:40]!r}")


def _size(value: object, what: str) -> int:
    """A size recorded as a real integer (not a bool, a string or a float) within 1..MAX_UNITS."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{what} must be an integer, not {_shown(value)}")
    if not 1 <= value <= MAX_UNITS:
        raise ValueError(f"{what} must be between 1 and {MAX_UNITS}, not {_shown(value)}")
    return int(value)


def _layer_sizes(value: object) -> list[int]:
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_LAYERS:
        raise ValueError(f"hidden_sizes must be a list of 1 to {MAX_LAYERS} layer sizes, not {_shown(value)}")
    return [_size(h, f"hidden_sizes[{k}]") for k, h in enumerate(value)]


def _choice(value: object, what: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, not {_shown(value)}")
    return value


def _shown(value: object) -> str:
    """A recorded value as a short phrase for a message (JSON spelling, at most 40 characters)."""
    if isinstance(value, bool):
        kind = f"the boolean {str(value).lower()}"
    elif isinstance(value, str):
        kind = f"the string {value!r}"
    elif isinstance(value, Mapping):
        kind = "an object"
    elif isinstance(value, list | tuple):
        kind = f"a list of {len(value)}"
    elif value is None:
        kind = "null"
    elif isinstance(value, int) and value.bit_length() > 64:
        kind = f"an integer of {value.bit_length()} bits"
    else:
        kind = repr(value)
    return kind if len(kind) <= 40 else kind[:37] + "..."
