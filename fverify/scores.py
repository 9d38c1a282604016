"""Per-pair score files: read a user's ``score,label,fold`` CSV, write fverify's scores CSV.

Reading validates everything once, naming ``file:line`` (the header is line 1), so the
metrics can trust what they get.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TextIO

import numpy as np

from fverify.atomic import atomic_open
from fverify.errors import FverifyError, at
from fverify.fields import parse_fold_id, parse_label
from fverify.protocols.folds import check_folds, folds_of_file
from fverify.protocols.official import md5_of

REQUIRED_COLUMNS = ("score", "label")
SCORES_CSV_COLUMNS = ("pair_id", "fold", "label", "score", "item1", "item2")
HEADER_FIX = "the first line must name the columns, e.g. score,label,fold (fold is optional)"


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
    columns: dict[str, list[str]]

    @property
    def num_pairs(self) -> int:
        return len(self.scores)


def read_scores(path: str | PathLike[str]) -> ScoreTable:
    """Read a scores CSV with a header naming ``score`` and ``label`` (and usually ``fold``).

    - ``score``: a finite number, higher = more alike (NaN and inf are refused).
    - ``label``: ``1``/``0`` or ``true``/``false`` (any case); 1 = same identity.
    - ``fold``: integer ids numbered 0..k-1 or 1..k (k >= 2), every fold with both classes.
      Without the column the folds are :func:`fverify.protocols.folds.stratified_folds` (10).
    - any other column is kept as text; a ``pair_id`` column must not repeat a value.
    Column names are matched after stripping spaces, case-insensitively; empty lines are not
    pairs and are passed over.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            names, rows, lines = _read_rows(path, handle)
    except FileNotFoundError:
        raise FverifyError("no such scores file", where=str(path), fix="check the path") from None
    except OSError as error:
        raise FverifyError(f"cannot read it: {error.strerror}", where=str(path), fix="check the path") from None
    except UnicodeDecodeError as error:
        raise FverifyError(
            f"not UTF-8 text ({error.reason})", where=str(path), fix="save the CSV as UTF-8"
        ) from None
    # Parse row by row so that the first bad line in the file is the one reported.
    parsed = [_parse_pair(row, names, path, line) for row, line in zip(rows, lines)]
    scores = np.array([pair[0] for pair in parsed], dtype=np.float64)
    labels = np.array([pair[1] for pair in parsed], dtype=bool)
    fold_ids = np.array([pair[2] for pair in parsed], dtype=np.int64) if "fold" in names else None
    folds = folds_of_file(labels, fold_ids, str(path))
    check_folds(labels, folds.folds, where=str(path), fix=folds.fix)
    columns = {
        name: [row[i] for row in rows]
        for i, name in enumerate(names)
        if name not in ("score", "label", "fold")
    }
    if "pair_id" in columns:
        _check_unique_pair_ids(columns["pair_id"], lines, path)
    line_numbers = np.array(lines, dtype=np.int64)
    return ScoreTable(path, md5_of(path), scores, labels, folds.folds, folds.base, folds.rule,
                      line_numbers, columns)


def _parse_pair(row: list[str], names: list[str], path: Path, line: int) -> tuple[float, bool, int | None]:
    fields = dict(zip(names, row))
    fold = parse_fold_id(fields["fold"], at(path, line)) if "fold" in fields else None
    return _score(fields["score"], path, line), parse_label(fields["label"], at(path, line)), fold


def _read_rows(path: Path, handle: TextIO) -> tuple[list[str], list[list[str]], list[int]]:
    reader = csv.reader(handle)
    header = next(reader, None)
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
    rows, lines = [], []
    end_of_previous = reader.line_num
    for row in reader:
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not row:
            continue
        if len(row) != len(names):
            raise FverifyError(
                f"{len(row)} fields, but the header names {len(names)} ({','.join(names)})",
                where=at(path, line),
                fix="give every line one value per header column",
            )
        rows.append(row)
        lines.append(line)
    return names, rows, lines


def _score(text: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FverifyError(
            f"score {text!r} is not a number", where=at(path, line), fix="scores must be numbers"
        ) from None
    if not math.isfinite(value):
        raise FverifyError(
            f"score is {text.strip()}",
            where=at(path, line),
            fix="scores must be finite numbers; fix what produced it",
        )
    return value


def _check_unique_pair_ids(pair_ids: list[str], lines: list[int], path: Path) -> None:
    first_line: dict[str, int] = {}
    for pair_id, line in zip(pair_ids, lines):
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
