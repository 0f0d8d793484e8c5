"""Predict with an LSTM Studio weights file, with nothing but NumPy.

    python predict.py weights.npz V1 V2 ... [--input NAME=V1,V2,...] [--json]

prints what ``lstm-studio predict`` prints with the same arguments: the next value(s)
in raw units, or the class and its probabilities. ``lstm-studio export W --numpy predict.py``
writes this file; the weights stay in their own ``.npz``, so one script serves every model. A model
that reads other columns beside the series gets their values with one ``--input`` per column.

The network is the seed's (lstm-from-scratch). Each LSTM layer reads its inputs x_1 … x_T one
step at a time, starting from h_0 = c_0 = 0:

    i_t = σ(W_i·x_t + U_i·h_{t-1} + b_i)       input gate
    f_t = σ(W_f·x_t + U_f·h_{t-1} + b_f)       forget gate
    g_t = tanh(W_g·x_t + U_g·h_{t-1} + b_g)    candidate values (the seed's c̃_t)
    o_t = σ(W_o·x_t + U_o·h_{t-1} + b_o)       output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t            cell state
    h_t = o_t ⊙ tanh(c_t)                      hidden state

The file keeps PyTorch's names and gate order i, f, g, o: layer k's four W stacked as the rows
of ``lstm.weight_ih_l{k}`` (4H, inputs), the four U as ``lstm.weight_hh_l{k}`` (4H, H), and b in
two halves, ``lstm.bias_ih_l{k}`` + ``lstm.bias_hh_l{k}``. The layer above reads h_1 … h_T of
the layer below, and a dense layer turns the top layer's last h_T into the outputs,
y = W·h_T + b (``dense.weight``, ``dense.bias``): numbers, or one score per class (softmax).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import zipfile
from typing import NoReturn

import numpy as np

EXIT_FAILURE, EXIT_USAGE = 1, 2
FORMAT = {"name": "lstm-studio-weights", "version": 1}  # meta["format"] of the files this script reads
# argparse takes "-1e-3" for an option: its own pattern knows only -1 and -1.5
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class PredictError(Exception):
    """Ends the script with one line on stderr: exit 2 for bad arguments, 1 for anything else."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


# ----- the network ----------------------------------------------------------------------------
def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^{-z}), computed as 0.5·tanh(z/2) + 0.5, which never overflows."""
    return 0.5 * np.tanh(0.5 * z) + 0.5


def lstm_layer(xs: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One LSTM layer over a sequence: xs (T, inputs) -> every hidden state h_1 … h_T, (T, H)."""
    H = U.shape[1]
    h = np.zeros(H, dtype=W.dtype)  # h_0
    c = np.zeros(H, dtype=W.dtype)  # c_0
    hs = []
    for x in xs:
        z = W @ x + U @ h + b  # (4H,): the four gates before their activation, in the order i, f, g, o
        z_i, z_f, z_g, z_o = np.split(z, 4)
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.array(hs)


def network(weights: dict[str, np.ndarray], layers: int, xs: np.ndarray) -> np.ndarray:
    """The model's outputs for one sequence xs (T, inputs): numbers, or one score per class."""
    for k in range(layers):
        W, U = weights[f"lstm.weight_ih_l{k}"], weights[f"lstm.weight_hh_l{k}"]
        b = weights[f"lstm.bias_ih_l{k}"] + weights[f"lstm.bias_hh_l{k}"]
        xs = lstm_layer(xs, W, U, b)  # the next layer reads this one's hidden states
    return weights["dense.weight"] @ xs[-1] + weights["dense.bias"]  # y = W·h_T + b


def softmax(scores: np.ndarray) -> np.ndarray:
    """Class probabilities from scores, e^{s_k} / Σ_j e^{s_j}, shifted by the largest score so no e^s overflows."""
    shifted = scores - scores.max()
    return np.exp(shifted - np.log(np.exp(shifted).sum()))


