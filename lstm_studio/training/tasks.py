"""The built-in tasks: each makes its own windows and targets, deterministically from a seed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lstm_studio.resources import dataset_path
from lstm_studio.training import limits

REGRESSION = "regression"
CLASSIFICATION = "classification"
CSV_TASK = "csv"


@dataclass(frozen=True)
class TaskSettings:
    """How a task's data is made; every field is recorded in the weights file."""

    seq_len: int = 10  # values the network reads before it answers
    n_samples: int = 1000  # windows generated, training and validation together
    noise: float = 0.0  # standard deviation of Gaussian noise added to the inputs

    def validate(self, generated: bool = True) -> None:
        """Raise ValueError naming the first impossible setting. ``n_samples`` and ``noise`` are
        checked only for ``generated`` data: a series task reads its windows from a file."""
        if not 2 <= self.seq_len <= limits.MAX_SEQ_LEN:
            raise ValueError(f"sequence length must lie between 2 and {limits.MAX_SEQ_LEN:,}, got {self.seq_len:,}")
        if not generated:
            return
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"noise must be 0 or positive, got {self.noise}")
        if self.n_samples > limits.MAX_SAMPLES:
            raise ValueError(f"samples must be at most {limits.MAX_SAMPLES:,}, got {self.n_samples:,}")


@dataclass(frozen=True)
class TrainingDefaults:
    """Hyperparameters under which a task learns well (the README's example runs use these)."""

    hidden_sizes: tuple[int, ...] = (32,)
    lr: float = 0.01
    epochs: int = 60
    batch_size: int = 32
    clip: float = 5.0
    val_split: float = 0.2
    patience: int = 0  # 0 switches early stopping off


@dataclass(frozen=True)
class Task:
    """A named source of (window, target) pairs."""

    name: str
    title: str
    description: str
    kind: str  # REGRESSION or CLASSIFICATION
    settings: TaskSettings
    defaults: TrainingDefaults
    classes: tuple[str, ...] = ()
    relative_to_last: bool = False  # normalise each window against its own last value
    uses_noise: bool = True
    examples: tuple[tuple[float, ...], ...] = field(default=())
    series: bool = False  # data read from a CSV column instead of generated
    data_file: str = ""  # shipped CSV under resources/datasets (series tasks)
    column: str = ""
    time_column: str = ""

    @property
    def is_classification(self) -> bool:
        """Whether the task names a class (targets are class indices, answers are labels with
        probabilities) rather than predicting numbers: the one place this question is answered."""
        return self.kind == CLASSIFICATION

    @property
    def output_size(self) -> int:
        """How many numbers the network must output."""
        return len(self.classes) if self.is_classification else 1

    @property
    def loss(self) -> str:
        """The loss this task trains with."""
        return "cross_entropy" if self.is_classification else "mse"

    def generate(self, settings: TaskSettings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Raw windows (N, T) and targets: next values (N,) or class indices (N,)."""
        return _GENERATORS[self.name](settings, rng)

    @property
    def data_path(self) -> str:
        """Where a shipped series lives, in the installed package ('' for tasks without one)."""
        return str(dataset_path(self.data_file)) if self.data_file else ""


def _next_number(s: TaskSettings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Arithmetic sequences start + k·step; the target is the next term (clean, even with noise)."""
    start = rng.uniform(-20.0, 60.0, size=(s.n_samples, 1))
    step = rng.uniform(-3.0, 3.0, size=(s.n_samples, 1))
    k = np.arange(s.seq_len + 1)
    seq = start + step * k
    windows = seq[:, :-1] + rng.normal(0.0, s.noise, size=(s.n_samples, s.seq_len)) if s.noise else seq[:, :-1]
    return windows, seq[:, -1]


PATTERN_CLASSES = ("rising", "falling", "oscillating", "constant")


def _pattern(s: TaskSettings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of four shapes at random levels and sizes, plus noise; the target is the shape."""
    n, T = s.n_samples, s.seq_len
    labels = rng.permutation(np.arange(n) % len(PATTERN_CLASSES))
    t = np.linspace(0.0, 1.0, T)[None, :]
    level = rng.uniform(-1.0, 1.0, size=(n, 1))
    size = rng.uniform(0.5, 2.0, size=(n, 1))
    freq = rng.uniform(1.5, 3.0, size=(n, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
    shapes = np.stack(
        [
            level + size * t,  # rising
            level - size * t,  # falling
            level + 0.5 * size * np.sin(2 * np.pi * freq * t + phase),  # oscillating
            np.broadcast_to(level, (n, T)),  # constant
        ]
    )
    windows = shapes[labels, np.arange(n)] + rng.normal(0.0, s.noise, size=(n, T))
    return windows, labels


def _sine(s: TaskSettings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sine waves of random frequency and phase; the target is the next clean value."""
    n, T = s.n_samples, s.seq_len
    omega = rng.uniform(0.15, 0.6, size=(n, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
    clean = np.sin(omega * np.arange(T + 1) + phase)
    windows = clean[:, :-1] + rng.normal(0.0, s.noise, size=(n, T))
    return windows, clean[:, -1]


_GENERATORS = {"next-number": _next_number, "pattern": _pattern, "sine": _sine}
# Real series are a few hundred values: smaller batches, and early stopping against overfitting.
SERIES_DEFAULTS = TrainingDefaults(hidden_sizes=(32,), lr=0.01, epochs=60, batch_size=16, patience=15)

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            name="next-number",
            title="Next number",
            description="Arithmetic sequences: predict the next number ([0..9] → 10).",
            kind=REGRESSION,
            settings=TaskSettings(seq_len=10, n_samples=1000, noise=0.0),
            defaults=TrainingDefaults(hidden_sizes=(32,), lr=0.01, epochs=40, batch_size=32),
            relative_to_last=True,
            examples=(tuple(range(10)), tuple(range(15, 25))),
        ),
        Task(
            name="pattern",
            title="Pattern",
            description="Classify a sequence as rising, falling, oscillating or constant.",
            kind=CLASSIFICATION,
            settings=TaskSettings(seq_len=20, n_samples=1000, noise=0.1),
            defaults=TrainingDefaults(hidden_sizes=(32,), lr=0.01, epochs=20, batch_size=32),
            classes=PATTERN_CLASSES,
        ),
        Task(
            name="sine",
            title="Sine wave",
            description="Forecast the next value of a noisy sine wave.",
            kind=REGRESSION,
            settings=TaskSettings(seq_len=20, n_samples=1000, noise=0.05),
            defaults=TrainingDefaults(hidden_sizes=(32,), lr=0.01, epochs=30, batch_size=32),
        ),
        Task(
            name="sunspots",
            title="Sunspots (real data)",
            description="Yearly sunspot numbers 1700–2008 (NOAA): forecast next year's from the last 20.",
            kind=REGRESSION,
            settings=TaskSettings(seq_len=20, n_samples=0, noise=0.0),
            defaults=SERIES_DEFAULTS,
            uses_noise=False,
            series=True,
            data_file="sunspots.csv",
            column="SUNACTIVITY",
            time_column="YEAR",
        ),
        Task(
            name=CSV_TASK,
            title="CSV file…",
            description="Your own series: one numeric column of a CSV file, the next value from the last few.",
            kind=REGRESSION,
            settings=TaskSettings(seq_len=12, n_samples=0, noise=0.0),
            defaults=SERIES_DEFAULTS,
            uses_noise=False,
            series=True,
        ),
    )
}


def get_task(name: str) -> Task:
    """The built-in task called ``name``; ValueError listing the choices otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None
