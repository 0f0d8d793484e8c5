"""The weights file (Contract 2): an ``.npz`` of PyTorch-named arrays plus a JSON ``meta``.

Writes are atomic, refuse non-finite weights and never replace anything but a regular file, nor a
file the run reads. Loads treat the file as a stranger's: nothing is unpickled, and the model
description, every member's name, declared size, shape and dtype are checked before anything is
allocated or decompressed (see ``weights_archive``); values are checked finite as they are read.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.core.model import parameter_shapes
from lstm_studio.weights_archive import ArchiveError, Member, NpzArchive, open_npz, shown, special_file_kind

META_KEY = "meta"
FORMAT = {"name": "lstm-studio-weights", "version": 1}
# A run's meta is a few kilobytes of JSON; a MiB of text is far beyond any real record.
MAX_META_CHARS = 1 << 20
MAX_NUMBER_CHARS = 100  # one number in meta: no float needs 30; bounds int parsing, quadratic in digits

PathLike = str | os.PathLike


class WeightsError(ValueError):
    """A weights file that cannot be written or read; the message names what is wrong."""


# ----- writing ------------------------------------------------------------------------------
def check_target(path: PathLike, inputs: Iterable[PathLike] = ()) -> Path:
    """The path to write weights to, if writing there is safe; WeightsError with the reason otherwise.

    Called before a long run (so that it does not end in a refusal) and again by ``save_weights``.
    Only a new name or an existing regular file is ever replaced: never a folder, a device, a FIFO
    or a socket (a symbolic link to one is refused alike), and never a file the run reads.
    """
    text = os.fsdecode(path)
    if not text:
        raise WeightsError("give a file name for the weights")
    if "\0" in text:
        raise WeightsError(f"cannot write {text!r}: a file name cannot hold a NUL character")
    if text.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)):
        raise WeightsError(f"cannot write {text}: it names a folder; give a file name")
    target = Path(text)
    _check_folder(target)
    _check_replaceable(target)
    _check_not_an_input(target, inputs)
    return target


def save_weights(
    path: PathLike, model: LSTMModel, meta: dict | None = None, *, inputs: Iterable[PathLike] = ()
) -> Path:
    """Write ``model`` and ``meta`` to ``path`` atomically; return the path written.

    The ``format`` and ``model`` entries of ``meta`` are always set from the model, so a
    file can never describe a different network than the one it holds. ``inputs`` are the files
    the run read: the weights are never written over one of them.
    """
    inputs = list(inputs)
    target = check_target(path, inputs)
    state = model.state_dict()
    bad = [name for name, array in state.items() if not np.all(np.isfinite(array))]
    if bad:
        raise WeightsError(f"refusing to save non-finite weights ({', '.join(bad)})")
    text = _meta_text({**(meta or {}), "format": dict(FORMAT), "model": model.config()})
    write_atomically(target, lambda f: np.savez(f, **state, **{META_KEY: np.array(text)}), inputs)
    return target


def _check_folder(target: Path) -> None:
    folder = target.parent
    try:
        mode = os.stat(folder).st_mode
    except FileNotFoundError:
        raise WeightsError(f"cannot write {target}: folder {folder} does not exist") from None
    except OSError as exc:
        raise WeightsError(f"cannot write {target}: {exc.strerror or exc}") from exc
    if special_file_kind(mode) != "a folder":
        raise WeightsError(f"cannot write {target}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WeightsError(f"cannot write {target}: folder {folder} is not writable")


def _check_replaceable(target: Path) -> None:
    """Refuse an existing target that is not a regular file (following links: a link to a device counts)."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return  # a new name (or a dangling link, which the rename replaces, not its target)
    except OSError as exc:
        raise WeightsError(f"cannot write {target}: {exc.strerror or exc}") from exc
    kind = special_file_kind(mode)
    if kind == "a folder":
        raise WeightsError(f"cannot write {target}: it is a folder; give a file name")
    if kind:
        raise WeightsError(f"cannot write {target}: it is {kind}, not a regular file; only files are replaced")


