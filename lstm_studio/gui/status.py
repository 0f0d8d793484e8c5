"""The status bar's live readouts: epoch, progress, speed, elapsed and remaining time, best loss."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from lstm_studio.training import EpochEnd


def format_seconds(seconds: float) -> str:
    """'4.2 s', '3 min 05 s', '1 h 02 min'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class StatusPanel(QWidget):
    """Permanent widgets for the window's status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.epoch_label = QLabel(objectName="epochLabel")
        self.progress = QProgressBar(objectName="progressBar", minimum=0, maximum=1, value=0)
        self.progress.setFixedWidth(160)
        self.speed_label = QLabel(objectName="speedLabel")
        self.time_label = QLabel(objectName="timeLabel")
        self.best_label = QLabel(objectName="bestLabel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.epoch_label, self.progress, self.speed_label, self.time_label, self.best_label):
            layout.addWidget(widget)
        self.reset()

    def reset(self) -> None:
        """Nothing run yet."""
        self.epoch_label.setText("epoch –")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        for label in (self.speed_label, self.time_label, self.best_label):
            label.setText("")

    def start(self, epochs: int) -> None:
        """A run of ``epochs`` epochs begins."""
        self.epoch_label.setText(f"epoch 0/{epochs}")
        self.progress.setRange(0, epochs)
        self.progress.setValue(0)

    def show_epoch(self, e: EpochEnd) -> None:
        """Readouts after an epoch of the current run."""
        self.epoch_label.setText(f"epoch {e.epoch}/{e.epochs}")
        self.progress.setValue(e.epoch)
        self.speed_label.setText(f"{e.samples_per_second:,.0f} samples/s")
        remaining = e.elapsed / e.epoch * (e.epochs - e.epoch)
        self.time_label.setText(f"{format_seconds(e.elapsed)} elapsed, ~{format_seconds(remaining)} left")
        self.best_label.setText(f"best val loss {e.best_val_loss:.4g} (epoch {e.best_epoch})")
