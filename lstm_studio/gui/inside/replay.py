"""The epoch slider and Play: any recorded epoch of a run, watched at human speed."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

SPEEDS = (1, 2, 5, 10, 20)  # epochs a second


class ReplayBar(QWidget):
    """A slider with one position per kept snapshot and a last one for the live model; ``moved``
    carries the snapshot position, or None for live."""

    moved = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="epochSlider")
        self.slider.setToolTip("every recorded epoch; the right end is the model as it is now (live)")
        self.slider.setRange(0, 0)
        self.play_button = QPushButton("Play", objectName="playButton", checkable=True)
        self.play_button.setToolTip("replay the run from the first recorded epoch")
        self.speed_combo = QComboBox(objectName="replaySpeedCombo")
        self.speed_combo.addItems([f"{s} epochs/s" for s in SPEEDS])
        self.speed_combo.setCurrentIndex(2)
        self.label = QLabel("live", objectName="replayLabel")
        self.label.setMinimumWidth(220)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Epoch"))
        row.addWidget(self.slider, stretch=1)
        row.addWidget(self.label)
        row.addWidget(self.play_button)
        row.addWidget(self.speed_combo)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._step)
        self.slider.valueChanged.connect(self._on_value)
        self.play_button.toggled.connect(self._on_play)
        self.speed_combo.currentIndexChanged.connect(self._set_interval)
        self._set_interval()

    @property
    def live(self) -> bool:
        """Whether the slider stands at its last position."""
        return self.slider.value() == self.slider.maximum()

    def set_count(self, snapshots: int) -> None:
        """One position per snapshot plus live; a slider at live stays at live."""
        live = self.live
        self.slider.blockSignals(True)
        self.slider.setRange(0, snapshots)
        if live:
            self.slider.setValue(snapshots)
        self.slider.blockSignals(False)

    def describe(self, text: str) -> None:
        """What the slider shows now, e.g. 'epoch 7 of 40 (replay)'."""
        self.label.setText(text)

    def _on_value(self, value: int) -> None:
        self.moved.emit(None if value == self.slider.maximum() else value)

    def _on_play(self, playing: bool) -> None:
        if playing:
            if self.live:
                self.slider.setValue(0)
            self.timer.start()
        else:
            self.timer.stop()
        self.play_button.setText("Pause" if playing else "Play")

    def _step(self) -> None:
        self.slider.setValue(self.slider.value() + 1)
        if self.live:
            self.play_button.setChecked(False)

    def _set_interval(self) -> None:
        self.timer.setInterval(int(1000 / SPEEDS[self.speed_combo.currentIndex()]))