def _check_not_an_input(target: Path, inputs: Iterable[PathLike]) -> None:
    """Refuse a target that is the same file as an input: same path, a symbolic or a hard link."""
    try:
        own = os.stat(target)
    except OSError:
        return  # nothing there yet, so nothing the run reads
    for source in inputs:
        try:
            same = os.path.samestat(own, os.stat(source))
        except (OSError, ValueError):  # an input that is not there (or not a name) is not this file
            continue
        if same:
            raise WeightsError(
                f"refusing to write the weights over {target}: it is the same file as {os.fsdecode(source)}, "
                "which this run reads"
            )


def _meta_text(record: dict) -> str:
    """``record`` as JSON, refused here if ``load_weights`` would refuse it (never write an unreadable file)."""
    try:
        text = json.dumps(record, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise WeightsError(f"meta cannot be stored as JSON: {exc}") from exc
    try:
        _parse_meta(text)
    except ArchiveError as exc:
        raise WeightsError(f"meta cannot be stored: {exc}") from exc
    return text


def write_atomically(target: Path, write: Callable[[IO[bytes]], None], inputs: list[PathLike]) -> None:
    """Write to a new temporary file beside ``target``, then rename it over ``target``.

    A crash never leaves half a file, and every exit Python sees (an error, Ctrl-C, SystemExit from
    a signal handler) removes the temporary file. It is created like any new file (0666 less the umask).
    """
    tmp = target.with_name(f".{target.name[:200]}.{secrets.token_hex(8)}.tmp")  # within NAME_MAX
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        check_target(target, inputs)  # again: the target may have changed during the write
        os.replace(tmp, target)
    except FileExistsError as exc:  # the random name is someone else's file: leave it alone
        raise WeightsError(f"cannot write {target}: {tmp.name} exists already") from exc
    except OSError as exc:
        _discard(tmp)
        raise WeightsError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


# ----- reading ------------------------------------------------------------------------------
def load_weights(path: PathLike) -> tuple[LSTMModel, dict]:
    """Read a weights file into a new model; WeightsError with one clear reason otherwise.

    In this order: the file must be a regular file holding a zip archive with a small directory,
    unique ``.npy`` members and a bounded ``meta`` that describes a model within the limits of
    ``lstm_studio.core.model``; every array's header must then match that model exactly, and only
    then is the model allocated and filled, chunk by chunk, with values that must all be finite.
    """
    path = Path(path)
    try:
        with open_npz(path) as archive:
            meta = _read_meta(archive)
            shapes = _expected_shapes(meta)
            members = _check_members(archive, shapes, np.dtype(meta["model"]["dtype"]))
            model = LSTMModel.from_config(meta["model"])
            for name, parameter in model.parameters().items():
                archive.read_finite_into(members[name], parameter)
    except ArchiveError as exc:
        raise WeightsError(f"{path}: {exc}") from exc
    return model, meta


def _read_meta(archive: NpzArchive) -> dict:
    if META_KEY not in archive.names:
        raise ArchiveError(f"no '{META_KEY}' record; not an LSTM Studio weights file")
    member = archive.member(META_KEY)
    if member.shape != () or member.dtype.kind != "U":
        raise ArchiveError(f"'{META_KEY}' must be a 0-d unicode array holding JSON")
    chars = member.dtype.itemsize // 4
    if chars > MAX_META_CHARS:
        raise ArchiveError(f"'{META_KEY}' holds {chars:,} characters; the limit is {MAX_META_CHARS:,}")
    codec = "utf-32-be" if member.dtype.str.startswith(">") else "utf-32-le"
    try:
        text = archive.read_bytes(member).decode(codec).rstrip("\0")  # numpy pads with NULs
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"'{META_KEY}' is not valid text ({exc.reason})") from exc
    return _parse_meta(text)


