"""A user's own pair list: CSV rows ``path1,path2,label[,fold]`` with paths relative to the
data root. A path that leaves the data root (absolute, or ``..`` above it) is refused unless
the caller allows it: a list received from someone else must not make fverify read, embed and
name files anywhere on the machine.

``label`` is 1 (same identity) or 0 (also ``true``/``false``). ``fold`` is optional, and then
all-or-nothing: k consecutive integers from 0 or from 1. Without it, pairs get
:func:`fverify.protocols.folds.stratified_folds`, the rule ``fverify evaluate`` uses. An
optional header row naming the columns (``path1,path2,label[,fold]``) is skipped.
"""
from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath

import numpy as np

from fverify.errors import FverifyError, at
from fverify.fields import parse_fold_id, parse_label
from fverify.protocols.evalset import EvalSet, image_files_evalset
from fverify.protocols.folds import folds_of_file
from fverify.protocols.official import md5_of
from fverify.protocols.protocol import Protocol

HEADER = ("path1", "path2", "label", "fold")


def parse_pairs_csv(path: str | Path, allow_outside_data: bool = False) -> Protocol:
    """The pairs of a CSV file as an image Protocol named ``pairs``; with
    ``allow_outside_data`` its paths may be absolute or climb out of the data root."""
    path = Path(path)
    numbered = _rows(path)
    if numbered and [f.lower() for f in numbered[0][1]] in (list(HEADER[:3]), list(HEADER)):
        numbered = numbered[1:]
    if not numbered:
        raise FverifyError("no pair rows", where=str(path), fix="rows read path1,path2,label[,fold]")
    width = len(numbered[0][1])
    index: dict[str, int] = {}
    pairs, labels, folds = [], [], []
    for number, fields in numbered:
        where = at(path, number)
        if len(fields) != width or width not in (3, 4):
            raise FverifyError(
                f"expected {'4' if width == 4 else '3'} fields path1,path2,label"
                f"{',fold' if width == 4 else ''} (as the first row), found {len(fields)}",
                where=where, fix="give every row the same columns: path1,path2,label[,fold]")
        first, second, label = fields[:3]
        for image in (first, second):
            if not image:
                raise FverifyError("image path '' must be relative to --data", where=where,
                                   fix="name two images on every row")
            if not allow_outside_data and leaves_root(image):
                raise FverifyError(
                    f"image path {image!r} must be relative to --data and stay inside it",
                    where=where, fix="write paths relative to the data folder, or pass "
                    "--allow-outside-data to read images outside it")
        labels.append(parse_label(label, where))
        if width == 4:
            fold = parse_fold_id(fields[3], where)
            # k folds of n pairs have ids below n + 1 (1..k): a larger one is a typo, refused
            # here with its line rather than later as a gap in the ids
            if not 0 <= fold <= len(numbered):
                raise FverifyError(f"fold {fold} is out of range: {len(numbered)} pairs make at "
                                   f"most {len(numbered)} folds", where=where,
                                   fix="fold ids are 0..k-1 or 1..k")
            folds.append(fold)
        pairs.append((index.setdefault(first, len(index)), index.setdefault(second, len(index))))
    labels_array = np.array(labels, dtype=bool)
    fold_ids = np.array(folds, dtype=np.int64) if width == 4 else None
    made = folds_of_file(labels_array, fold_ids, str(path))
    return Protocol("pairs", tuple(index), np.array(pairs, dtype=np.int64), labels_array,
                    made.folds, source=str(path), source_md5=md5_of(path), fold_rule=made.rule,
                    fold_fix=made.fix)


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """``(line, stripped fields)`` of each non-blank row; ``line`` is where the row starts (a
    quoted field may hold line breaks, so rows and lines are counted apart)."""
    numbered: list[tuple[int, list[str]]] = []
    end_of_previous = 0
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            for row in reader:
                line, end_of_previous = end_of_previous + 1, reader.line_num
                fields = [field.strip() for field in row]
                if any(fields):
                    numbered.append((line, fields))
    except (OSError, UnicodeDecodeError) as error:
        raise FverifyError(f"cannot read pairs CSV: {error}", where=str(path),
                           fix="check the path; the file must be UTF-8 CSV") from None
    except csv.Error as error:
        raise FverifyError(f"not a readable CSV row: {error}", where=at(path, end_of_previous + 1),
                           fix="check the quoting of this row (rows read path1,path2,label[,fold])") from None
    return numbered


def leaves_root(image: str) -> bool:
    """True when ``image``, taken relative to a folder, names a file outside it: absolute
    (POSIX or this platform's rules, drive included) or with a ``..`` that climbs above the
    folder. Read lexically: links inside the folder are the user's own layout."""
    if PurePosixPath(image).is_absolute() or Path(image).anchor:
        return True
    depth = 0
    for part in Path(image).parts:
        depth += -1 if part == ".." else 1
        if depth < 0:
            return True
    return False


def load_pairs(data: str | Path, pairs_csv: str | Path, allow_outside_data: bool = False) -> EvalSet:
    """A pairs CSV ready to run: every image found under ``data`` (or, with
    ``allow_outside_data``, where an absolute or ``..`` path points) or an error listing them."""
    protocol = parse_pairs_csv(pairs_csv, allow_outside_data)
    root = Path(data)
    if not root.is_dir():
        raise FverifyError("image folder does not exist", where=str(root),
                           fix="pass --data the folder the CSV's paths are relative to")
    return image_files_evalset(protocol, root,
                               fix="restore the files or fix the paths in the CSV")
