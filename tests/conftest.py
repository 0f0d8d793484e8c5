"""Shared test setup: Qt runs offscreen, before anything imports it, and runs are recorded in
temporary folders only, never in the user's data folder."""

import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# For anything that records before a test's own folder is set (session fixtures, subprocesses).
_SESSION_RUNS = tempfile.mkdtemp(prefix="lstm-studio-test-runs-")
atexit.register(shutil.rmtree, _SESSION_RUNS, ignore_errors=True)
os.environ["LSTM_STUDIO_RUNS"] = _SESSION_RUNS


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def runs_dir(tmp_path_factory, monkeypatch):
    """Every test records into a runs directory of its own (LSTM_STUDIO_RUNS)."""
    path = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("LSTM_STUDIO_RUNS", str(path))
    return path
