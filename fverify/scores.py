"""Per-pair score files: read a user's ``score,label,fold`` CSV, write fverify's scores CSV.

Reading validates everything once, naming ``file:line`` (the header is line 1), so the
metrics can trust what they get. A million-row file is read in bulk
(:mod:`fverify.bulk_fields`); any field the bulk parsers do not vouch for, and any file that is
not simple CSV, is read field by field with the same rules, so every message is the one the
field-by-field reading gives: the first bad line of the file.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fverify import bulk_fields
from fverify.atomic import atomic_open
from fverify.errors import FverifyError, at
from fverify.fields import LOWEST_FLOAT, parse_fold_id, parse_label, parse_score
from fverify.protocols.folds import check_folds, folds_of_file

if TYPE_CHECKING:
    from _csv import Reader

REQUIRED_COLUMNS = ("score", "label")
PARSED_COLUMNS = ("score", "label", "fold")
SCORES_CSV_COLUMNS = ("pair_id", "fold", "label", "score", "item1", "item2")
HEADER_FIX = "the first line must name the columns, e.g. score,label,fold (fold is optional)"
UTF8_BOM = b"\xef\xbb\xbf"


class TextColumns(Mapping[str, list[str]]):
    """The columns kept as text, by header name, each decoded on first use: a million-row
    file's item paths cost nothing unless something reads them."""

    def __init__(self, loaders: dict[str, Callable[[], list[str]]]):
        self._loaders = loaders
        self._texts: dict[str, list[str]] = {}

    def __getitem__(self, name: str) -> list[str]:
        if name not in self._texts:
            self._texts[name] = self._loaders[name]()
        return self._texts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Pair scores read from a CSV: one entry per pair, in file order.

    ``folds`` are 0-based; ``fold_base`` says whether the file counted from 0 or 1 (0 when the
    folds were derived); ``fold_rule`` records where they came from. ``lines[i]`` is the file
    line of pair ``i``; ``columns`` holds every other column by its header name (``pair_id``,
    ``item1``, ...) as text.
    """

    path: Path
    md5: str
    scores: np.ndarray
    labels: np.ndarray
    folds: np.ndarray
    fold_base: int
    fold_rule: str
    lines: np.ndarray
    columns: Mapping[str, list[str]]

    @property
    def num_pairs(self) -> int:
        return len(self.scores)


@dataclass(frozen=True, eq=False)
class _Body:
    """The parsed rows of a scores CSV; ``pair_id_keys`` are integers standing for the pair ids
    one for one (:func:`fverify.bulk_fields.short_text_keys`) when the bulk reader could make
    them, else None."""

    scores: np.ndarray
    labels: np.ndarray
    fold_ids: np.ndarray | None
    lines: np.ndarray
    columns: TextColumns
    pair_id_keys: np.ndarray | None = None


def read_scores(path: str | PathLike[str]) -> ScoreTable:
    """Read a scores CSV with a header naming ``score`` and ``label`` (and usually ``fold``).

    - ``score``: a finite number in ASCII decimal or scientific notation, higher = more alike
      (NaN, inf and the lowest float, below which no threshold lies, are refused).
    - ``label``: ``1``/``0`` or ``true``/``false`` (any case); 1 = same identity.
    - ``fold``: integer ids numbered 0..k-1 or 1..k (k >= 2), every fold with both classes.
      Without the column the folds are :func:`fverify.protocols.folds.stratified_folds` (10).
    - any other column is kept as text; a ``pair_id`` column must not repeat a value.
    Column names are matched after stripping spaces, case-insensitively; empty lines are not
    pairs and are passed over. Numbers follow :mod:`fverify.fields`; a field may hold at most
    131,072 characters (the csv module's limit).
    """
    path = Path(path)
    raw = _read_bytes(path)
    data = raw[len(UTF8_BOM):] if raw.startswith(UTF8_BOM) else raw
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FverifyError(
            f"not UTF-8 text ({error.reason})", where=str(path), fix="save the CSV as UTF-8"
        ) from None
    grid = None
    if b'"' not in data:  # one-line header: read it alone, not the whole text
        reader = csv.reader(io.StringIO(text[: text.find("\n") + 1 or len(text)], newline=""))
        names = _header(reader, path)
        grid = bulk_fields.simple_grid(data, len(names))
    if grid is None:
        reader = csv.reader(io.StringIO(text, newline=""))
        names = _header(reader, path)
        body = _rows_one_by_one(reader, names, path)
    else:
        body = _rows_in_bulk(grid, names, path)
    folds = folds_of_file(body.labels, body.fold_ids, str(path))
    check_folds(body.labels, folds.folds, where=str(path), fix=folds.fix)
    if "pair_id" in names:
        if body.pair_id_keys is not None:
            _check_unique_keys(body.pair_id_keys, body.columns, body.lines, path)
        else:
            _check_unique_pair_ids(body.columns["pair_id"], body.lines, path)
    return ScoreTable(path, hashlib.md5(raw).hexdigest(), body.scores, body.labels, folds.folds,
                      folds.base, folds.rule, body.lines, body.columns)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FverifyError("no such scores file", where=str(path), fix="check the path") from None
    except OSError as error:
        raise FverifyError(f"cannot read it: {error.strerror}", where=str(path), fix="check the path") from None


def _header(reader: Iterator[list[str]], path: Path) -> list[str]:
    header = _next_row(reader, path, 1)
    if header is None:
        raise FverifyError("the file is empty", where=at(path, 1), fix=HEADER_FIX)
    names = [name.strip().lower() for name in header]
    for name in REQUIRED_COLUMNS:
        if name not in names:
            raise FverifyError(
                f"missing column {name!r}; the header has {', '.join(map(repr, names))}",
                where=at(path, 1),
                fix=HEADER_FIX,
            )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FverifyError(
            f"column {repeated[0]!r} appears twice in the header", where=at(path, 1), fix=HEADER_FIX
        )
    return names


def _next_row(reader: Iterator[list[str]], path: Path, line: int) -> list[str] | None:
    """The next row, or None at the end; ``line`` is where the row starts."""
    try:
        return next(reader, None)
    except csv.Error as error:
        raise FverifyError(f"not readable as CSV: {error}", where=at(path, line),
                           fix=f"a field holds at most {csv.field_size_limit():,} characters; check "
                           "the quotes (a quoted field left open runs on to the end of the file)"
                           ) from None


def _parse_row(row: list[str], names: list[str], path: Path, line: int) -> tuple[float, bool, int | None]:
    """Score, label and fold id (None without a fold column) of one row: the rules every
    row obeys, checked in a fixed order so that a line's message does not depend on how the
    file was read."""
    if len(row) != len(names):
        raise FverifyError(
            f"{len(row)} fields, but the header names {len(names)} ({','.join(names)})",
            where=at(path, line),
            fix="give every line one value per header column",
        )
    fields = dict(zip(names, row))
    where = at(path, line)
    fold = parse_fold_id(fields["fold"], where) if "fold" in fields else None
    return parse_score(fields["score"], where), parse_label(fields["label"], where), fold


def _rows_one_by_one(reader: Reader, names: list[str], path: Path) -> _Body:
    """The body read by the csv module, each row parsed as it is read."""
    rows, lines, parsed = [], [], []
    end_of_previous = reader.line_num
    while (row := _next_row(reader, path, end_of_previous + 1)) is not None:
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not row:
            continue
        parsed.append(_parse_row(row, names, path, line))
        rows.append(row)
        lines.append(line)
    columns = TextColumns({
        name: (lambda i=i: [row[i] for row in rows])
        for i, name in enumerate(names) if name not in PARSED_COLUMNS
    })
    return _Body(
        np.array([pair[0] for pair in parsed], dtype=np.float64),
        np.array([pair[1] for pair in parsed], dtype=bool),
        np.array([pair[2] for pair in parsed], dtype=np.int64) if "fold" in names else None,
        np.array(lines, dtype=np.int64),
        columns,
    )


def _rows_in_bulk(grid: bulk_fields.Grid, names: list[str], path: Path) -> _Body:
    """The body of a simple CSV parsed column by column; the rows a bulk parser does not vouch
    for are parsed one by one, in file order, so the first bad line is the one reported."""
    column = {name: index for index, name in enumerate(names)}
    scores, scores_vouched = bulk_fields.numbers(grid, column["score"])
    # parse_score refuses these by name; the bulk reader leaves them to it.
    scores_vouched &= np.isfinite(scores) & (scores != LOWEST_FLOAT)
    labels, vouched = bulk_fields.labels(grid, column["label"])
    vouched &= scores_vouched
    fold_ids = None
    if "fold" in column:
        fold_ids, folds_vouched = bulk_fields.integers(grid, column["fold"])
        vouched &= folds_vouched
    for index in np.flatnonzero(~vouched).tolist():
        score, label, fold = _parse_row(grid.row(index), names, path, int(grid.lines[index]))
        scores[index], labels[index] = score, label
        if fold_ids is not None:
            fold_ids[index] = fold
    columns = TextColumns({
        name: (lambda index=index: grid.texts(index))
        for name, index in column.items() if name not in PARSED_COLUMNS
    })
    keys = bulk_fields.short_text_keys(grid, column["pair_id"]) if "pair_id" in column else None
    return _Body(scores, labels, fold_ids, grid.lines, columns, keys)


def _check_unique_keys(keys: np.ndarray, columns: Mapping[str, list[str]], lines: np.ndarray,
                       path: Path) -> None:
    order = np.argsort(keys, kind="stable")
    repeats = order[1:][keys[order[1:]] == keys[order[:-1]]]
    if len(repeats):
        # The earliest row repeating an id, and the first row with that id.
        row = int(repeats.min())
        first = int(order[np.searchsorted(keys[order], keys[row])])
        raise FverifyError(
            f"pair_id {columns['pair_id'][row].strip()!r} already appears at line {int(lines[first])}",
            where=at(path, int(lines[row])),
            fix="each pair needs its own pair_id",
        )


def _check_unique_pair_ids(pair_ids: list[str], lines: np.ndarray, path: Path) -> None:
    first_line: dict[str, int] = {}
    for pair_id, line in zip(pair_ids, lines.tolist()):
        pair_id = pair_id.strip()
        if pair_id in first_line:
            raise FverifyError(
                f"pair_id {pair_id!r} already appears at line {first_line[pair_id]}",
                where=at(path, line),
                fix="each pair needs its own pair_id",
            )
        first_line[pair_id] = line


def check_same_pairs(a: ScoreTable, b: ScoreTable) -> None:
    """Refuse a paired comparison of files that do not list the same pairs in the same order:
    the same number of pairs, the same ``pair_id`` row by row (when both files have one), the
    same labels and the same folds."""
    if a.num_pairs != b.num_pairs:
        raise FverifyError(
            f"{b.num_pairs} pairs, but {a.path} has {a.num_pairs}",
            where=str(b.path),
            fix="compare score files of the same pairs (same protocol, same order)",
        )
    fix = "both files must list the same pairs in the same order"
    if "pair_id" in a.columns and "pair_id" in b.columns:
        ids_a = [pair_id.strip() for pair_id in a.columns["pair_id"]]
        ids_b = [pair_id.strip() for pair_id in b.columns["pair_id"]]
        for i, (id_a, id_b) in enumerate(zip(ids_a, ids_b)):
            if id_a != id_b:
                raise FverifyError(
                    f"pair_id {id_b!r}, but {at(a.path, int(a.lines[i]))} has pair_id {id_a!r}",
                    where=at(b.path, int(b.lines[i])),
                    fix=fix,
                )
    for name, values_a, values_b in (("label", a.labels, b.labels), ("fold", a.folds, b.folds)):
        differs = np.flatnonzero(values_a != values_b)
        if len(differs):
            i = int(differs[0])
            raise FverifyError(
                f"the {name} differs from the same pair at {at(a.path, int(a.lines[i]))}",
                where=at(b.path, int(b.lines[i])),
                fix=fix,
            )


def write_scores(
    path: str | PathLike[str],
    *,
    scores: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    items1: Sequence[str] | None = None,
    items2: Sequence[str] | None = None,
) -> None:
    """Atomically write fverify's per-pair scores CSV: ``pair_id, fold, label, score, item1,
    item2``, one line per pair in protocol order (``pair_id`` = index, ``fold`` 0-based,
    ``label`` 1/0, ``score`` as the shortest text that reads back to the same float64, items
    empty when not given). :func:`read_scores` reads it back exactly."""
    count = len(scores)
    items1 = [""] * count if items1 is None else items1
    items2 = [""] * count if items2 is None else items2
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SCORES_CSV_COLUMNS)
        for pair_id, (fold, label, score, item1, item2) in enumerate(zip(folds, labels, scores, items1, items2)):
            writer.writerow((pair_id, int(fold), int(bool(label)), repr(float(score)), item1, item2))
