"""Folds of a pair list, one set of rules for every reader (protocol adapters, score files):
the deterministic stratified rule used when a list carries no folds, how fold ids are counted,
and the checks that make a k-fold evaluation meaningful."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fverify.errors import FverifyError

DEFAULT_NUM_FOLDS = 10
STRATIFIED_RULE = (f"stratified {DEFAULT_NUM_FOLDS}-fold rule (no fold column): same pairs dealt "
                   f"round-robin to the {DEFAULT_NUM_FOLDS} folds in file order, different pairs "
                   "likewise")
NO_FOLD_COLUMN_FIX = "add a fold column, or list more pairs"
FOLD_COLUMN_FIX = ("every fold needs both same and different pairs, and there must be at least 2 "
                   f"folds: fix the fold column, or drop it to get the stratified "
                   f"{DEFAULT_NUM_FOLDS}-fold split")


def stratified_folds(labels: np.ndarray, num_folds: int = DEFAULT_NUM_FOLDS) -> np.ndarray:
    """Fold id (0-based) per pair: positives are dealt round-robin to folds 0, 1, ..., k-1 in
    file order, and so are negatives, separately.

    Every fold gets within one pair of the same number of positives and of negatives, and the
    split depends only on the order of the labels: no random state, the same folds on every
    machine. A class with fewer than ``num_folds`` pairs leaves some folds without it; callers
    refuse that first with :func:`check_stratifiable`.
    """
    labels = np.asarray(labels, dtype=bool)
    folds = np.empty(len(labels), dtype=np.int64)
    for value in (True, False):
        index = np.flatnonzero(labels == value)
        folds[index] = np.arange(len(index)) % num_folds
    return folds


def check_stratifiable(labels: np.ndarray, *, where: str, fix: str,
                       num_folds: int = DEFAULT_NUM_FOLDS) -> None:
    """Refuse labels too few to put both classes in each of ``num_folds`` folds (fewer than
    ``num_folds`` pairs of either class)."""
    same = int(np.count_nonzero(labels))
    different = len(labels) - same
    if min(same, different) < num_folds:
        raise FverifyError(
            f"{num_folds} folds each holding both classes need at least {num_folds} same and "
            f"{num_folds} different pairs; found {same} and {different}", where=where, fix=fix)


class FileFolds(NamedTuple):
    """The folds of a pair list read from a file, and how they were made."""

    folds: np.ndarray  # 0-based fold id per pair
    base: int  # how the file numbered its folds: 0 (0..k-1, or no fold column) or 1 (1..k)
    rule: str  # a short phrase for results and --validate
    fix: str  # the advice for :func:`check_folds` when they are unusable


def folds_of_file(labels: np.ndarray, fold_ids: np.ndarray | None, path: str) -> FileFolds:
    """The folds of a pair list (protocol CSV, scores CSV) as its file gives them.

    ``fold_ids`` is the file's fold column, or None when it has none. Ids whose smallest is 1
    are taken as numbered 1..k, any others as 0..k-1. Without a column the folds are
    :func:`stratified_folds`, after :func:`check_stratifiable`. The result is not yet checked
    with :func:`check_folds`.
    """
    if fold_ids is None:
        check_stratifiable(labels, where=f"{path} (no fold column)", fix=NO_FOLD_COLUMN_FIX)
        return FileFolds(stratified_folds(labels), 0, STRATIFIED_RULE, NO_FOLD_COLUMN_FIX)
    base = 1 if len(fold_ids) and fold_ids.min() == 1 else 0
    if not base:
        return FileFolds(fold_ids, 0, "the fold column of the file", FOLD_COLUMN_FIX)
    return FileFolds(fold_ids - 1, 1, "the fold column of the file (ids 1..k)",
                     f"{FOLD_COLUMN_FIX}. Fold numbers in this message are counted from 0: the "
                     "file's fold 1 is fold 0")


def check_folds(labels: np.ndarray, folds: np.ndarray, *, where: str, fix: str) -> None:
    """Refuse fold ids that are not 0..k-1, fewer than 2 folds, or a fold without both
    positive and negative pairs. ``fix`` is the caller's advice: it depends on where the folds
    came from (a fold column, a header, a rule).

    A threshold is fitted on the other folds and tested on each, so one fold leaves nothing to
    fit on, and a fold without both classes makes its held-out accuracy and threshold search
    mean nothing: errors, never silent skips.
    """
    if not len(folds):
        raise FverifyError("there are no pairs", where=where, fix="check that the file lists pairs")
    # Counting, not np.unique: no sort of a million ids, and no import of numpy.ma (0.1 s).
    # Ids 0..k-1 with none missing have k <= the number of pairs.
    totals = np.bincount(folds) if folds.min() == 0 and folds.max() < len(folds) else None
    if totals is None or not np.all(totals):
        raise FverifyError(
            f"fold ids must be 0..k-1 with none missing; found {np.unique(folds).tolist()[:12]}",
            where=where, fix=fix)
    if len(totals) < 2:
        raise FverifyError(
            f"all {len(folds)} pairs are in one fold; the k-fold threshold search needs at "
            "least 2 folds", where=where, fix=fix)
    positives = np.bincount(folds, weights=labels.astype(float), minlength=len(totals))
    for fold, (pos, total) in enumerate(zip(positives, totals)):
        if pos == 0 or pos == total:
            kind = "positive (same)" if pos == 0 else "negative (different)"
            raise FverifyError(f"fold {fold} has no {kind} pairs ({int(total)} pairs in it)",
                               where=where, fix=fix)