# ----- raw values in, raw values out ----------------------------------------------------------
def encode(window: np.ndarray, norm: dict) -> np.ndarray:
    """The raw window as the network reads it: (x - ref) / scale, where ref is the recorded offset,
    or the window's last value (``relative_to_last``); or, with ``difference``, the changes between
    neighbouring values, (x_{t+1} - x_t - offset) / scale."""
    if norm["difference"]:
        return (np.diff(window) - norm["offset"]) / norm["scale"]
    ref = window[-1] if norm["relative_to_last"] else norm["offset"]
    return (window - ref) / norm["scale"]


def decode(y: np.ndarray, window: np.ndarray, norm: dict) -> np.ndarray:
    """The network's outputs in raw units: ref + y·scale, or, with ``difference``, the last value
    plus the predicted changes (offset + y·scale) added up step by step."""
    if norm["difference"]:
        return window[-1] + np.cumsum(y * norm["scale"] + norm["offset"])
    ref = window[-1] if norm["relative_to_last"] else norm["offset"]
    return y * norm["scale"] + ref


def other_columns(inputs: dict[str, list[float]], norm: dict, seq_len: int, steps: int) -> np.ndarray:
    """The other columns a model reads, (steps, k), each (c - offset) / scale over its last ``steps`` values."""
    known = [scale["column"] for scale in norm["inputs"]]
    unknown = [name for name in inputs if name not in known]
    if unknown:
        reads = ", ".join(known) or "no other column"
        raise PredictError(f"the model reads no column {unknown[0]!r} (it reads {reads})", EXIT_USAGE)
    columns = []
    for scale in norm["inputs"]:
        name = scale["column"]
        if len(inputs.get(name, [])) < seq_len:
            raise PredictError(f"the model also reads column {name!r}: give its last {seq_len} values with "
                               f"--input {name}=V1,V2,...", EXIT_USAGE)  # fmt: skip
        column = np.array(inputs[name][-seq_len:], dtype=np.float64)[seq_len - steps :]
        columns.append((column - scale["offset"]) / scale["scale"])
    return np.stack(columns, axis=1) if columns else np.empty((steps, 0))


def predict(weights: dict[str, np.ndarray], meta: dict, values: list[float], inputs: dict | None = None) -> dict:
    """``predict --json``'s object for the raw values: the last ``seq_len`` of them are read (and of each
    other column the model reads, given in ``inputs`` as {column: values}, as many)."""
    seq_len, norm = meta["seq_len"], meta["normalization"]
    if len(values) < seq_len:
        raise PredictError(f"the model reads {seq_len} values: give {seq_len}, not {len(values)}", EXIT_USAGE)
    window = np.array(values[-seq_len:], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        own = encode(window, norm)
        xs = np.concatenate([own[:, None], other_columns(inputs or {}, norm, seq_len, len(own))], axis=1)
        if not np.all(np.isfinite(xs)):
            raise PredictError("the values are too large for this model's normalisation")
        dtype = weights["dense.bias"].dtype  # the model computes in its own precision
        y = network(weights, len(meta["model"]["hidden_sizes"]), xs.astype(dtype))  # (steps, inputs)
        if not np.all(np.isfinite(y)):
            raise PredictError("the model's answer is not a finite number (its weights overflow on these values)")
        if meta["kind"] == "classification":
            p = softmax(y)
            probabilities = {label: float(p[k]) for k, label in enumerate(meta["classes"])}
            return {"prediction": meta["classes"][int(np.argmax(p))], "probabilities": probabilities}
        raw = decode(y.astype(np.float64), window, norm)
    if not np.all(np.isfinite(raw)):
        raise PredictError("the model's answer is not a finite number in raw units (it overflows when scaled back)")
    return {"prediction": [float(v) for v in raw]}


# ----- the weights file -----------------------------------------------------------------------
def load(path: str) -> tuple[dict[str, np.ndarray], dict]:
    """Every array of a weights file by name, and its JSON record ``meta``. Never unpickles anything."""
    if os.path.exists(path) and not os.path.isfile(path):  # a folder, or a FIFO that would never end
        raise PredictError(f"cannot read {path}: it is not a regular file")
    try:
        with open(path, "rb") as f:
            if not zipfile.is_zipfile(f):  # an .npz is a zip archive of .npy files
                raise ValueError("not a zip archive")
        with np.load(path, allow_pickle=False) as archive:
            weights = {name: archive[name] for name in archive.files}
    except OSError as exc:
        raise PredictError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile):
        raise PredictError(f"{path}: not a weights file (truncated or not an .npz archive)") from None
    try:
        meta = json.loads(str(weights.pop("meta", "null")))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"its meta record is not {FORMAT['name']} version {FORMAT['version']}")
        missing = [key for key in ("model", "seq_len", "kind", "normalization") if key not in meta]
        missing += [name for name in expected_arrays(len(meta["model"]["hidden_sizes"])) if name not in weights]
        if missing:
            raise ValueError(f"it records no {missing[0]}")
        if meta["kind"] == "classification" and len(meta["classes"]) != len(weights["dense.bias"]):
            raise ValueError("its classes do not fit its outputs")
    except (ValueError, KeyError, TypeError) as exc:
        raise PredictError(f"{path}: not an LSTM Studio weights file ({exc})") from None
    meta["normalization"].setdefault("difference", False)  # files older than differencing lack it
    meta["normalization"].setdefault("inputs", [])  # other columns read beside the series: none in older files
    return weights, meta


