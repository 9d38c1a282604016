"""The rules of :mod:`fverify.fields` applied to whole columns at once, for files of a million
rows, where a Python loop over fields costs seconds.

A *simple* CSV (no quote character, no NUL, no carriage return outside CRLF line ends) splits
into fields at every comma and line end, exactly as the csv module reads it, so numpy can find
its fields in bulk. Each bulk parser returns values and a mask of the fields it vouches for.
It vouches only for plain spellings that the per-field parser reads the same way, bit for
bit; any other field (``' 1 '``, ``TRUE``, ``1e999``, a typo) is left to that parser, which
either reads it or names its line. So the bulk path never accepts what fields.py refuses.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from fverify.fields import MAX_INTEGER_DIGITS

NEWLINE, COMMA = ord("\n"), ord(",")
# Fields wider than this are parsed one by one (a float repr has at most 24 characters).
NUMBER_WIDTH = 32


@dataclass(frozen=True, eq=False)
class Grid:
    """The body of a simple CSV as a grid of fields: row ``i`` is file line ``lines[i]``
    (1-based; blank lines hold no row), the bytes ``data[row_starts[i]:row_ends[i]]``, and
    ``commas[i]`` are the positions of its field separators."""

    data: bytes
    lines: np.ndarray
    row_starts: np.ndarray
    row_ends: np.ndarray
    commas: np.ndarray

    @property
    def num_rows(self) -> int:
        return len(self.lines)

    def bounds(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        """Start and end positions of column ``column``'s field in every row."""
        starts = self.row_starts if column == 0 else self.commas[:, column - 1] + 1
        ends = self.row_ends if column == self.commas.shape[1] else self.commas[:, column]
        return starts, ends

    def row(self, index: int) -> list[str]:
        """Row ``index`` as the csv module gives it: its fields as text."""
        return self.data[self.row_starts[index]:self.row_ends[index]].decode("utf-8").split(",")

    def texts(self, column: int) -> list[str]:
        """Column ``column`` as text, one entry per row."""
        data = self.data
        starts, ends = self.bounds(column)
        return [data[start:end].decode("utf-8") for start, end in zip(starts.tolist(), ends.tolist())]

    def matrix(self, column: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Column ``column`` as a ``(rows, width)`` byte matrix, each field left-aligned and
        zero-padded (a longer field is cut: callers check the lengths), and its field lengths."""
        starts, ends = self.bounds(column)
        lengths = ends - starts
        # Every window of ``width`` bytes as one item: picking a field copies its bytes at once.
        windows = np.ndarray(shape=(len(self.data) + 1,), dtype=f"S{width}",
                             buffer=self.data + bytes(width), strides=(1,))
        matrix = windows[starts].view(np.uint8).reshape(-1, width)
        matrix *= np.arange(width) < lengths[:, None]
        return matrix, lengths


def simple_grid(data: bytes, num_columns: int) -> Grid | None:
    """The grid of ``data`` (a CSV file's bytes after any BOM) below its one-line header, or
    None when the file is not simple, a non-blank body line has other than ``num_columns``
    fields, or a line is longer than the csv module's field limit: the csv module then reads
    it, to report the first bad line exactly."""
    if b'"' in data or b"\0" in data:
        return None
    if b"\r" in data:
        if data.count(b"\r") != data.count(b"\r\n"):
            return None  # a bare CR ends a line for the csv module
        data = data.replace(b"\r\n", b"\n")
    buffer = np.frombuffer(data, dtype=np.uint8)
    line_ends = np.flatnonzero(buffer == NEWLINE)
    if len(data) and data[-1] != NEWLINE:
        line_ends = np.append(line_ends, len(data))  # the last line has no line end
    line_starts = np.concatenate(([0], line_ends[:-1] + 1))
    commas = np.flatnonzero(buffer == COMMA)
    commas_per_line = np.diff(np.searchsorted(commas, line_ends), prepend=0)
    rows = 1 + np.flatnonzero(line_ends[1:] > line_starts[1:])  # blank lines are no rows
    if np.any(commas_per_line[rows] != num_columns - 1):
        return None
    if len(rows) and int((line_ends[rows] - line_starts[rows]).max()) > csv.field_size_limit():
        return None
    # Every row holds exactly num_columns - 1 commas, in file order after the header's.
    first = commas_per_line[0] if len(line_ends) else 0
    row_commas = commas[first:].reshape(len(rows), num_columns - 1)
    return Grid(data, rows + 1, line_starts[rows], line_ends[rows], row_commas)


def _width(grid: Grid, column: int, most: int) -> int:
    """The matrix width for a column: its longest field, at most ``most``, at least 1."""
    if not grid.num_rows:
        return 1
    starts, ends = grid.bounds(column)
    return max(1, min(most, int((ends - starts).max())))


def _number_characters(matrix: np.ndarray) -> np.ndarray:
    """Per row: every byte is one of ``0-9 + - . e E`` or the zero padding. A field of only
    these is a float spelling or nothing, both for fields.number (regex, then float) and for
    numpy's float cast (the same C parser as float()). Comparisons, not a lookup table: a
    table lookup of every byte costs several times as much."""
    # uint8 arithmetic wraps, so m - 43 <= 14 is exactly 43 <= m <= 57: + , - . / 0-9, less
    # the comma and the slash.
    allowed = ((matrix - ord("+")) <= ord("9") - ord("+")) & (matrix != ord(",")) & (matrix != ord("/"))
    allowed |= (matrix | 0x20) == ord("e")
    allowed |= matrix == 0
    return allowed.all(axis=1)


def _digits(matrix: np.ndarray) -> np.ndarray:
    """Per row: every byte is an ASCII digit or the zero padding."""
    return (((matrix - ord("0")) <= 9) | (matrix == 0)).all(axis=1)


def numbers(grid: Grid, column: int) -> tuple[np.ndarray, np.ndarray]:
    """Floats of a column and the mask of fields read in bulk: 1 to 32 characters of
    ``0-9 + - . e E`` that float() reads (the values float() gives, bit for bit)."""
    matrix, lengths = grid.matrix(column, _width(grid, column, NUMBER_WIDTH))
    width = matrix.shape[1]
    vouched = (lengths > 0) & (lengths <= width) & _number_characters(matrix)
    values = np.zeros(grid.num_rows)
    spellings = matrix[vouched].view(f"S{width}").ravel()
    try:
        values[vouched] = spellings.astype(np.float64)
    except ValueError:  # some spelling is no number ('1e', '1-2'): find which, one by one
        readable = np.array([_float_or_nan(spelling) for spelling in spellings.tolist()])
        index = np.flatnonzero(vouched)
        vouched[index[np.isnan(readable)]] = False
        values[vouched] = readable[~np.isnan(readable)]
    return values, vouched


def _float_or_nan(spelling: bytes) -> float:
    # Only spellings of number characters come here, so NaN cannot be a value read.
    try:
        return float(spelling)
    except ValueError:
        return float("nan")


def integers(grid: Grid, column: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative integers of a column and the mask of fields read in bulk: 1 to 18 ASCII
    digits, nothing else."""
    matrix, lengths = grid.matrix(column, _width(grid, column, MAX_INTEGER_DIGITS))
    width = matrix.shape[1]
    vouched = (lengths > 0) & (lengths <= width) & _digits(matrix)
    values = np.zeros(grid.num_rows, dtype=np.int64)
    for position in range(width):  # Horner's rule over the left-aligned digits
        digit = matrix[:, position].astype(np.int64) - ord("0")
        np.copyto(values, values * 10 + digit, where=position < lengths)
    return np.where(vouched, values, 0), vouched


def labels(grid: Grid, column: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels of a column and the mask of fields read in bulk: exactly ``1`` or ``0``."""
    matrix, lengths = grid.matrix(column, 1)
    vouched = (lengths == 1) & ((matrix[:, 0] == ord("1")) | (matrix[:, 0] == ord("0")))
    return matrix[:, 0] == ord("1"), vouched


def short_text_keys(grid: Grid, column: int) -> np.ndarray | None:
    """One integer per field of a column, equal exactly when the fields' texts with surrounding
    whitespace stripped are equal: the field's bytes, zero-padded to 8, as one uint64 (a field
    holds no NUL, so padding cannot make two fields equal). None unless every field has at most
    8 bytes and begins and ends with a printable ASCII character (nothing to strip)."""
    starts, ends = grid.bounds(column)
    lengths = ends - starts
    if not grid.num_rows or int(lengths.max()) > 8:
        return None
    buffer = np.frombuffer(grid.data, dtype=np.uint8)
    filled = lengths > 0
    edges = np.concatenate((buffer[starts[filled]], buffer[ends[filled] - 1]))
    if np.any((edges <= ord(" ")) | (edges > ord("~"))):
        return None
    return grid.matrix(column, 8)[0].view(np.uint64).ravel()
