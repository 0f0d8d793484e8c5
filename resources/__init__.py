"""What LSTM Studio ships besides code: the built-in datasets and the application icon.

This folder stays the repository's top-level ``resources/`` and is installed as the package
``lstm_studio.resources`` (``[tool.setuptools] package-dir`` in pyproject.toml maps it there, for
wheels and editable installs alike), so the app finds its files through ``importlib.resources``
wherever it is installed, never through the source tree.

``icon.svg`` is the icon's source; ``icon.png`` is it rendered at 256 × 256 (with Qt's
QSvgRenderer), for platforms and Qt builds that take no SVG.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def dataset_path(name: str) -> Path:
    """A shipped dataset, e.g. ``dataset_path("sunspots.csv")``."""
    return Path(str(files(__name__) / "datasets" / name))  # installed as folders, never zipped: a real file


def icon_path() -> Path:
    """The application icon (PNG, 256 × 256), for ``QIcon``."""
    return Path(str(files(__name__) / "icon.png"))
