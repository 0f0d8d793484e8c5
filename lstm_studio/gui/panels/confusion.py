"""Classification: the validation confusion matrix, counts written in its cells."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from lstm_studio.gui.panels.base import Panel
from lstm_studio.training.session import Session
from lstm_studio.training.tasks import Task

LABEL_WIDTH = 90  # pixels for the class names beside the matrix


class ConfusionPanel(Panel):
    """How often each true class (rows) was predicted as each class (columns)."""

    name = "confusionPlot"
    title = "Confusion matrix (validation)"

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("bottom", "predicted")
        self.setLabel("left", "true")
        item = self.getPlotItem()
        item.invertY(True)
        item.setAspectLocked(True)
        item.getAxis("left").setWidth(LABEL_WIDTH)  # room for every class name, not only the short ones
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.addItem(self.image)
        self.cell_labels: list[pg.TextItem] = []
        self.classes: tuple[str, ...] = ()

    def suits(self, task: Task) -> bool:
        """Classification tasks."""
        return task.is_classification

    def reset(self, session: Session) -> None:
        """Lay out the matrix for the task's classes."""
        classes = session.task.classes if session.task is not None else ()
        if classes != self.classes:
            self._set_classes(classes)
        super().reset(session)

    def _set_classes(self, classes: tuple[str, ...]) -> None:
        self.classes, k = classes, len(classes)
        for label in self.cell_labels:
            self.removeItem(label)
        self.cell_labels = []
        ticks = [[(i + 0.5, name) for i, name in enumerate(classes)]]
        item = self.getPlotItem()
        item.getAxis("bottom").setTicks(ticks)
        item.getAxis("left").setTicks(ticks)
        self.image.setImage(np.zeros((k, k)), levels=(0, 1))
        for r in range(k):
            for c in range(k):
                label = pg.TextItem("", anchor=(0.5, 0.5), color="w")
                label.setPos(c + 0.5, r + 0.5)
                self.addItem(label)
                self.cell_labels.append(label)
        self.setRange(xRange=(0, max(k, 1)), yRange=(0, max(k, 1)), padding=0.02)

    def draw(self, session: Session) -> None:
        """The newest evaluation's counts (empty before there is one)."""
        evaluation = session.shown_evaluation
        k = len(self.classes)
        matrix = evaluation.confusion if evaluation is not None and evaluation.confusion is not None else None
        if matrix is None or matrix.shape != (k, k):
            matrix = np.zeros((k, k), dtype=np.int64)
        self.image.setImage(matrix.astype(float), levels=(0, max(1, int(matrix.max(initial=0)))))
        for label, count in zip(self.cell_labels, matrix.ravel(), strict=True):
            label.setText(str(int(count)) if evaluation is not None else "")
