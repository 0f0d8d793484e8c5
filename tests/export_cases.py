"""Small trained weights files of every kind the app makes, shared by the export tests.

Each task kind comes with one LSTM layer and with two, and in float32 and float64 weights; the CSV
series cases cover z-score and differencing with a horizon of 3. Files are trained once per session
(2 epochs: the answers need not be good, only the same everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_studio.cli import main
from lstm_studio.training.saved import open_saved


@dataclass(frozen=True)
class Case:
    """One weights file to train: a task, its layers, its precision, and a few task options."""

    task: str
    hidden: str
    dtype: str
    options: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return "-".join([self.task, self.hidden.replace(",", "x"), self.dtype, *(o.strip("-") for o in self.options)])


GENERATED = ("--samples", "200")
CASES = [
    Case("next-number", "8", "float64", GENERATED),
    Case("next-number", "8,6", "float32", GENERATED),
    Case("pattern", "8", "float32", GENERATED),
    Case("pattern", "8,6", "float64", GENERATED),
    Case("sine", "8", "float64", GENERATED),
    Case("sine", "8,6", "float32", GENERATED),
    Case("sunspots", "8", "float32"),
    Case("sunspots", "8,6", "float64"),
    Case("csv", "8", "float64", ("--horizon", "3", "--difference")),
    Case("csv", "8,6", "float32", ("--horizon", "3", "--difference")),
    Case("csv", "6", "float32", ("--horizon", "3", "--difference", "off")),
]
_trained: dict[Case, Path] = {}


def trending_csv(folder: Path) -> Path:
    """A series with a trend, a season and noise (what differencing is for), 160 rows with a header."""
    path = folder / "series.csv"
    if not path.exists():
        rng = np.random.default_rng(7)
        t = np.arange(160)
        values = 100 + 0.8 * t + 6 * np.sin(t / 4) + rng.normal(0, 1, t.size)
        path.write_text("month,value\n" + "".join(f"{k},{v:.3f}\n" for k, v in zip(t, values, strict=True)))
    return path


def weights_for(case: Case, tmp_path_factory) -> Path:
    """The weights file of ``case``, trained on first use."""
    if case not in _trained:
        folder = tmp_path_factory.mktemp("export-cases")
        out = folder / f"{case.name}.npz"
        data = ["--csv", str(trending_csv(folder)), "--column", "value"] if case.task == "csv" else []
        argv = ["train", "--task", case.task, "--hidden", case.hidden, "--dtype", case.dtype, "--epochs", "2",
                *data, *case.options, "--out", str(out)]  # fmt: skip
        assert main(argv) == 0
        _trained[case] = out
    return _trained[case]


def raw_windows(path: Path, count: int, seed: int = 0) -> np.ndarray:
    """``count`` raw windows (count, seq_len) of the size the model's data has, rounded to float32
    (the ONNX input's type) so that every side reads the same numbers."""
    predictor = open_saved(path).predictor
    rng = np.random.default_rng(seed)
    norm = predictor.normalizer
    level = norm.offset if not (norm.relative_to_last or norm.difference) else rng.uniform(-50, 150, (count, 1))
    steps = rng.normal(0.0, norm.scale / 2, (count, predictor.seq_len))
    return (level + np.cumsum(steps, axis=1)).astype(np.float32)
