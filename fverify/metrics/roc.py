"""Exact ROC of ``score > t`` decisions and what is read off it: AUC, EER, TAR@FAR.

Rates are fractions in [0, 1]: FPR = FAR = false accepts / negative pairs, TPR = TAR =
true accepts / positive pairs, FRR = 1 - TPR. Thresholds are in score units.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fverify.metrics.cuts import cut_threshold, realisable_cuts


@dataclass(frozen=True, eq=False)
class Roc:
    """One point per realisable cut, from (0, 0) (nothing accepted) to (1, 1) (everything
    accepted): FPR ascending, TPR non-decreasing, thresholds descending.

    Tied scores form a single point, so a run of ties is a straight segment, which is what
    makes the trapezoid AUC equal the Mann-Whitney statistic with ties counted half.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    num_positive: int
    num_negative: int


@dataclass(frozen=True)
class Eer:
    """Equal error rate (fraction) where the ROC segment crosses FAR = FRR, and the threshold
    linearly interpolated between the thresholds of the segment's two end points."""

    rate: float
    threshold: float


@dataclass(frozen=True)
class TarAtFar:
    """Highest TAR among operating points with FAR <= ``far`` (no interpolation), its
    threshold, or ``None`` for both with the ``reason`` when the data cannot resolve ``far``."""

    far: float
    tar: float | None
    threshold: float | None
    reason: str | None = None


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> Roc:
    """Exact pooled ROC of every pair (O(n log n)); needs both classes present."""
    order = np.argsort(scores)
    sorted_scores = np.asarray(scores, dtype=np.float64)[order]
    cuts = np.flatnonzero(realisable_cuts(sorted_scores))
    positives_below = np.zeros(len(sorted_scores) + 1, dtype=np.int64)
    np.cumsum(np.asarray(labels, dtype=bool)[order], out=positives_below[1:])
    positives_below = positives_below[cuts]
    num_positive = int(positives_below[-1])
    num_negative = len(sorted_scores) - num_positive
    tpr = (num_positive - positives_below) / num_positive
    fpr = (num_negative - (cuts - positives_below)) / num_negative
    thresholds = cut_threshold(sorted_scores, cuts)
    return Roc(fpr[::-1], tpr[::-1], thresholds[::-1], num_positive, num_negative)


def auc(roc: Roc) -> float:
    """Area under the ROC by the trapezoid rule (equals scikit-learn's ``roc_auc_score``)."""
    return float(np.sum(np.diff(roc.fpr) * (roc.tpr[1:] + roc.tpr[:-1]) / 2))


def eer(roc: Roc) -> Eer:
    """EER by linear interpolation on the segment where FRR - FAR changes sign.

    FRR - FAR falls strictly along the curve (each point adds at least one pair), from 1 at
    (0, 0) to -1 at (1, 1), so the crossing is unique.
    """
    gap = (1 - roc.tpr) - roc.fpr
    end = int(np.argmax(gap <= 0))
    start = end - 1
    weight = gap[start] / (gap[start] - gap[end])
    rate = roc.fpr[start] + weight * (roc.fpr[end] - roc.fpr[start])
    threshold = roc.thresholds[start] + weight * (roc.thresholds[end] - roc.thresholds[start])
    return Eer(float(rate), float(threshold))


def tar_at_far(roc: Roc, far: float) -> TarAtFar:
    """TAR at a FAR target; unresolvable (None + reason) when ``far < 1 / negatives``, where
    not even one false accept is allowed and any number would be an extrapolation."""
    if far < 1 / roc.num_negative:
        return TarAtFar(
            far,
            None,
            None,
            f"FAR {np.format_float_scientific(far, trim='-', exp_digits=1)} is below "
            f"1/n_negatives = 1/{roc.num_negative}; it needs at least {int(np.ceil(1 / far))} negative pairs",
        )
    point = int(np.searchsorted(roc.fpr, far, side="right")) - 1
    return TarAtFar(far, float(roc.tpr[point]), float(roc.thresholds[point]))


def vertical_average(roc: Roc, fpr_grid: np.ndarray) -> np.ndarray:
    """TPR of one ROC sampled at fixed FPRs, linearly interpolated between its points
    (Fawcett 2006, "An introduction to ROC analysis", Algorithm 3, vertical averaging).

    At an FPR shared by several points (a vertical segment) the highest TPR is taken.
    """
    point = np.searchsorted(roc.fpr, fpr_grid, side="right") - 1
    following = np.minimum(point + 1, len(roc.fpr) - 1)
    span = roc.fpr[following] - roc.fpr[point]
    slope = np.divide(
        roc.tpr[following] - roc.tpr[point], span, out=np.zeros_like(span), where=span > 0
    )
    return roc.tpr[point] + (fpr_grid - roc.fpr[point]) * slope


def fold_averaged_roc(
    scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, fpr_grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (ddof=0) over folds of each fold's ROC TPR at ``fpr_grid``."""
    tprs = np.stack(
        [
            vertical_average(roc_curve(scores[folds == fold], labels[folds == fold]), fpr_grid)
            for fold in range(int(folds.max()) + 1)
        ]
    )
    return tprs.mean(axis=0), tprs.std(axis=0, ddof=0)
