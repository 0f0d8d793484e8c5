"""A predictor as an ONNX graph (Contract 7): raw values in, raw-unit predictions or probabilities out.

    x  (batch, T, 1 + k) float32, raw units: the series, then the k other columns a model may read
    ├─ normalise    window-relative (x - x_T) / scale, z-score (x - offset) / scale,
    │               or differencing (x_{t+1} - x_t - offset) / scale, which leaves T - 1 steps;
    │               each other column (c - offset_j) / scale_j over the same steps
    ├─ Transpose    time-major (steps, batch, 1), as ONNX Runtime's LSTM kernel reads it
    ├─ LSTM × L     ONNX's own operator per layer, forward, one direction; gates i, o, f, c
    ├─ Gemm         the dense layer on the top layer's last hidden state Y_h
    └─ decode       regression: y·scale + ref, or x_T + cumsum(y·scale + offset) with differencing
                    → ``prediction`` (batch, outputs); classification: Softmax → ``probabilities``

Everything is float32: ONNX Runtime's LSTM computes in float32 only, so float64 weights are
rounded to float32 here. The file's metadata properties record what a server needs to know.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import lstm_studio
from lstm_studio.training.predictor import Predictor

OPSET = 17  # LSTM-14 (the current LSTM), Squeeze-13, CumSum-14: in ONNX Runtime since 1.12 (2022)
IR_VERSION = 8  # the IR of opset 17, so that runtimes older than the onnx package writing it load the file
FORMAT = {"name": "lstm-studio-onnx", "version": 1}
# PyTorch stores the gates i, f, g, o; ONNX's LSTM wants i, o, f, c (c is PyTorch's g).
ONNX_GATE_ORDER = (0, 3, 1, 2)


class _Graph:
    """The nodes and constants of a graph under construction; each op returns its output's name."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def const(self, name: str, value: np.ndarray | float) -> str:
        """A float32 constant (weights are rounded to float32 here)."""
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def ints(self, name: str, *values: int) -> str:
        """An int64 vector constant (slice bounds, axes)."""
        self.initializers.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str, **attributes: object) -> str:
        """One node with one output, named after it."""
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output