def expected_arrays(layers: int) -> list[str]:
    """The names of the arrays a model with ``layers`` LSTM layers needs."""
    per_layer = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [f"lstm.{name}_l{k}" for k in range(layers) for name in per_layer] + ["dense.weight", "dense.bias"]


# ----- the command line -----------------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (exit 2) instead of usage text plus a line."""

    def error(self, message: str) -> NoReturn:
        """Called by argparse for a bad command line."""
        raise PredictError(f"{message} (see {self.prog} --help)", EXIT_USAGE)


def number(text: str) -> float:
    """A value from the command line: any finite number, also -1e-3."""
    try:
        value = float(text)
    except ValueError:
        raise PredictError(f"not a number: {text!r}: predict takes numbers, e.g. 0 1 2 3", EXIT_USAGE) from None
    if not math.isfinite(value):
        raise PredictError(f"not a finite number: {text!r}: predict takes numbers, e.g. 0 1 2 3", EXIT_USAGE)
    return value


def named_values(text: str) -> tuple[str, list[float]]:
    """'temp=1,2.5' -> ('temp', [1.0, 2.5])."""
    name, equals, values = text.partition("=")
    if not equals or not name.strip():
        raise PredictError(f"give a column's values as NAME=V1,V2,..., not {text!r}", EXIT_USAGE)
    return name.strip(), [number(v) for v in values.split(",") if v.strip()]


def show(answer: dict) -> str:
    """The answer as ``lstm-studio predict`` prints it without --json."""
    if "probabilities" not in answer:
        return ", ".join(f"{v:.4f}" for v in answer["prediction"])
    ranked = sorted(answer["probabilities"].items(), key=lambda item: -item[1])
    return "\n".join([answer["prediction"], *(f"  {label:<12}{p:7.1%}" for label, p in ranked)])


def main(argv: list[str] | None = None) -> int:
    """Run ``predict.py weights.npz V1 V2 ... [--json]``; return the exit code."""
    parser = Parser(description="Predict with an LSTM Studio weights file, using NumPy only.")
    parser._negative_number_matcher = NEGATIVE_NUMBER  # so "-1e-3" is a value (no option looks like a number)
    parser.add_argument("weights", help="weights file written by lstm-studio train")
    parser.add_argument("values", nargs="+", metavar="V", help="the input sequence")
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="the values of another column the model reads (once per column)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    try:
        args = parser.parse_args(argv)
        values = [number(v) for v in args.values]
        inputs = dict(named_values(text) for text in args.input)
        weights, meta = load(args.weights)
        answer = predict(weights, meta, values, inputs)
    except PredictError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return exc.code
    seq_len = meta["seq_len"]
    if len(values) > seq_len:
        print(f"{parser.prog}: note: the model read the last {seq_len} of the {len(values)} values", file=sys.stderr)
    print(json.dumps(answer, allow_nan=False) if args.json else show(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
