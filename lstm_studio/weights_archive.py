"""Reading a stranger's ``.npz`` with every cost bounded before it is paid.

``np.load`` trusts an archive: it inflates a member to whatever size it holds, allocates whatever
shape a header claims, and lets the last of two members with one name win. Here the zip directory's
size, every member's name, compression and declared size, and every ``.npy`` header are checked
first; data is then read in chunks, never past what was declared, into arrays the caller allocated.
Errors are ``ArchiveError`` with one line that leaves out the file's name, which the caller adds.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import IO

import numpy as np

# A weights file's zip directory lists at most 67 members of about 100 bytes: 64 KiB is ample, and
# it bounds how many entries zipfile parses (each costs far more memory than its 46 bytes on disk).
MAX_DIRECTORY_BYTES = 64 * 1024
MAX_NPY_HEADER_BYTES = 10_000  # numpy's own limit for the header of a file it does not trust
READ_CHUNK_BYTES = 1 << 22  # data is read, checked and copied this much at a time
NOT_AN_ARCHIVE = "not a weights file (truncated or not an .npz archive)"
NPY_MAGIC = b"\x93NUMPY"
READ_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what np.savez and np.savez_compressed write

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory: signature, disks, counts, size, offset, comment
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # signature, disk, offset of the zip64 record, disks
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # signature, size, versions, disks, counts, size, offset
_FILE_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX: opening a FIFO for reading returns at once
_OPEN_FLAGS = os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0)


class ArchiveError(ValueError):
    """What is wrong with an archive, in one line and without the file's name."""


def special_file_kind(mode: int) -> str | None:
    """'a folder', 'a FIFO', 'a character device'…, or None for a regular file (``st_mode``)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    return _FILE_KINDS.get(stat.S_IFMT(mode), "not a file")


def shown(text: str, limit: int = 80) -> str:
    """A name or message from a file, safe to print: one line, at most ``limit`` characters."""
    if text.isprintable() and len(text) <= limit:
        return text
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


@dataclass(frozen=True)
class Member:
    """One ``.npy`` member as its header describes it; nothing of its data has been read."""

    name: str  # without ".npy"
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    header_bytes: int  # magic, length and header text

    def check_size(self) -> None:
        """Refuse a member whose declared size is not exactly its header plus the data it describes."""
        described = self.header_bytes + prod(self.shape) * self.dtype.itemsize
        if self.info.file_size != described:
            raise ArchiveError(
                f"{shown(self.name)}.npy declares {self.info.file_size:,} bytes, "
                f"but its .npy header describes {_count(described)}"
            )


class NpzArchive:
    """An open ``.npz`` whose member names are unique ``<name>.npy`` and whose compression is readable."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive
        self._infos = _checked_infos(archive.infolist())

    @property
    def names(self) -> list[str]:
        """The members' names without ``.npy``, in archive order."""
        return list(self._infos)

    def member(self, name: str) -> Member:
        """The member ``name`` as its header describes it, reading nothing but the header."""
        info = self._infos[name]
        with self._reading(name), self._zip.open(info) as stream:
            shape, fortran_order, dtype, header_bytes = _read_npy_header(stream, name)
        return Member(name, info, shape, dtype, fortran_order, header_bytes)

    def read_bytes(self, member: Member) -> bytes:
        """The data of a small member, exactly as many bytes as declared."""
        member.check_size()
        with self._reading(member.name), self._zip.open(member.info) as stream:
            _read_exactly(stream, member.header_bytes, member.name)
            data = _read_exactly(stream, member.info.file_size - member.header_bytes, member.name)
            _expect_end(stream, member.name)
        return data

    def read_finite_into(self, member: Member, out: np.ndarray) -> None:
        """Copy the member's values into ``out`` (its shape) chunk by chunk; refuse NaN and infinity."""
        if not out.shape or tuple(out.shape) != member.shape:
            raise ValueError(f"cannot read {member.shape} values into an array of shape {out.shape}")
        member.check_size()
        rows = out.T if member.fortran_order else out  # Fortran-order data is the C order of the transpose
        row_bytes = prod(rows.shape[1:]) * member.dtype.itemsize
        step = max(1, READ_CHUNK_BYTES // row_bytes)
        with self._reading(member.name), self._zip.open(member.info) as stream:
            _read_exactly(stream, member.header_bytes, member.name)
            for start in range(0, rows.shape[0], step):
                stop = min(start + step, rows.shape[0])
                data = _read_exactly(stream, (stop - start) * row_bytes, member.name)
                values = np.frombuffer(data, dtype=member.dtype).reshape((stop - start, *rows.shape[1:]))
                if not np.isfinite(values).all():
                    raise ArchiveError(f"{shown(member.name)} holds NaN or infinite values")
                rows[start:stop] = values
            _expect_end(stream, member.name)

    @contextmanager
    def _reading(self, name: str) -> Iterator[None]:
        """Turn what zipfile, zlib and numpy raise on a damaged member into one ArchiveError."""
        try:
            yield
        except ArchiveError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error, NotImplementedError) as exc:
            raise ArchiveError(f"{shown(name)}.npy is damaged ({shown(str(exc))})") from exc
        except OSError as exc:
            raise ArchiveError(f"cannot be read ({exc.strerror or exc})") from exc


@contextmanager
def open_npz(path: Path) -> Iterator[NpzArchive]:
    """Open ``path`` as an archive after checking that it is a regular file with a small zip directory."""
    with _open_regular_file(path) as f:
        _check_directory_size(f)
        try:
            archive = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, EOFError, ValueError, struct.error) as exc:
            raise ArchiveError(NOT_AN_ARCHIVE) from exc
        except NotImplementedError as exc:  # e.g. "zip file version 6.4"
            raise ArchiveError(f"uses a zip feature this reader lacks ({shown(str(exc))})") from exc
        except OSError as exc:
            raise ArchiveError(f"cannot be read ({exc.strerror or exc})") from exc
        with archive:
            yield NpzArchive(archive)


