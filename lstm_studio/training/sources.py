"""Where a weights file says its CSV is, without leaking the user's folders or trusting the file.

A weights file is shared. It records the CSV it was trained on relative to its own folder when
the CSV lies in that folder or below it, and otherwise by name only, so it never carries the
path of a folder outside its own. It also records the CSV's SHA-256: a CSV found by what a
weights file says is read only when its contents are the ones trained on, so a crafted weights
file cannot make the app read an arbitrary file and echo it in an error message.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePath

HASH_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def portable_path(csv_path: str, saved_in: Path) -> str:
    """How a weights file in folder ``saved_in`` records ``csv_path``: relative when inside, else the name."""
    csv, folder = Path(csv_path).resolve(), saved_in.resolve()
    if csv.is_relative_to(folder):
        return csv.relative_to(folder).as_posix()
    return csv.name


def recorded_path(recorded: str, saved_in: Path) -> Path:
    """The file a record in a weights file in ``saved_in`` names: inside that folder, always.

    A record that is absolute, names a drive or climbs out with '..' (an older file, or a
    crafted one) is looked for by its name beside the weights file.
    """
    path = PurePath(recorded.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0].endswith(":"):
        path = PurePath(path.name)
    return saved_in / path
