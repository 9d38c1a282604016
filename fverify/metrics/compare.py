"""Paired comparison of two models on the same pairs: is A's accuracy really above B's?"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fverify.metrics.evaluation import Evaluation

BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class PairedComparison:
    """A minus B on the same pairs, each model at its own per-fold thresholds.

    ``accuracy_diff`` is the difference of the mean k-fold accuracies (fraction);
    ``a_only`` / ``b_only`` count pairs only A / only B decides right; ``p_value`` is the
    exact two-sided McNemar p; ``ci95`` the percentile bootstrap 95% interval of the
    accuracy difference (fractions).
    """

    accuracy_diff: float
    a_only: int
    b_only: int
    p_value: float
    ci95: tuple[float, float]
    resamples: int
    seed: int


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value: the binomial test of ``a_only`` successes in
    ``a_only + b_only`` discordant pairs at p = 1/2 (McNemar 1947; exact form, e.g.
    Fagerland et al. 2013). 1 when there are no discordant pairs."""
    discordant = a_only + b_only
    if discordant == 0:
        return 1.0
    from scipy.stats import binomtest  # scipy.stats costs ~0.5 s to import: only when comparing

    return float(binomtest(a_only, discordant, 0.5, alternative="two-sided").pvalue)


def bootstrap_accuracy_diff(
    correct_a: np.ndarray,
    correct_b: np.ndarray,
    folds: np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> np.ndarray:
    """Bootstrap replicates of the mean-over-folds accuracy difference A - B (fractions),
    resampling pairs with replacement within each fold, thresholds held fixed.

    A pair contributes +1 (only A right), -1 (only B right) or 0 to its fold's difference,
    so drawing ``n_f`` pairs with replacement is exactly a multinomial draw of how many land
    in each of the three groups: the replicates cost O(resamples * k), not O(resamples * n).
    """
    rng = np.random.default_rng(seed)
    a_only = correct_a & ~correct_b
    b_only = correct_b & ~correct_a
    num_folds = int(folds.max()) + 1
    differences = np.zeros(resamples)
    for fold in range(num_folds):
        size = int(np.count_nonzero(folds == fold))
        groups = np.array([np.count_nonzero(a_only[folds == fold]), np.count_nonzero(b_only[folds == fold])])
        draws = rng.multinomial(size, np.append(groups, size - groups.sum()) / size, size=resamples)
        differences += (draws[:, 0] - draws[:, 1]) / size
    return differences / num_folds


def compare(
    a: Evaluation, b: Evaluation, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> PairedComparison:
    """Compare two evaluations of the same pairs (same labels, same folds, same order)."""
    if not (np.array_equal(a.labels, b.labels) and np.array_equal(a.folds, b.folds)):
        raise ValueError("a paired comparison needs the same pairs, labels and folds in both")
    correct_a, correct_b = a.correct, b.correct
    a_only = int(np.count_nonzero(correct_a & ~correct_b))
    b_only = int(np.count_nonzero(correct_b & ~correct_a))
    replicates = bootstrap_accuracy_diff(correct_a, correct_b, a.folds, resamples=resamples, seed=seed)
    low, high = np.percentile(replicates, [2.5, 97.5])
    return PairedComparison(
        accuracy_diff=a.accuracy.mean - b.accuracy.mean,
        a_only=a_only,
        b_only=b_only,
        p_value=mcnemar_exact(a_only, b_only),
        ci95=(float(low), float(high)),
        resamples=resamples,
        seed=seed,
    )
