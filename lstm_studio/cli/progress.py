"""Terminal progress for ``lstm-studio train``: a redrawn bar on a terminal, one line per epoch otherwise."""

from __future__ import annotations

import time
from typing import TextIO

from lstm_studio.training import BatchEnd, EpochEnd, Event, Task

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1  # a terminal needs no more than ten redraws a second
CLEAR_LINE = "\r\033[K"


class Progress:
    """Renders training events on ``stream``: every epoch as a line; on a terminal also a
    bar for the epoch under way.
    """

    def __init__(self, stream: TextIO, task: Task, epochs: int, interactive: bool) -> None:
        self.stream = stream
        self.task = task  # which validation metric an epoch line shows
        self.epochs = epochs
        self.interactive = interactive
        self._last_draw = 0.0

    def show(self, event: Event) -> None:
        """Render one event, if it is worth a line or a redraw."""
        if isinstance(event, EpochEnd):
            start = CLEAR_LINE if self.interactive else ""
            print(start + epoch_line(event, self.task), file=self.stream, flush=True)
        elif isinstance(event, BatchEnd) and self.interactive:
            now = time.monotonic()
            if now - self._last_draw >= REDRAW_SECONDS:
                self._last_draw = now
                filled = round(BAR_WIDTH * event.batch / event.batches)
                bar = "#" * filled + "." * (BAR_WIDTH - filled)
                text = f"epoch {event.epoch}/{self.epochs} [{bar}] loss {event.loss:.4g}"
                print(CLEAR_LINE + text, end="", file=self.stream, flush=True)

    def close(self) -> None:
        """Wipe a half-drawn bar so later output starts on a clean line."""
        if self.interactive:
            print(CLEAR_LINE, end="", file=self.stream, flush=True)


def epoch_line(e: EpochEnd, task: Task) -> str:
    """One line summing up an epoch, with the task's validation metric."""
    if task.is_classification:
        extra = f"  val acc {e.evaluation.accuracy:.1%}"
    else:
        extra = f"  val rmse {e.evaluation.rmse:.4g}"
    return (
        f"epoch {e.epoch}/{e.epochs}  loss {e.train_loss:.4g}  val {e.val_loss:.4g}{extra}"
        f"  {e.samples_per_second:,.0f} samples/s"
    )
