"""The deterministic stratified fold rule used whenever a pair list carries no folds."""
from __future__ import annotations

import numpy as np

DEFAULT_NUM_FOLDS = 10


def stratified_folds(labels: np.ndarray, num_folds: int = DEFAULT_NUM_FOLDS) -> np.ndarray:
    """Fold id (0-based) per pair: positives are dealt round-robin to folds 0, 1, ..., k-1 in
    file order, and so are negatives, separately.

    Every fold gets within one pair of the same number of positives and of negatives, and the
    split depends only on the order of the labels: no random state, the same folds on every
    machine. A class with fewer than ``num_folds`` pairs leaves some folds without it, which
    :func:`fverify.protocols.protocol.check_folds` then reports.
    """
    labels = np.asarray(labels, dtype=bool)
    folds = np.empty(len(labels), dtype=np.int64)
    for value in (True, False):
        index = np.flatnonzero(labels == value)
        folds[index] = np.arange(len(index)) % num_folds
    return folds