@contextmanager
def _open_regular_file(path: Path) -> Iterator[IO[bytes]]:
    """Open ``path`` for reading only if it is a regular file: opening a FIFO could block for ever."""
    try:
        _refuse_special(os.stat(path).st_mode)
        fd = os.open(path, _OPEN_FLAGS)  # non-blocking: a FIFO swapped in since the stat cannot hang us
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ArchiveError("no such file") from exc
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise ArchiveError(f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from exc
    with os.fdopen(fd, "rb") as f:
        _refuse_special(os.fstat(fd).st_mode)  # what was opened, not what the name pointed to before
        if _NONBLOCK:
            os.set_blocking(fd, True)
        yield f


def _refuse_special(mode: int) -> None:
    kind = special_file_kind(mode)
    if kind == "a folder":
        raise ArchiveError("is a folder, not a weights file")
    if kind:
        raise ArchiveError(f"is not a regular file ({kind})")


def _check_directory_size(f: IO[bytes]) -> None:
    """Refuse a zip directory larger than a weights file needs, before zipfile parses every entry of it.

    The end record is found the way zipfile finds it (the last 22 bytes, else the last signature within
    a maximal comment), and each directory size it may use (the end record's, a zip64 record's) is bounded.
    """
    size = f.seek(0, os.SEEK_END)
    start = max(0, size - _EOCD.size - 0xFFFF)
    f.seek(start)
    tail = f.read()
    at = len(tail) - _EOCD.size
    if at < 0 or not (tail[at : at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise ArchiveError(NOT_AN_ARCHIVE)
    sizes = [_EOCD.unpack_from(tail, at)[5], *_zip64_directory_sizes(f, start + at)]
    if max(sizes) > MAX_DIRECTORY_BYTES:
        raise ArchiveError(
            f"its zip directory takes {max(sizes):,} bytes; a weights file's takes at most {MAX_DIRECTORY_BYTES:,}"
        )


def _zip64_directory_sizes(f: IO[bytes], end_record: int) -> list[int]:
    """The directory sizes of the zip64 records an end record at ``end_record`` may point to."""
    locator = end_record - _ZIP64_LOCATOR.size
    if locator < 0:
        return []
    f.seek(locator)
    signature, _, offset, _ = _ZIP64_LOCATOR.unpack(f.read(_ZIP64_LOCATOR.size))
    if signature != b"PK\x06\x07":
        return []
    sizes = []
    for record in {locator - _ZIP64_EOCD.size, offset}:  # zipfile reads the adjacent one; others the offset
        if 0 <= record <= locator - _ZIP64_EOCD.size:
            f.seek(record)
            fields = _ZIP64_EOCD.unpack(f.read(_ZIP64_EOCD.size))
            if fields[0] == b"PK\x06\x06":
                sizes.append(fields[8])
    return sizes


def _checked_infos(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The members by name without ``.npy``; refuse a repeated name, a non-array and an unreadable member."""
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise ArchiveError(f"the member {shown(info.filename)} appears twice; refusing to guess which one counts")
        seen.add(info.filename)
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            raise ArchiveError(f"{shown(name)} is not an array (a foreign file in the archive)")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{shown(name)} is encrypted")
        if info.compress_type not in READ_COMPRESSIONS:
            raise ArchiveError(f"{shown(name)} uses compression method {info.compress_type}; only stored or deflated")
    return {info.filename[: -len(".npy")]: info for info in infos}


def _read_npy_header(stream: IO[bytes], name: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, Fortran order, dtype and total header length, from a header at most MAX_NPY_HEADER_BYTES long."""
    magic = _read_exactly(stream, len(NPY_MAGIC) + 2, name)
    if magic[: len(NPY_MAGIC)] != NPY_MAGIC:
        raise ArchiveError(f"{shown(name)}.npy is not an array (no .npy header)")
    version = (magic[-2], magic[-1])
    if version not in ((1, 0), (2, 0)):
        raise ArchiveError(f"{shown(name)}.npy uses .npy format version {version[0]}.{version[1]}, which is not read")
    length_format = "<H" if version == (1, 0) else "<I"
    raw_length = _read_exactly(stream, struct.calcsize(length_format), name)
    (length,) = struct.unpack(length_format, raw_length)
    if length > MAX_NPY_HEADER_BYTES:
        raise ArchiveError(f"{shown(name)}.npy has a {length:,}-byte header; the limit is {MAX_NPY_HEADER_BYTES:,}")
    header = io.BytesIO(magic + raw_length + _read_exactly(stream, length, name))
    np.lib.format.read_magic(header)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        shape, fortran_order, dtype = read(header)
    except (ValueError, TypeError, SyntaxError, RecursionError, OverflowError, MemoryError) as exc:
        raise ArchiveError(f"{shown(name)}.npy has an unreadable header ({shown(str(exc))})") from exc
    return shape, fortran_order, dtype, header.tell()


def _read_exactly(stream: IO[bytes], size: int, name: str) -> bytes:
    """``size`` bytes of a member, or ArchiveError if it ends before."""
    data = stream.read(size)
    if len(data) != size:
        raise ArchiveError(f"{shown(name)}.npy ends early (truncated)")
    return data


def _expect_end(stream: IO[bytes], name: str) -> None:
    """Refuse a member that goes on past its declared size (reaching the end also checks its CRC)."""
    if stream.read(1):
        raise ArchiveError(f"{shown(name)}.npy holds more than it declares")


def _count(n: int) -> str:
    return f"{n:,}" if abs(n) < 10**30 else "far more"
