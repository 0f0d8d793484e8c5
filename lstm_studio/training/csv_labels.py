"""The time labels of a series, kept compact: one block of UTF-8 bytes and where each label ends.

Ten million labels such as ``2020-01-01T00:00`` take ~24 bytes each here (the text and an 8-byte offset) instead of
~80 as a tuple of str. ``TimeLabels`` reads like the tuple it replaces: ``len``, indexing (a str), iteration,
slicing (a tuple), ``in``, and equality with any sequence of str holding the same labels.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

ITER_BLOCK = 65536


class TimeLabels(Sequence[str]):
    """Labels, one per value of a series, in file order."""

    __slots__ = ("_ends", "_text")

    def __init__(self, text: bytes | bytearray, ends: np.ndarray) -> None:
        self._text = text  # a builder's bytearray is kept as it is: copying it would double the peak
        self._ends = ends  # (N,) int64: where each label ends in ``_text``; label k starts where k - 1 ends

    @classmethod
    def of(cls, labels: Sequence[str]) -> TimeLabels:
        """Labels from a sequence of str."""
        builder = LabelBuilder()
        for label in labels:
            builder.add(label)
        return builder.labels()

    def __len__(self) -> int:
        return len(self._ends)

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
        start = int(self._ends[k - 1]) if k else 0
        return self._text[start : int(self._ends[k])].decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        text, start = self._text, 0
        for block in range(0, len(self), ITER_BLOCK):  # plain ints a block at a time: not N of them at once
            for end in self._ends[block : block + ITER_BLOCK].tolist():
                yield text[start:end].decode("utf-8", "surrogatepass")
                start = end

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TimeLabels):
            return self._text == other._text and np.array_equal(self._ends, other._ends)
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list: equal to tuples, so it cannot hash like one

    def __repr__(self) -> str:
        shown = ", ".join(repr(label) for label in self[:3])
        return f"TimeLabels([{shown}{', …' if len(self) > 3 else ''}], {len(self)} labels)"

    def __reduce__(self):  # pickles as its two buffers, not as N strings
        return (TimeLabels, (bytes(self._text), self._ends))


class LabelBuilder:
    """Collects labels one at a time, as a file is read."""

    def __init__(self) -> None:
        self._text = bytearray()
        self._ends = array("q")

    def add(self, label: str) -> None:
        """Append one label."""
        self._text += label.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._text))

    def labels(self) -> TimeLabels:
        """The labels collected (the builder is spent: its buffers now belong to the result)."""
        ends = np.frombuffer(self._ends, dtype=np.int64) if len(self._ends) else np.zeros(0, dtype=np.int64)
        text, self._text, self._ends = self._text, bytearray(), array("q")
        return TimeLabels(text, ends)