def _parse_meta(text: str) -> dict:
    """The JSON object ``text`` holds, with its ``format`` checked: strict JSON, bounded in size."""
    if len(text) > MAX_META_CHARS:
        raise ArchiveError(f"'{META_KEY}' holds {len(text):,} characters; the limit is {MAX_META_CHARS:,}")
    try:
        meta = json.loads(
            text,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError as exc:
        raise ArchiveError(f"'{META_KEY}' is nested too deeply") from exc
    except ArchiveError:
        raise
    except ValueError as exc:
        raise ArchiveError(f"'{META_KEY}' is not valid JSON ({getattr(exc, 'msg', exc)})") from exc
    if not isinstance(meta, dict):
        raise ArchiveError(f"'{META_KEY}' must be a JSON object")
    _check_format(meta.get("format"))
    return meta


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise ArchiveError(f"'{META_KEY}' holds a number of {len(text):,} digits")
    return int(text)


def _finite_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS or not math.isfinite(value := float(text)):
        raise ArchiveError(f"'{META_KEY}' holds a number a float cannot hold ({shown(text, 30)})")
    return value


def _refuse_constant(text: str) -> None:
    raise ArchiveError(f"'{META_KEY}' holds {text}, which JSON does not allow")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    record: dict = {}
    for key, value in pairs:
        if key in record:
            raise ArchiveError(f"'{META_KEY}' gives {shown(key)!r} twice; refusing to guess which one counts")
        record[key] = value
    return record


def _check_format(fmt: object) -> None:
    if fmt is None:
        raise ArchiveError(f"not an LSTM Studio weights file ('{META_KEY}' names no format)")
    if not isinstance(fmt, dict) or fmt.get("name") != FORMAT["name"]:
        name = fmt.get("name") if isinstance(fmt, dict) else fmt
        raise ArchiveError(f"not an LSTM Studio weights file (format {_brief(name)})")
    version = fmt.get("version")
    if type(version) is not int or version != FORMAT["version"]:
        raise ArchiveError(f"format version {_brief(version)} is not supported (this build reads {FORMAT['version']})")
    unknown = [key for key in fmt if key not in FORMAT]
    if unknown:
        raise ArchiveError(f"the format record holds an unknown entry {shown(unknown[0])!r}")


def _brief(value: object) -> str:
    """A JSON value for a message: one short line, never the whole of a stranger's data."""
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    text = json.dumps(value)  # a string, a number, true, false or null; newlines come out escaped
    return text if len(text) <= 40 else text[:37] + "..."


def _expected_shapes(meta: dict) -> dict[str, tuple[int, ...]]:
    try:
        return parameter_shapes(meta.get("model"))
    except ValueError as exc:
        raise ArchiveError(f"the model description in meta is invalid: {exc}") from exc


def _check_members(archive: NpzArchive, shapes: dict[str, tuple[int, ...]], dtype: np.dtype) -> dict[str, Member]:
    """Every array the model needs, its header checked against it; no other member besides meta."""
    present = archive.names
    missing = [name for name in shapes if name not in present]
    if missing:
        raise ArchiveError(f"missing array {missing[0]}")
    unexpected = [name for name in present if name not in shapes and name != META_KEY]
    if unexpected:
        raise ArchiveError(f"unexpected array {shown(unexpected[0])}")
    members = {name: archive.member(name) for name in shapes}
    for name, shape in shapes.items():
        _check_array(members[name], shape, dtype)
    return members


def _check_array(member: Member, shape: tuple[int, ...], dtype: np.dtype) -> None:
    name, got = member.name, member.dtype
    if got.hasobject:
        raise ArchiveError(f"{name} is an object array; object arrays are never loaded (allow_pickle=False)")
    if got.kind == "f" and got.str.startswith(">") and got.itemsize == dtype.itemsize:
        raise ArchiveError(f"{name} is big-endian {dtype.name}; weights files are little-endian")
    if got != dtype.newbyteorder("<"):
        raise ArchiveError(f"{name} is {shown(str(got), 40)}, the model is {dtype.name}")
    if member.shape != shape:
        raise ArchiveError(f"{name} has shape {shown(str(member.shape), 60)}, the model needs {shape}")
    member.check_size()
