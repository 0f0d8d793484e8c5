"""What pyproject.toml cannot say: the packages are those found under ``lstm_studio/`` plus the
repository's top-level ``resources/`` folder installed as ``lstm_studio.resources`` (the shipped
datasets and the icon). Wheels and editable installs then carry it alike, and the app finds its
files with ``importlib.resources`` (see resources/__init__.py). Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["lstm_studio", "lstm_studio.*"]),
        "lstm_studio.resources",
        "lstm_studio.resources.datasets",  # data only, no __init__.py
    ],
    package_dir={"lstm_studio.resources": "resources"},
    package_data={
        "lstm_studio.resources": ["icon.png", "icon.svg"],
        "lstm_studio.resources.datasets": ["*.csv", "*.md"],
    },
)
