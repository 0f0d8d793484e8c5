"""What the window remembers between starts: the form's settings, its geometry, the runs directory."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from lstm_studio.training import Experiment, experiment_from_json, experiment_to_json
from lstm_studio.training.run_store import resolve_runs_dir

SETTINGS_KEY = "experiment"
GEOMETRY_KEY = "geometry"
RUNS_DIR_KEY = "runsDir"  # chosen in the Runs view; else $LSTM_STUDIO_RUNS, else the user's data folder


class WindowSettings:
    """Reads and writes the window's remembered settings; nothing read can stop the app starting."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def experiment(self) -> tuple[Experiment | None, bool]:
        """The form's last settings (None when there are none) and whether they were unreadable."""
        text = self.settings.value(SETTINGS_KEY, "", type=str)
        if not text:
            return None, False
        try:
            return experiment_from_json(text), False
        except Exception:  # a hand-edited or outdated settings file must never stop the app
            return None, True

    def runs_dir(self) -> Path:
        """Where runs are recorded and listed."""
        chosen = self.settings.value(RUNS_DIR_KEY, "", type=str)
        return Path(chosen) if chosen else resolve_runs_dir()

    def set_runs_dir(self, folder: Path) -> None:
        """Record and list runs in ``folder`` from now on."""
        self.settings.setValue(RUNS_DIR_KEY, str(folder))

    def geometry(self) -> QByteArray | None:
        """The window's last size and place."""
        return self.settings.value(GEOMETRY_KEY)

    def save(self, experiment: Experiment, geometry: QByteArray) -> None:
        """Remember the form and the geometry for the next start."""
        self.settings.setValue(SETTINGS_KEY, experiment_to_json(experiment))
        self.settings.setValue(GEOMETRY_KEY, geometry)
        self.settings.sync()
