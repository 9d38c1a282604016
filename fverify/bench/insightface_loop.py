"""insightface's k-fold grid search written the straightforward way its evaluator does it.

The baseline of ``fverify bench eval`` and the oracle that the vectorised
:func:`fverify.metrics.threshold.grid_kfold` is tested against. Like insightface's
``calculate_roc`` it slices the training set out of all pairs once per threshold
(``slice_per_threshold=True``); ``False`` slices it once per fold, a leaner loop that gives
the same numbers and shows how much of the time is that slicing. Both skip insightface's
per-threshold test-fold ROC, which is not part of choosing the threshold.
"""
from __future__ import annotations

import numpy as np

from fverify.metrics.threshold import INSIGHTFACE_THRESHOLDS, insightface_distance


def loop_accuracy(threshold: float, distance: np.ndarray, actual_same: np.ndarray) -> tuple[float, float, float]:
    """TPR, FPR and accuracy (fractions) when ``distance < threshold`` is called same, counted
    as insightface's ``calculate_accuracy`` counts them."""
    predicted_same = np.less(distance, threshold)
    true_accepts = np.sum(np.logical_and(predicted_same, actual_same))
    false_accepts = np.sum(np.logical_and(predicted_same, np.logical_not(actual_same)))
    true_rejects = np.sum(np.logical_and(np.logical_not(predicted_same), np.logical_not(actual_same)))
    false_rejects = np.sum(np.logical_and(np.logical_not(predicted_same), actual_same))
    positives, negatives = true_accepts + false_rejects, false_accepts + true_rejects
    tpr = 0.0 if positives == 0 else float(true_accepts) / float(positives)
    fpr = 0.0 if negatives == 0 else float(false_accepts) / float(negatives)
    return tpr, fpr, float(true_accepts + true_rejects) / distance.size


def insightface_grid_loop(
    scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, *, slice_per_threshold: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per fold: the first grid threshold of best training accuracy, its training accuracy
    and its held-out accuracy (fractions)."""
    distance = insightface_distance(scores)
    labels = np.asarray(labels, dtype=bool)
    num_folds = int(folds.max()) + 1
    thresholds, train_accuracy, test_accuracy = np.empty(num_folds), np.empty(num_folds), np.empty(num_folds)
    for fold in range(num_folds):
        train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        accuracies = np.zeros(len(INSIGHTFACE_THRESHOLDS))
        if slice_per_threshold:
            for index, threshold in enumerate(INSIGHTFACE_THRESHOLDS):
                accuracies[index] = loop_accuracy(threshold, distance[train], labels[train])[2]
        else:
            train_distance, train_labels = distance[train], labels[train]
            for index, threshold in enumerate(INSIGHTFACE_THRESHOLDS):
                accuracies[index] = loop_accuracy(threshold, train_distance, train_labels)[2]
        best = int(np.argmax(accuracies))
        thresholds[fold] = INSIGHTFACE_THRESHOLDS[best]
        train_accuracy[fold] = accuracies[best]
        test_accuracy[fold] = loop_accuracy(thresholds[fold], distance[test], labels[test])[2]
    return thresholds, train_accuracy, test_accuracy
