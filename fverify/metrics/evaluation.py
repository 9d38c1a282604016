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
    test_fold: int | None = None
    """None after k-fold cross-validation (each fold tested at a threshold fitted on the
    others). Otherwise a fixed split: the id of the one fold tested, in the ids the caller
    gave, with the threshold fitted on all other folds together; ``labels`` and every metric
    then cover that fold's pairs alone, and ``folds`` is 0 for each of them."""

    @property
    def num_folds(self) -> int:
        return len(self.accuracy.folds)

    @property
    def tested_folds(self) -> list[int]:
        """The ids of the folds whose held-out accuracy is reported, in the order of
        ``accuracy.folds``: every fold after cross-validation, the one fold of a fixed split."""
        return list(range(self.num_folds)) if self.test_fold is None else [self.test_fold]

    @property
    def correct(self) -> np.ndarray:
        """Per pair: decided right at its own fold's threshold."""
        return self.search.predicted_same == self.labels


def evaluate(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, method: str = "exact",
             test_fold: int | None = None) -> Evaluation:
    """Every metric of ``scores`` (higher = more alike) against ``labels`` (True = same).

    ``folds`` are 0-based ids 0..k-1, k >= 2, each fold holding both classes (checked where the
    data is read, e.g. :func:`fverify.protocols.folds.check_folds`). ``method`` is a key of
    :data:`fverify.metrics.threshold.THRESHOLD_SEARCHES`. Without ``test_fold`` this is k-fold
    cross-validation; with it, a fixed split (:func:`fixed_split`) reported on that fold only.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    folds = np.asarray(folds, dtype=np.int64)
    if folds.max() < 1:
        raise ValueError("a k-fold evaluation needs at least 2 folds")
    if test_fold is None:
        search = THRESHOLD_SEARCHES[method](scores, labels, folds)
    else:
        search = fixed_split(scores, labels, folds, test_fold, method)
        tested = folds == test_fold
        scores, labels, folds = scores[tested], labels[tested], np.zeros(int(tested.sum()), dtype=np.int64)
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
        test_fold=test_fold,
    )


def fixed_split(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, test_fold: int,
                method: str = "exact") -> FoldThresholds:
    """Fit a threshold on the pairs of every fold but ``test_fold`` together, test it on that
    fold: a fixed train/test split, such as LFW View 1 (fit on DevTrain, report on DevTest).

    The result has one entry (the tested fold) and ``predicted_same`` for that fold's pairs,
    in their order. The ``method``'s k-fold search runs on two folds, the training pairs and
    the tested ones; only the direction that fits on the training pairs is kept.
    """
    folds = np.asarray(folds, dtype=np.int64)
    tested = folds == test_fold
    if not tested.any() or tested.all():
        raise ValueError(f"fold {test_fold} must hold some but not all pairs to be tested on")
    two_folds = THRESHOLD_SEARCHES[method](scores, labels, tested.astype(np.int64))
    return FoldThresholds(
        two_folds.method,
        two_folds.rule,
        two_folds.thresholds[1:],
        two_folds.train_accuracy[1:],
        two_folds.test_accuracy[1:],
        two_folds.predicted_same[tested],
    )
