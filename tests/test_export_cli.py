"""``lstm-studio export`` and the window's export functions on bad input: one line, exit 1 or 2, nothing
half-written, never over a file the export reads."""

import os
import sys
from importlib.resources import files

import numpy as np
import pytest

from lstm_studio.cli import main
from lstm_studio.export import ExportError, export_numpy_script, export_onnx, onnx_available
from lstm_studio.export.writers import NUMPY_TEMPLATE
from tests.export_cases import CASES, weights_for


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return weights_for(CASES[0], tmp_path_factory)


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["export", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def one_error_line(err: str) -> bool:
    return err.startswith("lstm-studio: error: ") and err.count("\n") == 1


def test_the_numpy_script_is_written_and_says_how_to_run_it(capsys, weights, tmp_path):
    script = tmp_path / "predict.py"
    code, out, err = run(capsys, str(weights), "--numpy", str(script))
    assert code == 0 and err == ""
    assert out == f"NumPy script written to {script}; run: python {script} {weights} V1 V2 ... [--json]\n"
    assert script.read_bytes() == (files("lstm_studio.export") / NUMPY_TEMPLATE).read_bytes()


@pytest.mark.parametrize("args", [[], ["--onnx", "a.onnx", "--numpy", "b.py"], ["--csv", "x"]])
def test_usage_errors_exit_2(capsys, weights, tmp_path, args):
    code, _, err = run(capsys, str(weights), *[str(tmp_path / a) if "." in a else a for a in args])
    assert code == 2 and one_error_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"plain text", "foreign", "missing"])
@pytest.mark.parametrize("kind", ["--onnx", "--numpy"])
def test_a_weights_file_that_is_not_ours_exits_1_and_writes_nothing(capsys, tmp_path, content, kind):
    source = tmp_path / "in" / "w.npz"
    source.parent.mkdir()
    if content == "foreign":
        np.savez(source, weights=np.zeros(3))
    elif content != "missing":
        source.write_bytes(content)
    code, out, err = run(capsys, str(source), kind, str(tmp_path / "out.file"))
    assert code == 1 and out == "" and one_error_line(err)
    assert not (tmp_path / "out.file").exists()


@pytest.mark.parametrize("kind", ["--onnx", "--numpy"])
@pytest.mark.parametrize("target", ["weights", "folder", "missing-folder", "device"])
def test_dangerous_targets_are_refused(capsys, weights, tmp_path, kind, target):
    before = weights.read_bytes()
    (tmp_path / "folder").mkdir()
    out = {"weights": str(weights), "folder": str(tmp_path / "folder"), "device": os.devnull,
           "missing-folder": str(tmp_path / "no" / "model.file")}[target]  # fmt: skip
    code, _, err = run(capsys, str(weights), kind, out)
    assert code == 1 and one_error_line(err)
    assert weights.read_bytes() == before and list(tmp_path.iterdir()) == [tmp_path / "folder"]
    if target == "weights":
        assert "the export reads" in err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused(capsys, weights, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    code, _, err = run(capsys, str(weights), "--numpy", str(folder / "p.py"))
    assert code == 1 and "not writable" in err


def test_a_failing_write_leaves_nothing_behind(capsys, weights, tmp_path, monkeypatch):
    def disk_full(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    code, _, err = run(capsys, str(weights), "--numpy", str(tmp_path / "p.py"))
    assert code == 1 and "No space left on device" in err and one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_without_the_onnx_extra_the_export_says_what_to_install(capsys, weights, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now fails as if it were not installed
    reason = onnx_available()
    assert reason and 'pip install "lstm-studio[onnx]"' in reason
    code, _, err = run(capsys, str(weights), "--onnx", str(tmp_path / "m.onnx"))
    assert code == 1 and one_error_line(err) and "lstm-studio[onnx]" in err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError, match=r"lstm-studio\[onnx\]"):
        export_onnx(weights, tmp_path / "m.onnx")


def test_onnx_available_says_nothing_when_onnx_is_installed():
    pytest.importorskip("onnx")
    assert onnx_available() is None


def test_the_script_is_never_written_over_its_own_template(tmp_path):
    template = files("lstm_studio.export") / NUMPY_TEMPLATE
    before = template.read_bytes()
    with pytest.raises(ExportError, match="the export reads"):
        export_numpy_script(str(template))
    assert template.read_bytes() == before


def test_an_existing_file_is_replaced_whole(weights, tmp_path):
    out = tmp_path / "predict.py"
    out.write_text("old contents, longer than nothing " * 1000)
    export_numpy_script(out, inputs=[weights])
    assert out.read_bytes() == (files("lstm_studio.export") / NUMPY_TEMPLATE).read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["predict.py"]