def build_onnx(predictor: Predictor) -> onnx.ModelProto:
    """The ONNX model computing ``predictor``'s answers for a batch of raw windows; checked by onnx.checker."""
    model, seq_len = predictor.model, predictor.seq_len
    state = model.state_dict()
    g = _Graph()
    x = _own_values(g, "x") if predictor.input_columns else "x"
    if predictor.normalizer.relative_to_last or predictor.normalizer.difference:
        _last_value(g, x, seq_len)
    h = _lstm_layers(g, _normalised_input(g, x, predictor), state, model.hidden_sizes)
    weight, bias = g.const("dense.weight", state["dense.weight"]), g.const("dense.bias", state["dense.bias"])
    output = _answer(g, g.op("Gemm", [h, weight, bias], "y", transB=1), predictor)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", seq_len, model.input_size])]
    outputs = [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", model.output_size])]
    proto = helper.make_model(
        helper.make_graph(g.nodes, "lstm_studio", inputs, outputs, g.initializers),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="lstm-studio",
        producer_version=lstm_studio.__version__,
        doc_string=_what(predictor),
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, metadata(predictor))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def metadata(predictor: Predictor) -> dict[str, str]:
    """The model's metadata properties: what the graph computes and for which task (strings, as ONNX wants)."""
    return {
        "format": FORMAT["name"],
        "format_version": str(FORMAT["version"]),
        "task": predictor.task.name,
        "kind": predictor.task.kind,
        "seq_len": str(predictor.seq_len),
        "classes": json.dumps(predictor.classes),
        "outputs": str(predictor.model.output_size),
        "normalization": json.dumps(predictor.normalizer.to_meta()),
        "weights_dtype": predictor.model.dtype.name,
    }


def _what(predictor: Predictor) -> str:
    T, task, n = predictor.seq_len, predictor.task, predictor.model.input_size
    columns = f" (the series, then {', '.join(predictor.input_columns)})" if predictor.input_columns else ""
    x = f"x (batch, {T}, {n}) raw values{columns}"
    if task.is_classification:
        return f"{task.title}: {x} -> probabilities (batch, classes in metadata 'classes')"
    return f"{task.title}: {x} -> prediction (batch, {predictor.model.output_size}), raw units"


def _own_values(g: _Graph, x: str) -> str:
    """The series' own values (batch, T, 1) of an input that also carries other columns."""
    return g.op("Slice", [x, g.ints("own.start", 0), g.ints("own.end", 1), g.ints("own.axis", 2)], "x_own")


def _last_value(g: _Graph, x: str, T: int) -> None:
    """x_T of every window: ``x_last`` (batch, 1, 1) to subtract from x, ``x_last_row`` (batch, 1) to add to y."""
    last = g.op("Slice", [x, g.ints("last.start", T - 1), g.ints("last.end", T), g.ints("last.axis", 1)], "x_last")
    g.op("Squeeze", [last, g.ints("last.feature_axis", 2)], "x_last_row")


def _normalised_input(g: _Graph, x: str, predictor: Predictor) -> str:
    """What the network reads, time-major: (steps, batch, 1)."""
    norm, T = predictor.normalizer, predictor.seq_len
    if norm.difference:
        later = g.op("Slice", [x, g.ints("later.start", 1), g.ints("later.end", T), "last.axis"], "x_later")
        earlier = g.op("Slice", [x, g.ints("earlier.start", 0), g.ints("earlier.end", T - 1), "last.axis"], "x_earlier")
        changes = g.op("Sub", [later, earlier], "x_changes")
        centred = g.op("Sub", [changes, g.const("norm.offset", norm.offset)], "x_centred")
    elif norm.relative_to_last:
        centred = g.op("Sub", [x, "x_last"], "x_centred")
    else:
        centred = g.op("Sub", [x, g.const("norm.offset", norm.offset)], "x_centred")
    scaled = g.op("Div", [centred, g.const("norm.scale", norm.scale)], "x_scaled")
    if norm.inputs:
        start = 1 if norm.difference else 0  # the steps the changes are read at: each change's later value
        bounds = [g.ints("others.start", start, 1), g.ints("others.end", T, 1 + len(norm.inputs))]
        others = g.op("Slice", ["x", *bounds, g.ints("others.axes", 1, 2)], "x_others")
        offsets = g.const("inputs.offset", [s.offset for s in norm.inputs])
        centred_others = g.op("Sub", [others, offsets], "x_others_centred")
        scaled_others = g.op("Div", [centred_others, g.const("inputs.scale", [s.scale for s in norm.inputs])],
                             "x_others_scaled")  # fmt: skip
        scaled = g.op("Concat", [scaled, scaled_others], "x_features", axis=2)
    return g.op("Transpose", [scaled], "steps_l0", perm=[1, 0, 2])


def _lstm_layers(g: _Graph, steps: str, state: dict[str, np.ndarray], hidden_sizes: list[int]) -> str:
    """ONNX LSTM nodes, bottom first; returns the top layer's last hidden state, (batch, H)."""
    top = len(hidden_sizes) - 1
    for k, H in enumerate(hidden_sizes):
        rows = np.concatenate([np.arange(H) + gate * H for gate in ONNX_GATE_ORDER])
        W = g.const(f"lstm.W_l{k}", state[f"lstm.weight_ih_l{k}"][rows][None])  # (1, 4H, in)
        R = g.const(f"lstm.R_l{k}", state[f"lstm.weight_hh_l{k}"][rows][None])  # (1, 4H, H)
        Wb, Rb = state[f"lstm.bias_ih_l{k}"][rows], state[f"lstm.bias_hh_l{k}"][rows]
        B = g.const(f"lstm.B_l{k}", np.concatenate([Wb, Rb])[None])  # (1, 8H)
        # outputs: Y, every step (steps, 1, batch, H); Y_h, the last step (1, batch, H)
        outputs = ["", "h_top"] if k == top else [f"hidden_l{k}"]
        g.nodes.append(helper.make_node("LSTM", [steps, W, R, B], outputs, name=f"lstm_l{k}", hidden_size=H))
        if k < top:
            steps = g.op("Squeeze", [f"hidden_l{k}", g.ints(f"direction_l{k}", 1)], f"steps_l{k + 1}")
    return g.op("Squeeze", ["h_top", g.ints("direction", 0)], "h_last")


def _answer(g: _Graph, y: str, predictor: Predictor) -> str:
    """The network's outputs (batch, outputs) as probabilities, or in raw units."""
    if predictor.task.is_classification:
        return g.op("Softmax", [y], "probabilities", axis=1)
    norm = predictor.normalizer
    scaled = g.op("Mul", [y, "norm.scale"], "y_scaled")
    if norm.relative_to_last:
        return g.op("Add", [scaled, "x_last_row"], "prediction")
    shifted = g.op("Add", [scaled, g.const("out.offset", norm.offset)], "y_shifted")
    if not norm.difference:
        return g.op("Identity", [shifted], "prediction")
    g.initializers.append(numpy_helper.from_array(np.array(1, dtype=np.int64), "horizon.axis"))  # 0-d, as CumSum wants
    changes = g.op("CumSum", [shifted, "horizon.axis"], "y_changes")  # summed over the horizon
    return g.op("Add", [changes, "x_last_row"], "prediction")
