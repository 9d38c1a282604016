"""All verification metrics of one score set, computed once for every writer to render."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fverify.metrics.accuracy import AccuracySummary
from fverify.metrics.roc import Eer, Roc, TarAtFar, auc, eer, fold_averaged_roc, roc_curve, tar_at_far
from fverify.metrics.threshold import THRESHOLD_SEARCHES, FoldThresholds

# FAR targets as they are keyed in result JSON ("1e-3"), strings so the keys are exact.
FAR_TARGETS = ("1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6")
# FPRs at which the fold-averaged ROC is sampled (fractions).
FOLD_ROC_FPR = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """k-fold accuracy (threshold per fold), pooled ROC metrics, fold-averaged ROC.

    ``auc``, ``eer`` and ``tar_at_far`` come from the pooled ROC of all pairs; the accuracy
    from the k-fold threshold search. Every rate is a fraction in [0, 1].
    """

    labels: np.ndarray
    folds: np.ndarray
    search: FoldThresholds
    accuracy: AccuracySummary
    roc: Roc
    auc: float
    eer: Eer
    tar_at_far: dict[str, TarAtFar]
    fold_roc_tpr_mean: np.ndarray
    fold_roc_tpr_std: np.ndarray

    @property
    def num_folds(self) -> int:
        return len(self.accuracy.folds)

    @property
    def correct(self) -> np.ndarray:
        """Per pair: decided right at its own fold's threshold."""
        return self.search.predicted_same == self.labels


def evaluate(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, method: str = "exact") -> Evaluation:
    """Every metric of ``scores`` (higher = more alike) against ``labels`` (True = same).

    ``folds`` are 0-based ids 0..k-1, k >= 2, each fold holding both classes (checked where the
    data is read, e.g. :func:`fverify.protocols.folds.check_folds`). ``method`` is a key of
    :data:`fverify.metrics.threshold.THRESHOLD_SEARCHES`.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    folds = np.asarray(folds, dtype=np.int64)
    if folds.max() < 1:
        raise ValueError("a k-fold evaluation needs at least 2 folds")
    search = THRESHOLD_SEARCHES[method](scores, labels, folds)
    roc = roc_curve(scores, labels)
    tpr_mean, tpr_std = fold_averaged_roc(scores, labels, folds, FOLD_ROC_FPR)
    return Evaluation(
        labels=labels,
        folds=folds,
        search=search,
        accuracy=AccuracySummary(search.test_accuracy),
        roc=roc,
        auc=auc(roc),
        eer=eer(roc),
        tar_at_far={target: tar_at_far(roc, float(target)) for target in FAR_TARGETS},
        fold_roc_tpr_mean=tpr_mean,
        fold_roc_tpr_std=tpr_std,
    )
