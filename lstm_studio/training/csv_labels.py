"""The time labels of a series, kept compact: one block of UTF-8 bytes, and where each label ends in it.

Labels of one length in bytes (dates such as ``2020-01-01T00:00``, almost always) need no table of ends: label k
is bytes k·w to (k+1)·w, 16 bytes a label here instead of ~80 as a tuple of str. Labels of varied lengths add an
8-byte end each. ``TimeLabels`` reads like the tuple it replaces: ``len``, indexing (a str), iteration, slicing (a
tuple), ``in``, and equality with any sequence of str holding the same labels.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import overload

import numpy as np

BLOCK = 4096  # labels collected as str, then encoded together


class TimeLabels(Sequence[str]):
    """Labels, one per value of a series, in file order."""

    __slots__ = ("_count", "_ends", "_text", "_width")

    def __init__(self, text: bytes | bytearray, count: int, width: int | None, ends: np.ndarray | None) -> None:
        self._text = text  # a builder's bytearray is kept as it is: copying it would double the peak
        self._count = count
        self._width = width  # every label's length in bytes, when they all have one; else None and:
        self._ends = ends  # (count,) int64: where each label ends in ``_text``; label k starts where k - 1 ends

    @classmethod
    def of(cls, labels: Sequence[str]) -> TimeLabels:
        """Labels from a sequence of str."""
        builder = LabelBuilder()
        for label in labels:
            builder.add(label)
        return builder.labels()

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self._label(k) for k in range(*index.indices(len(self))))
        k = int(index)
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError("time label index out of range")
        return self._label(k)

    def _label(self, k: int) -> str:
        if self._width is not None:
            start, end = k * self._width, (k + 1) * self._width
        else:
            start, end = (int(self._ends[k - 1]) if k else 0), int(self._ends[k])
        return self._text[start:end].decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        text, width = self._text, self._width
        if width == 0:
            yield from repeat("", len(self))
            return
        if width is not None:
            for start in range(0, width * len(self), width):
                yield text[start : start + width].decode("utf-8", "surrogatepass")
            return
        start = 0
        for block in range(0, len(self), BLOCK):  # plain ints a block at a time, not all N at once
            for end in self._ends[block : block + BLOCK].tolist():
                yield text[start:end].decode("utf-8", "surrogatepass")
                start = end

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list: equal to tuples, so it cannot hash like one

    def __repr__(self) -> str:
        shown = ", ".join(repr(label) for label in self[:3])
        return f"TimeLabels([{shown}{', …' if len(self) > 3 else ''}], {len(self)} labels)"

    def __reduce__(self) -> tuple:  # pickles as its buffers, not as N strings
        return (TimeLabels, (bytes(self._text), self._count, self._width, self._ends))


class LabelBuilder:
    """Collects labels one at a time, as a file is read, and encodes them a block at a time."""

    def __init__(self) -> None:
        self._pending: list[str] = []
        self._text = bytearray()
        self._count = 0
        self._width: int | None = None  # the length in bytes of every label so far, while they all have one
        self._ends: array | None = None  # where each label ends, once two lengths differ

    def add(self, label: str) -> None:
        """Append one label."""
        self._pending.append(label)
        if len(self._pending) >= BLOCK:
            self._flush()

    def _flush(self) -> None:
        """Encode the pending labels: joined by NUL, which no label from a file holds (the reader refuses it)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        joined = "\0".join(pending).encode("utf-8", "surrogatepass")
        marks = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == 0)
        if len(marks) == len(pending) - 1:
            ends = np.append(marks, len(joined)) - np.arange(len(pending))  # in the block without its NULs
            block = joined.replace(b"\0", b"")
        else:  # a label holding NUL (not from a file): one at a time
            encoded = [label.encode("utf-8", "surrogatepass") for label in pending]
            ends, block = np.cumsum([len(e) for e in encoded], dtype=np.int64), b"".join(encoded)
        lengths = np.diff(ends, prepend=0)
        if self._ends is None:
            width = int(lengths[0]) if self._width is None else self._width
            if np.all(lengths == width):
                self._width = width
            else:  # lengths differ from here on: every earlier label had ``width`` bytes
                self._ends = array(
                    "q", range(width, width * self._count + 1, width or 1) if width else [0] * self._count
                )
                self._width = None
        if self._ends is not None:
            self._ends.frombytes((ends + len(self._text)).astype(np.int64).tobytes())
        self._text += block
        self._count += len(pending)

    def labels(self) -> TimeLabels:
        """The labels collected (the builder is spent: its buffers now belong to the result)."""
        self._flush()
        if self._ends is None:
            labels = TimeLabels(self._text, self._count, self._width or 0, None)
        else:
            labels = TimeLabels(self._text, self._count, None, np.frombuffer(self._ends, dtype=np.int64))
        self.__init__()
        return labels
