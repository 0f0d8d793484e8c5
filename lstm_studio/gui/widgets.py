"""Small input widgets the forms need and Qt lacks."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSpinBox, QToolButton, QVBoxLayout, QWidget

MAX_LAYERS = 8
MAX_LAYER_SIZE = 1024


class LogSpinBox(QDoubleSpinBox):
    """A spin box whose arrows multiply and divide (1, 2, 5 steps per decade), as learning
    rates are compared on a log scale."""

    STEPS = (1.0, 2.0, 5.0)

    def __init__(self, parent: QWidget | None = None, **kwargs: object) -> None:
        super().__init__(parent, **kwargs)
        self.setDecimals(12)  # QDoubleSpinBox rounds the value itself to this many decimals

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt's name
        """Three significant digits, in e-notation when small: 0.001, 5e-05."""
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt's name
        """Parse what ``textFromValue`` writes, or what a person types (3e-5, 0.002)."""
        return float(text)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Accept e-notation while typing; only numbers within the range are acceptable."""
        try:
            value = float(text)
        except ValueError:
            partial = all(ch in "0123456789.eE+-" for ch in text)
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt's name
        """Move ``steps`` notches along 1, 2, 5, 10, 20, 50, …"""
        value = self.value()
        for _ in range(abs(steps)):
            value = self._next(value, up=steps > 0)
        self.setValue(value)

    def _next(self, value: float, up: bool) -> float:
        decade = math.floor(math.log10(value)) if value > 0 else math.floor(math.log10(self.minimum()))
        ladder = [m * 10.0**d for d in (decade - 1, decade, decade + 1) for m in self.STEPS]
        if up:
            candidates = [v for v in ladder if v > value * (1 + 1e-9)]
            return min(candidates) if candidates else value
        candidates = [v for v in ladder if v < value * (1 - 1e-9)]
        return max(candidates) if candidates else value


class LayerSizesEditor(QWidget):
    """Stacked LSTM layer sizes, bottom layer first: one spin box per layer, add and remove."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerSizesEditor")
        self._rows = QVBoxLayout()
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._spins: list[QSpinBox] = []
        buttons = QHBoxLayout()
        self.add_button = QToolButton(text="+ layer", objectName="addLayerButton")
        self.remove_button = QToolButton(text="− layer", objectName="removeLayerButton")
        self.add_button.setToolTip(f"add a layer on top (at most {MAX_LAYERS})")
        self.remove_button.setToolTip("remove the top layer (at least one stays)")
        self.add_button.clicked.connect(lambda: self._add(self._spins[-1].value() if self._spins else 32))
        self.remove_button.clicked.connect(self._remove_top)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._rows)
        layout.addLayout(buttons)
        self.set_sizes((32,))

    def sizes(self) -> tuple[int, ...]:
        """The layer sizes, bottom first."""
        return tuple(spin.value() for spin in self._spins)

    def set_sizes(self, sizes: tuple[int, ...]) -> None:
        """Replace every row."""
        while self._spins:
            self._drop_top()
        for size in sizes[:MAX_LAYERS] or (32,):
            self._add(size, notify=False)
        self.changed.emit()

    def _add(self, size: int, notify: bool = True) -> None:
        if len(self._spins) >= MAX_LAYERS:
            return
        spin = QSpinBox(minimum=1, maximum=MAX_LAYER_SIZE, value=size, suffix=" units")
        spin.setObjectName(f"layerSizeSpin{len(self._spins)}")
        spin.setPrefix(f"layer {len(self._spins) + 1}: ")
        spin.setToolTip(f"hidden units of this LSTM layer (1 to {MAX_LAYER_SIZE})")
        spin.valueChanged.connect(self.changed)
        self._spins.append(spin)
        self._rows.addWidget(spin)
        self._update_buttons()
        if notify:
            self.changed.emit()

    def _remove_top(self) -> None:
        if len(self._spins) > 1:
            self._drop_top()
            self._update_buttons()
            self.changed.emit()

    def _drop_top(self) -> None:
        spin = self._spins.pop()
        self._rows.removeWidget(spin)
        spin.setParent(None)  # out of the widget tree now, so findChild never returns a stale row
        spin.deleteLater()

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(len(self._spins) < MAX_LAYERS)
        self.remove_button.setEnabled(len(self._spins) > 1)
