"""The "Try it" box: type a sequence, see the current model's answer at once."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from lstm_studio.training import Prediction, Predictor

SEPARATORS = re.compile(r"[,;\s]+")


def parse_values(text: str) -> list[float]:
    """'0, 1 2;3' -> [0.0, 1.0, 2.0, 3.0]; ValueError naming the first word that is not a number."""
    words = [w for w in SEPARATORS.split(text.strip()) if w]
    values = []
    for word in words:
        try:
            values.append(float(word))
        except ValueError:
            raise ValueError(f"{word!r} is not a number") from None
    return values


def describe(prediction: Prediction) -> str:
    """A one-line answer: 'next value ≈ 10.0003' or 'rising (97%) · falling (2%) · …'."""
    if prediction.label is None:
        return "next value ≈ " + ", ".join(f"{v:.4f}" for v in prediction.values)
    ranked = sorted(prediction.probabilities.items(), key=lambda item: -item[1])
    return " · ".join(f"{label} ({p:.0%})" for label, p in ranked)


class TryItBox(QGroupBox):
    """Parses what is typed and asks ``predictor`` (set by the window) for an answer; a model that
    reads other columns gets one more box per column."""

    answered = Signal(list, object)  # the values typed, and the Prediction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Try it", parent)
        self.input = QLineEdit(objectName="tryInput")
        self.input.setToolTip("numbers separated by spaces or commas; the answer updates as you type")
        self.result = QLabel(objectName="tryResult", wordWrap=True)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.input)
        self.layout_.addWidget(self.result)
        self.column_inputs: dict[str, QLineEdit] = {}  # one per other column the model reads
        self.predictor: Predictor | None = None
        self.waiting = ""
        self.input.textChanged.connect(self.update_answer)

    def set_expected(self, seq_len: int, example: Sequence[float] = ()) -> None:
        """Say in the empty box how many values the model reads (with an example when there is one)."""
        if len(example) == seq_len:
            self.input.setPlaceholderText("e.g. " + " ".join(f"{v:g}" for v in example))
        else:
            self.input.setPlaceholderText(f"{seq_len} numbers, separated by spaces or commas")

    def set_predictor(self, predictor: Predictor | None, waiting: str = "") -> None:
        """Use this model from now on and answer again (``waiting`` says why there is none yet)."""
        self.predictor, self.waiting = predictor, waiting
        if predictor is not None and tuple(self.column_inputs) != predictor.input_columns:  # kept while it waits
            self._make_column_inputs(predictor.input_columns, predictor.seq_len)
        self.update_answer()

    def _make_column_inputs(self, columns: Sequence[str], seq_len: int) -> None:
        for box in self.column_inputs.values():
            box.deleteLater()
        self.column_inputs = {}
        for k, column in enumerate(columns):
            box = QLineEdit(objectName=f"tryInput_{column}", placeholderText=f"{column}: {seq_len} numbers")
            box.setToolTip(f"the values of column {column!r} over the same steps")
            box.textChanged.connect(self.update_answer)
            self.layout_.insertWidget(1 + k, box)
            self.column_inputs[column] = box

    def values(self) -> list[float] | None:
        """The typed numbers, or None when the box is empty or holds something else."""
        try:
            values = parse_values(self.input.text())
        except ValueError:
            return None
        return values or None

    def update_answer(self) -> None:
        """Show the model's answer for what is typed (or why there is none)."""
        text = self.input.text().strip()
        if not text:
            self.result.setText("")
            return
        try:
            values = parse_values(text)
        except ValueError as exc:
            self.result.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return
        if self.predictor is None:
            self.result.setText(self.waiting or "train or load a model first")
            return
        try:
            inputs = {column: parse_values(box.text()) for column, box in self.column_inputs.items()}
            prediction = self.predictor.predict(values, inputs)
        except ValueError as exc:
            self.result.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return
        note = ""
        if len(values) > self.predictor.seq_len:
            note = f" (from the last {self.predictor.seq_len} of the {len(values)} values)"
        self.result.setText(describe(prediction) + note)
        self.answered.emit(values, prediction)
