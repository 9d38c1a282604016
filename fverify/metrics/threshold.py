"""k-fold verification threshold search: the exact optimal cut, and insightface's grid.

For each fold the threshold is chosen on the other folds (training) and scored on the fold
itself (test). Both searches return a :class:`FoldThresholds`; :data:`THRESHOLD_SEARCHES`
maps the ``--threshold`` names to them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fverify.errors import FverifyError
from fverify.metrics.cuts import place_threshold, realisable_cuts

# insightface's evaluator (recognition/.../verification.py): thresholds = np.arange(0, 4, 0.01)
# on the squared L2 distance of unit embeddings.
INSIGHTFACE_THRESHOLDS = np.arange(0, 4, 0.01)

EXACT_RULE = "same if score > threshold (score units)"
GRID_RULE = "same if 2 - 2*score < threshold (squared L2 distance of unit embeddings, insightface)"


@dataclass(frozen=True, eq=False)
class FoldThresholds:
    """Result of a k-fold threshold search; accuracies are fractions in [0, 1].

    ``thresholds[f]`` is in the units ``rule`` names; ``predicted_same[i]`` is the decision on
    pair ``i`` at the threshold of its own fold (chosen without that fold).
    """

    method: str
    rule: str
    thresholds: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    predicted_same: np.ndarray


def insightface_distance(scores: np.ndarray) -> np.ndarray:
    """Squared L2 distance of two unit vectors from their cosine: ``|a-b|^2 = 2 - 2 cos``."""
    return 2.0 - 2.0 * np.asarray(scores, dtype=np.float64)


def exact_kfold(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> FoldThresholds:
    """Exact k-fold search: per fold, the most accurate ``score > t`` cut of the training pairs,
    over every realisable cut.

    Tie rule: among equally accurate cuts the highest wins (fewest pairs called same), the
    mirror of insightface taking the first, i.e. smallest, best distance threshold. The
    threshold is placed by :func:`fverify.metrics.cuts.place_threshold`: the midpoint between
    the adjacent distinct training scores of the cut, finite at both ends.

    O(n log n + k n) with one sort of all pairs. Call the *margin* of a cut the negatives below it
    minus the positives below it; a training cut decides ``training positives + training
    margin`` pairs right. The training margin is the margin of all pairs minus the held-out
    fold's, and the held-out margin is constant between two consecutive held-out pairs, so per
    fold one segment maximum (``np.maximum.reduceat``) over the all-pairs margin finds the best
    cut without re-sorting or re-summing the training pairs.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    folds = np.asarray(folds, dtype=np.int64)
    num_folds = int(folds.max()) + 1
    order = np.argsort(scores)  # ties in any order: no cut separates equal scores
    sorted_scores = scores[order]
    sorted_folds = folds.astype(np.min_scalar_type(num_folds))[order]
    count_type = np.int32 if len(scores) < 2**31 else np.int64  # half the memory traffic
    sign = np.where(labels[order], count_type(-1), count_type(1))
    margin = np.zeros(len(scores) + 1, dtype=count_type)
    np.cumsum(sign, out=margin[1:])
    margin_at_cut = np.where(realisable_cuts(sorted_scores), margin, np.iinfo(count_type).min // 2)
    # Each fold's sorted positions, ascending (a small integer type makes this a radix sort).
    by_fold = np.argsort(sorted_folds, kind="stable")
    fold_sizes = np.bincount(sorted_folds, minlength=num_folds)
    fold_ends = np.cumsum(fold_sizes)
    # margin = negatives - positives, so a fold's positives are (size - its full margin) / 2
    positives = (len(scores) - int(margin[-1])) // 2
    thresholds = np.empty(num_folds)
    train_accuracy = np.empty(num_folds)
    test_accuracy = np.empty(num_folds)
    for fold in range(num_folds):
        held_out = by_fold[fold_ends[fold] - fold_sizes[fold] : fold_ends[fold]]
        held_out_margin = np.zeros(len(held_out) + 1, dtype=np.int64)
        np.cumsum(sign[held_out], out=held_out_margin[1:])
        held_out_positives = (len(held_out) - int(held_out_margin[-1])) // 2
        cut, train_margin = _best_training_cut(margin_at_cut, held_out, held_out_margin)
        thresholds[fold] = _training_threshold(sorted_scores, held_out, cut)
        train_correct = positives - held_out_positives + train_margin
        train_accuracy[fold] = train_correct / (len(scores) - len(held_out))
        # Held-out pairs above the threshold are called same: those from this rank on.
        first_above = np.searchsorted(sorted_scores, thresholds[fold], side="right")
        called_same_from = np.searchsorted(held_out, first_above)
        test_accuracy[fold] = (held_out_positives + held_out_margin[called_same_from]) / len(held_out)
    return FoldThresholds(
        "exact", EXACT_RULE, thresholds, train_accuracy, test_accuracy, scores > thresholds[folds]
    )


def _best_training_cut(
    margin_at_cut: np.ndarray, held_out: np.ndarray, held_out_margin: np.ndarray
) -> tuple[int, int]:
    """Highest all-pairs cut of best training margin, and that margin. ``held_out`` are the
    held-out fold's sorted positions (ascending), ``held_out_margin[j]`` the margin of its
    first ``j``."""
    # Segment j holds the cuts with exactly j held-out pairs below them.
    starts = np.empty(len(held_out) + 1, dtype=np.int64)
    starts[0], starts[1:] = 0, held_out + 1
    best_in_segment = np.maximum.reduceat(margin_at_cut, starts)
    train_margin = best_in_segment - held_out_margin
    segment = len(train_margin) - 1 - int(np.argmax(train_margin[::-1]))
    stop = starts[segment + 1] if segment + 1 < len(starts) else len(margin_at_cut)
    in_segment = margin_at_cut[starts[segment] : stop]
    cut = int(starts[segment]) + len(in_segment) - 1 - int(np.argmax(in_segment[::-1] == best_in_segment[segment]))
    return cut, int(train_margin[segment])


def _training_threshold(sorted_scores: np.ndarray, held_out: np.ndarray, cut: int) -> float:
    """Threshold of an all-pairs cut placed between its nearest *training* scores: held-out
    pairs next to the cut are skipped as a run of consecutive held-out positions."""
    # Within a run of consecutive held-out positions, position - rank is constant.
    run_id = held_out - np.arange(len(held_out))
    below, above = cut - 1, cut
    index = int(np.searchsorted(held_out, below))
    if below >= 0 and index < len(held_out) and held_out[index] == below:
        below = int(held_out[np.searchsorted(run_id, run_id[index], side="left")]) - 1
    index = int(np.searchsorted(held_out, above))
    if index < len(held_out) and held_out[index] == above:
        above = int(held_out[np.searchsorted(run_id, run_id[index], side="right") - 1]) + 1
    lower = sorted_scores[below] if below >= 0 else -np.inf
    upper = sorted_scores[above] if above < len(sorted_scores) else np.inf
    return float(place_threshold(lower, upper))


def grid_kfold(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> FoldThresholds:
    """insightface's k-fold search, bit for bit, on cosine scores: distance ``2 - 2*score``,
    thresholds ``np.arange(0, 4, 0.01)``, the first threshold (smallest distance) of best
    training accuracy, pairs with ``distance < threshold`` called same.

    Instead of insightface's loop over 400 thresholds, each pair is binned once by
    ``searchsorted`` (how many grid thresholds lie at or below its distance) and cumulative
    per-fold, per-class bin counts give every threshold's counts: O(n log 400).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.min() < -1 - 1e-5 or scores.max() > 1 + 1e-5:
        raise FverifyError(
            f"the grid search needs cosine similarities in [-1, 1]; scores run from "
            f"{scores.min():g} to {scores.max():g}",
            fix="use --threshold exact, which works on any similarity score",
        )
    labels = np.asarray(labels, dtype=bool)
    distance = insightface_distance(scores)
    grid = INSIGHTFACE_THRESHOLDS
    num_folds, num_bins = int(folds.max()) + 1, len(grid) + 1
    # distance < grid[t] exactly when t >= bin, so a cumulative sum over bins counts the
    # pairs called same at each threshold.
    bins = np.searchsorted(grid, distance, side="right")
    cells = (folds * 2 + labels) * num_bins + bins
    counts = np.bincount(cells, minlength=num_folds * 2 * num_bins).reshape(num_folds, 2, num_bins)
    called_same = np.cumsum(counts, axis=2)[:, :, : len(grid)]
    negatives = counts[:, 0, :].sum(axis=1)
    correct = called_same[:, 1, :] + (negatives[:, None] - called_same[:, 0, :])
    train_correct = correct.sum(axis=0) - correct
    best = np.argmax(train_correct, axis=1)
    fold_sizes = counts.sum(axis=(1, 2))
    every_fold = np.arange(num_folds)
    thresholds = grid[best]
    return FoldThresholds(
        "grid",
        GRID_RULE,
        thresholds,
        train_correct[every_fold, best] / (len(scores) - fold_sizes),
        correct[every_fold, best] / fold_sizes,
        distance < thresholds[folds],
    )


THRESHOLD_SEARCHES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], FoldThresholds]] = {
    "exact": exact_kfold,
    "grid": grid_kfold,
}
