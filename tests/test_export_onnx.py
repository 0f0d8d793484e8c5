"""Contract 7, ONNX: every kind of model the app trains gives in onnxruntime the answers ``predict`` gives.

Agreement is measured as |onnx - predict| / max(|predict|, s), s the size of the quantity's unit: the
normalisation's scale (the spread of the training data) for raw-unit predictions, 1 for probabilities,
so that a prediction that happens to lie near zero is not held to more digits than float32 carries.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from lstm_studio.export import export_onnx
from lstm_studio.training.saved import open_saved
from tests.export_cases import CASES, Case, raw_windows, weights_for

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-4  # measured: at most 3.1e-7 over 200 windows of each case


def answers(path, windows: np.ndarray) -> np.ndarray:
    """What ``predict`` answers for each window: raw values or probabilities, (batch, outputs)."""
    predictor = open_saved(path).predictor
    rows = []
    for window in windows.astype(np.float64):
        prediction = predictor.predict(window)
        rows.append(list(prediction.probabilities.values()) if prediction.label else list(prediction.values))
    return np.array(rows)


def relative_difference(a: np.ndarray, b: np.ndarray, path) -> float:
    predictor = open_saved(path).predictor
    unit = 1.0 if predictor.task.is_classification else predictor.normalizer.scale
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), unit)))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Case -> (weights path, onnx path), exported once."""
    folder = tmp_path_factory.mktemp("onnx")
    made = {}

    def get(case: Case):
        if case not in made:
            weights = weights_for(case, tmp_path_factory)
            made[case] = weights, export_onnx(weights, folder / f"{case.name}.onnx")
        return made[case]

    return get


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_onnxruntime_answers_as_predict_does_for_batches_of_5_and_of_1(exported, case):
    weights, model_file = exported(case)
    session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    windows = raw_windows(weights, 5)
    expected = answers(weights, windows)
    batch = session.run(None, {"x": windows[:, :, None]})[0]
    assert batch.shape == expected.shape and batch.dtype == np.float32
    assert relative_difference(batch, expected, weights) <= TOLERANCE
    for k in range(len(windows)):  # the batch dimension is dynamic, and rows do not mix
        alone = session.run(None, {"x": windows[k : k + 1, :, None]})[0]
        assert alone.shape == (1, expected.shape[1])
        assert relative_difference(alone, expected[k : k + 1], weights) <= TOLERANCE


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_file_passes_the_checker_and_records_what_a_server_needs(exported, case):
    weights, model_file = exported(case)
    model = onnx.load(str(model_file))
    onnx.checker.check_model(model, full_check=True)
    saved = open_saved(weights)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["task"] == case.task and props["kind"] == saved.meta["kind"]
    assert int(props["seq_len"]) == saved.predictor.seq_len
    assert json.loads(props["classes"]) == saved.predictor.classes
    assert props["format"] == "lstm-studio-onnx" and props["format_version"] == "1"
    assert json.loads(props["normalization"]) == saved.meta["normalization"]
    (x,) = model.graph.input
    dims = x.type.tensor_type.shape.dim
    assert x.name == "x" and x.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [dims[0].dim_param, dims[1].dim_value, dims[2].dim_value] == ["batch", saved.predictor.seq_len, 1]
    output = model.graph.output[0]
    assert output.name == ("probabilities" if saved.predictor.task.is_classification else "prediction")
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("LSTM") == len(case.hidden.split(",")) and "Gemm" in ops
    assert ("Softmax" in ops) == saved.predictor.task.is_classification


def test_the_graph_keeps_pytorch_gate_order_apart_from_onnx_s(exported):
    """ONNX's LSTM orders the gates i, o, f, c: the exported W holds PyTorch's f block third."""
    weights, model_file = exported(CASES[0])
    model = onnx.load(str(model_file))
    W = onnx.numpy_helper.to_array(next(t for t in model.graph.initializer if t.name == "lstm.W_l0"))[0]
    state = open_saved(weights).model.state_dict()["lstm.weight_ih_l0"]
    i, f, g, o = np.split(state.astype(np.float32), 4)
    np.testing.assert_array_equal(W, np.concatenate([i, o, f, g]))


def test_the_command_line_exports_a_model_onnxruntime_runs(tmp_path_factory, tmp_path):
    weights = weights_for(CASES[0], tmp_path_factory)
    out = tmp_path / "model.onnx"
    result = subprocess.run(
        [sys.executable, "-m", "lstm_studio", "export", str(weights), "--onnx", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ONNX model written to {out}\n" and result.stderr == ""
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.arange(10, dtype=np.float32).reshape(1, 10, 1)
    np.testing.assert_allclose(session.run(None, {"x": x})[0], answers(weights, x[:, :, 0]), rtol=1e-5)


def test_export_onnx_takes_an_opened_file_or_the_window_s_predictor(tmp_path_factory, tmp_path):
    weights = weights_for(CASES[2], tmp_path_factory)
    saved = open_saved(weights)
    from_saved = export_onnx(saved, tmp_path / "a.onnx")
    from_predictor = export_onnx(saved.predictor, tmp_path / "b.onnx")
    assert from_saved.read_bytes() == from_predictor.read_bytes()
