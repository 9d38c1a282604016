"""Cuts of sorted scores: where a ``score > t`` decision can split them, and the t that does.

A cut ``c`` of ascending scores ``s[0..n-1]`` calls ``s[:c]`` different and ``s[c:]`` same. It
is realisable only where ``c`` is 0, ``n`` or a boundary between distinct values: no threshold
separates two equal scores. The k-fold search and the ROC share these rules, so a threshold
means the same thing everywhere in fverify.
"""
from __future__ import annotations

import numpy as np


def realisable_cuts(sorted_scores: np.ndarray) -> np.ndarray:
    """Boolean mask over cuts 0..n: True where some threshold makes that cut."""
    n = len(sorted_scores)
    realisable = np.ones(n + 1, dtype=bool)
    realisable[1:n] = sorted_scores[1:] > sorted_scores[:-1]
    return realisable


def place_threshold(lower: np.ndarray | float, upper: np.ndarray | float) -> np.ndarray:
    """Threshold ``t`` (score units) between the highest score called different (``lower``,
    ``-inf`` when there is none) and the lowest called same (``upper``, ``+inf`` when none), so
    that ``lower <= t < upper`` and ``score > t`` makes exactly that split.

    Between two scores ``t`` is their midpoint, computed as ``lower/2 + upper/2`` so that it
    cannot overflow, or ``lower`` itself when rounding puts the midpoint outside
    ``[lower, upper)``. With nothing called same, ``t = lower`` (no score is above it); with
    nothing called different, ``t`` is the largest float below ``upper``. Finite scores give a
    finite ``t``, except that nothing lies below the lowest float (-1.8e308) itself.
    """
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    middle = 0.5 * lower + 0.5 * upper
    threshold = np.where((middle >= lower) & (middle < upper), middle, lower)
    return np.where(lower == -np.inf, np.nextafter(upper, -np.inf), threshold)


def cut_threshold(sorted_scores: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """:func:`place_threshold` for realisable ``cuts`` of ascending ``sorted_scores``."""
    n = len(sorted_scores)
    lower = np.where(cuts > 0, sorted_scores[np.maximum(cuts - 1, 0)], -np.inf)
    upper = np.where(cuts < n, sorted_scores[np.minimum(cuts, n - 1)], np.inf)
    return place_threshold(lower, upper)
