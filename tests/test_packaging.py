"""The app installs like one: the wheel carries the shipped datasets, the icon and the export template, and a
fresh virtual environment with nothing but the wheel and NumPy (plus onnx) trains the sunspots task from another
folder and exports it.

About 20 s in all: building the wheel ~4 s, the fresh environment and its packages ~10 s (from pip's cache or
the index, as CI installs the test extra), then a 1-epoch run and the exports.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "lstm_studio", "resources")


def pip(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (so that parallel runs share no build folder)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    result = pip("wheel", str(source), "--no-deps", "-w", str(dist))
    assert result.returncode == 0, result.stderr[-2000:]
    (built,) = dist.glob("lstm_studio-*.whl")
    return built


def test_the_wheel_carries_every_package_the_datasets_the_icon_and_the_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("datasets/sunspots.csv", "datasets/README.md", "icon.png", "icon.svg", "__init__.py"):
        assert f"lstm_studio/resources/{shipped}" in names
    assert "lstm_studio/export/predict_template.py" in names
    packages = {str(p.parent.relative_to(ROOT).as_posix()) for p in (ROOT / "lstm_studio").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names  # setup.py finds every package
    assert not any(name.startswith(("resources/", "tests/")) for name in names)  # nothing at the top level
    entry_points = next(zipfile.Path(wheel, n) for n in names if n.endswith("entry_points.txt")).read_text()
    assert "lstm-studio = lstm_studio.cli:main_entry" in entry_points
    assert "[gui_scripts]\nlstm-studio-gui = lstm_studio.gui.app:main" in entry_points


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel (without its GUI dependencies) and NumPy."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    result = pip("--python", str(python), "install", "--no-deps", str(wheel))
    assert result.returncode == 0, result.stderr[-2000:]
    result = pip("--python", str(python), "install", "numpy")
    assert result.returncode == 0, result.stderr[-2000:]
    return python


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """A command of the installed app, from ``cwd``, with nothing of this checkout on the path."""
    script = python.parent / args[0]
    result = subprocess.run([str(script), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_the_installed_app_trains_sunspots_from_another_folder_and_exports_a_numpy_script(installed, tmp_path):
    assert (installed.parent / "lstm-studio-gui").exists()
    run(installed, "lstm-studio", "train", "--task", "sunspots", "--epochs", "1", "--out", "w.npz", cwd=tmp_path)
    where = run(installed, "python", "-c", "from lstm_studio.training import TASKS; print(TASKS['sunspots'].data_path)",
                cwd=tmp_path).stdout.strip()  # fmt: skip
    assert Path(where).is_file() and "site-packages" in where and not Path(where).is_relative_to(ROOT)
    run(installed, "lstm-studio", "export", "w.npz", "--numpy", "predict.py", cwd=tmp_path)
    values = [str(v) for v in range(20, 40)]
    expected = run(installed, "lstm-studio", "predict", "w.npz", *values, "--json", cwd=tmp_path).stdout
    got = run(installed, "python", "predict.py", "w.npz", *values, "--json", cwd=tmp_path).stdout
    assert json.loads(got)["prediction"] == pytest.approx(json.loads(expected)["prediction"], rel=1e-9)


def test_the_installed_app_exports_onnx_once_the_extra_is_there(installed, tmp_path):
    if pip("--python", str(installed), "install", "onnx").returncode != 0:
        pytest.skip("onnx could not be installed here")
    run(installed, "lstm-studio", "train", "--task", "sunspots", "--epochs", "1", "--out", "w.npz", cwd=tmp_path)
    result = run(installed, "lstm-studio", "export", "w.npz", "--onnx", "m.onnx", cwd=tmp_path)
    assert result.stdout == "ONNX model written to m.onnx\n" and (tmp_path / "m.onnx").stat().st_size > 1000
