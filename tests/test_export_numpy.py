"""Contract 7, NumPy script: ``python predict.py W V1 V2 ... [--json]`` prints what ``lstm-studio predict`` prints,
run where nothing but NumPy can be imported.

The environment is this interpreter with ``-s -S`` (no site-packages) and PYTHONPATH naming a folder
that holds only links to NumPy: the script finds the standard library and NumPy, and nothing else.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_studio.cli import main
from lstm_studio.export import export_numpy_script
from lstm_studio.export.writers import NUMPY_TEMPLATE
from lstm_studio.training.saved import open_saved
from tests.export_cases import CASES, raw_windows, weights_for

TOLERANCE = 1e-6  # measured: 2e-16 for float64 weights, 4e-7 for float32 (the script computes in the model's dtype)


@pytest.fixture(scope="session")
def numpy_only(tmp_path_factory) -> dict[str, str]:
    """An environment for ``python -s -S`` in which only the standard library and NumPy are importable."""
    folder = tmp_path_factory.mktemp("numpy-only")
    numpy_dir = Path(np.__file__).parent
    for source in (numpy_dir, numpy_dir.with_name("numpy.libs")):  # numpy.libs: the wheel's OpenBLAS
        if source.exists():
            (folder / source.name).symlink_to(source, target_is_directory=True)
    env = {"PYTHONPATH": str(folder), "PATH": os.environ.get("PATH", "")}
    probe = "import numpy\nfor name in ('lstm_studio', 'onnx', 'PySide6', 'pytest'):\n"
    probe += "    try:\n        __import__(name)\n        print(name)\n    except ImportError:\n        pass\n"
    result = subprocess.run(
        [sys.executable, "-s", "-S", "-c", probe], env=env, cwd=folder, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    return env


@pytest.fixture(scope="session")
def script(tmp_path_factory) -> Path:
    return export_numpy_script(tmp_path_factory.mktemp("script") / "predict.py")


def run_script(numpy_only, script, *args: str) -> tuple[int, str, str]:
    command = [sys.executable, "-s", "-S", str(script), *args]
    result = subprocess.run(command, env=numpy_only, cwd=script.parent, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr.replace("predict.py", "lstm-studio")


def run_predict(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what came before (a session fixture's training) is not predict's
    code = main(["predict", *args])
    out, err = capsys.readouterr()
    return code, out, err.replace("lstm-studio predict", "lstm-studio")


def numbers(answer: dict) -> tuple[list, np.ndarray]:
    if "probabilities" in answer:
        return [answer["prediction"], *answer["probabilities"]], np.array(list(answer["probabilities"].values()))
    return [], np.array(answer["prediction"])


def assert_same_answer(script_json: str, predict_json: str, unit: float) -> None:
    """Same labels and keys; numbers within TOLERANCE of the quantity's unit (see test_export_onnx)."""
    (labels_a, a), (labels_b, b) = numbers(json.loads(script_json)), numbers(json.loads(predict_json))
    assert labels_a == labels_b
    assert np.max(np.abs(a - b) / np.maximum(np.abs(b), unit)) <= TOLERANCE


def assert_same_text(script_text: str, predict_text: str, answer: dict) -> None:
    """Identical, unless a number lies so close to a rounding boundary of the printed digits (4 decimals,
    or 0.1 % for probabilities) that the last bits of float arithmetic decide it."""
    if script_text == predict_text:
        return
    _, values = numbers(answer)
    shifted = np.abs(values) * (1e3 if "probabilities" in answer else 1e4)
    assert np.any(np.abs(shifted % 1 - 0.5) < 1e-5 * np.maximum(shifted, 1)), (script_text, predict_text)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_script_prints_what_predict_prints(capsys, numpy_only, script, tmp_path_factory, case):
    weights = str(weights_for(case, tmp_path_factory))
    predictor = open_saved(weights).predictor
    unit = 1.0 if predictor.task.is_classification else predictor.normalizer.scale
    window = [repr(float(v)) for v in raw_windows(weights, 1, seed=4)[0]]
    longer = ["1.5", "-2e-3", "7", *window]  # more than the model reads: both say so on stderr
    for values in (window, longer):
        expected = run_predict(capsys, weights, *values, "--json")
        got = run_script(numpy_only, script, weights, *values, "--json")
        assert got[0] == expected[0] == 0 and got[2] == expected[2]
        assert_same_answer(got[1], expected[1], unit)
        expected_text = run_predict(capsys, weights, *values)
        got_text = run_script(numpy_only, script, weights, *values)
        assert got_text[0] == expected_text[0] == 0 and got_text[2] == expected_text[2]
        assert_same_text(got_text[1], expected_text[1], json.loads(expected[1]))
    assert "the model read the last" in expected_text[2]  # the longer sequence's note, the same in both


@pytest.mark.parametrize(
    "values",
    [["1", "2"], ["1", "two", "3"], ["1", "inf", "3"], ["nan"] * 12, ["--bogus"], []],
    ids=["too-few", "not-a-number", "infinite", "nan", "unknown-option", "no-values"],
)
def test_the_script_refuses_what_predict_refuses_with_the_same_line_and_exit_code(
    capsys, numpy_only, script, tmp_path_factory, values
):
    weights = str(weights_for(CASES[-1], tmp_path_factory))
    expected = run_predict(capsys, weights, *values)
    got = run_script(numpy_only, script, weights, *values)
    assert got == expected and expected[0] == 2 and expected[2].count("\n") == 1


def test_values_too_large_to_normalise_exit_1_in_both(capsys, numpy_only, script, tmp_path_factory):
    weights = str(weights_for(CASES[-2], tmp_path_factory))  # differencing: 1e308 - (-1e308) overflows
    values = ["1e308", "-1e308"] * 6
    expected = run_predict(capsys, weights, *values)
    assert run_script(numpy_only, script, weights, *values) == expected
    assert expected[0] == 1 and "too large for this model's normalisation" in expected[2]


@pytest.mark.parametrize("content", [None, b"", b"PK\x03\x04 broken", b"plain text", "foreign.npz", "folder", "fifo"])
def test_a_file_that_is_not_a_weights_file_is_one_line_and_exit_1(numpy_only, script, tmp_path, content):
    path = tmp_path / "w.npz"
    if content == "foreign.npz":
        np.savez(path, weights=np.zeros(3))
    elif content == "folder":
        path.mkdir()
    elif content == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)  # opening it to read would wait for a writer forever
    elif content is not None:
        path.write_bytes(content)
    code, out, err = run_script(numpy_only, script, str(path), "1", "2")
    assert code == 1 and out == "" and err.startswith("lstm-studio: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_the_exported_script_is_the_shipped_template_as_it_is(script):
    from importlib.resources import files

    assert script.read_bytes() == (files("lstm_studio.export") / NUMPY_TEMPLATE).read_bytes()
