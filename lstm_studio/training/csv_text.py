"""A CSV file as lines of text: the file checked, opened without blocking, and decoded in the encoding it is in.

- **UTF-16** with a byte-order mark (Excel's "Unicode text" export) is decoded as UTF-16, little- or big-endian as
  the mark says. UTF-32 is refused, and so is a NUL character in the text.
- **UTF-8**, with or without a byte-order mark, is what every other file is read as, as long as it is valid UTF-8.
- **Windows-1252**: a file that is not valid UTF-8 is read as Windows-1252 (what Excel and Notepad save on a Western
  Windows; Latin-1 for the five bytes it leaves undefined), so every byte is a character. This is decided at the
  file's first byte that is not UTF-8: the lines above it were ASCII, the same in both. When UTF-8 text that is not
  ASCII (or a UTF-8 byte-order mark) comes before that byte, the file mixes encodings (a UTF-8 file with a damaged
  byte, or two files pasted together) and is refused, naming the byte.
- A NUL byte outside UTF-16 is refused: such a file is binary, or UTF-16 without a byte-order mark.

Lines end in LF, CRLF or a lone CR; each line is given with its ending. The encoding used is known once every line
has been read (``TextFile.encoding``), as a name Python's codecs know: "utf-8", "utf-16-le", "utf-16-be" or
"windows-1252".
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Iterator
from typing import BinaryIO

UTF8, CP1252, UTF16_LE, UTF16_BE = "utf-8", "windows-1252", "utf-16-le", "utf-16-be"
CHUNK_BYTES = 1 << 16  # UTF-16 files are decoded this many bytes at a time

_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")  # a CR not followed by LF ends a line too
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = {b"\xff\xfe": UTF16_LE, b"\xfe\xff": UTF16_BE}
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
# Windows-1252, with the bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) read as Latin-1 does
_CP1252_TABLE = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))


class CsvError(ValueError):
    """A CSV file that cannot be read as a series; the message names the file, line and column."""


# ----- the file: checked, then opened --------------------------------------------------------------------------
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device", stat.S_IFSOCK: "a socket"}


def _check_regular(name: str, mode: int) -> None:
    """CsvError unless ``mode`` is a regular file's."""
    if stat.S_ISDIR(mode):
        raise CsvError(f"{name}: is a folder, not a file")
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "a special file")
        raise CsvError(f"{name}: is not a regular file (it is {kind})")


def open_file(path: str | os.PathLike[str], name: str) -> BinaryIO:
    """The file, open for reading. Its kind is checked before opening, and the open never waits (a FIFO would
    block until a writer comes), then checked again on what was opened, in case the path changed in between."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the path
        raise CsvError(f"{name}: no such file") from None
    except OSError as exc:
        raise CsvError(f"{name}: cannot be read ({exc.strerror})") from None
    _check_regular(name, mode)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise CsvError(f"{name}: cannot be read ({exc.strerror})") from None
    try:
        _check_regular(name, os.fstat(descriptor).st_mode)
    except CsvError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


# ----- the text ------------------------------------------------------------------------------------------------
class TextFile:
    """The lines of an open file as text, endings kept, read one at a time (``lines``); ``encoding`` says how they
    were decoded, final once the last line has been read."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self._handle = handle
        self._name = name
        start = handle.peek(4)[:4] if hasattr(handle, "peek") else b""
        if start.startswith(_UTF32_BOMS):
            raise CsvError(f"{name}: not a text file this reader takes (it is UTF-32: save it as UTF-8)")
        self.encoding = _UTF16_BOMS.get(start[:2], UTF8)
        self._mark_bytes = 2 if self.encoding != UTF8 else 0  # the byte-order mark, skipped
        if self.encoding == UTF8 and len(start) == 4:  # ASCII text saved as UTF-16 without a mark: every other byte NUL
            if start[1] == start[3] == 0 and start[0] and start[2]:
                self.encoding = UTF16_LE
            elif start[0] == start[2] == 0 and start[1] and start[3]:
                self.encoding = UTF16_BE
        self._utf8_seen = False  # UTF-8 beyond ASCII read so far: the file can no longer turn out Windows-1252

    def fraction_read(self) -> float:
        """How much of the file has been read, from 0 to 1 (for a progress display)."""
        try:
            return min(self._handle.tell() / max(os.fstat(self._handle.fileno()).st_size, 1), 1.0)
        except (OSError, ValueError):
            return 0.0

    def lines(self) -> Iterator[str]:
        """The file's lines, each with its ending."""
        return self._utf16_lines() if self.encoding != UTF8 else self._byte_lines()

    # UTF-8, or Windows-1252 from the first byte that is not UTF-8 on
    def _byte_lines(self) -> Iterator[str]:
        offset, line = 0, 0
        for raw in self._handle:
            for piece in _LONE_CR.split(raw) if b"\r" in raw else (raw,):
                if not piece:
                    continue
                if line == 0 and piece.startswith(_UTF8_BOM):
                    piece, offset, self._utf8_seen = piece[len(_UTF8_BOM) :], len(_UTF8_BOM), True
                line += 1
                yield self._decoded(piece, line, offset)
                offset += len(piece)

    def _decoded(self, raw: bytes, line: int, offset: int) -> str:
        """One line as text; CsvError naming the line and byte offset of a NUL, or of a byte that is not UTF-8 in a
        file that has UTF-8 before it."""
        nul = raw.find(b"\0")
        if nul >= 0:
            raise CsvError(f"{self._name}, line {line}: not a text file (byte {offset + nul} is NUL)")
        if self.encoding == UTF8:
            try:
                text = raw.decode(UTF8)
            except UnicodeDecodeError as exc:
                if self._utf8_seen or not raw[: exc.start].isascii():
                    raise CsvError(
                        f"{self._name}, line {line}: the file mixes encodings (byte {offset + exc.start} is not "
                        "UTF-8, but text before it is)"
                    ) from None
                self.encoding = CP1252  # every line so far was ASCII: the same in Windows-1252
            else:
                self._utf8_seen = self._utf8_seen or not raw.isascii()
                return text
        return codecs.charmap_decode(raw, "strict", _CP1252_TABLE)[0]

    # UTF-16, after its byte-order mark
    def _utf16_lines(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        read, line, pending = 0, 0, ""
        self._handle.read(self._mark_bytes)
        while True:
            chunk = self._handle.read(CHUNK_BYTES)
            before = decoder.getstate()[0]  # bytes of the last chunk not decoded yet
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                good = codecs.decode((before + chunk)[: exc.start], self.encoding, errors="replace")
                where = line + 1 + len(_LINE_BREAK.findall(pending + good))
                byte = self._mark_bytes + read - len(before) + exc.start  # the mark, the chunks decoded, then this one
                raise CsvError(f"{self._name}, line {where}: not a text file (byte {byte} is not UTF-16)") from None
            read += len(chunk)
            text, start = pending + text, 0
            for match in _LINE_BREAK.finditer(text):
                if chunk and match.group() == "\r" and match.end() == len(text):
                    break  # an LF may follow in the next chunk
                line += 1
                yield self._checked(text[start : match.end()], line)
                start = match.end()
            pending = text[start:]
            if not chunk:
                if pending:
                    yield self._checked(pending, line + 1)
                return

    def _checked(self, text: str, line: int) -> str:
        """A decoded line; CsvError if it holds a NUL character."""
        if "\0" in text:
            raise CsvError(f"{self._name}, line {line}: not a text file (it holds a NUL character)")
        return text
