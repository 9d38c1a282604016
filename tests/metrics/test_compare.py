import math

import numpy as np
import pytest
from scipy.stats import binomtest

from fverify.metrics.compare import bootstrap_accuracy_diff, compare, mcnemar_exact
from fverify.metrics.evaluation import evaluate


def exact_two_sided(a_only, b_only):
    """By hand: twice the smaller binomial(n, 1/2) tail, capped at 1."""
    n = a_only + b_only
    tail = sum(math.comb(n, i) for i in range(min(a_only, b_only) + 1)) / 2**n
    return min(1.0, 2 * tail)


@pytest.mark.parametrize("a_only, b_only", [(10, 2), (2, 10), (61, 21), (5, 5), (0, 7), (1, 0), (300, 250)])
def test_mcnemar_exact_by_hand_and_scipy(a_only, b_only):
    p = mcnemar_exact(a_only, b_only)
    assert p == pytest.approx(exact_two_sided(a_only, b_only), rel=1e-9)
    assert p == pytest.approx(binomtest(a_only, a_only + b_only, 0.5).pvalue, rel=1e-12)


def test_mcnemar_known_value_and_no_discordant_pairs():
    assert mcnemar_exact(10, 2) == pytest.approx(158 / 4096)  # 2 * (1 + 12 + 66) / 2**12
    assert mcnemar_exact(0, 0) == 1.0


def correctness(seed, n=900, k=3):
    rng = np.random.default_rng(seed)
    folds = np.arange(n) % k
    correct_a = rng.random(n) < 0.95
    correct_b = np.where(rng.random(n) < 0.8, correct_a, rng.random(n) < 0.9)
    return correct_a, correct_b, folds


def test_bootstrap_is_deterministic_for_a_seed():
    correct_a, correct_b, folds = correctness(0)
    first = bootstrap_accuracy_diff(correct_a, correct_b, folds, resamples=500, seed=3)
    again = bootstrap_accuracy_diff(correct_a, correct_b, folds, resamples=500, seed=3)
    other = bootstrap_accuracy_diff(correct_a, correct_b, folds, resamples=500, seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_bootstrap_of_identical_models_is_exactly_zero():
    correct_a, _, folds = correctness(1)
    assert not bootstrap_accuracy_diff(correct_a, correct_a, folds, resamples=200).any()


def test_multinomial_draw_matches_resampling_pairs_within_folds():
    correct_a, correct_b, folds = correctness(2)
    resamples = 4000
    replicates = bootstrap_accuracy_diff(correct_a, correct_b, folds, resamples=resamples, seed=0)
    # the literal procedure: draw each fold's pairs with replacement, average fold differences
    rng = np.random.default_rng(123)
    literal = np.zeros(resamples)
    difference = correct_a.astype(float) - correct_b
    for fold in range(3):
        members = np.flatnonzero(folds == fold)
        draws = rng.choice(members, size=(resamples, len(members)))
        literal += difference[draws].mean(axis=1) / 3
    observed = np.mean([difference[folds == f].mean() for f in range(3)])
    assert replicates.mean() == pytest.approx(observed, abs=0.002)
    assert replicates.std() == pytest.approx(literal.std(), rel=0.08)
    assert np.percentile(replicates, [2.5, 97.5]) == pytest.approx(np.percentile(literal, [2.5, 97.5]), abs=0.004)


def test_compare_counts_pairs_each_model_alone_gets_right():
    rng = np.random.default_rng(5)
    labels = np.tile(np.repeat([True, False], 50), 4)
    folds = np.repeat(np.arange(4), 100)
    shared = rng.standard_normal(400)
    scores_a = np.where(labels, 0.6, 0.0) + 0.25 * shared + 0.1 * rng.standard_normal(400)
    scores_b = np.where(labels, 0.6, 0.0) + 0.25 * shared + 0.2 * rng.standard_normal(400)
    a, b = evaluate(scores_a, labels, folds), evaluate(scores_b, labels, folds)
    result = compare(a, b, resamples=1000)
    # Independent values: each model's decisions re-derived from its fold thresholds
    # (same if score > threshold), McNemar's p from scipy's exact binomial test.
    right_a = (scores_a > a.search.thresholds[folds]) == labels
    right_b = (scores_b > b.search.thresholds[folds]) == labels
    a_only, b_only = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    assert (result.a_only, result.b_only) == (a_only, b_only) and a_only + b_only > 0
    assert result.accuracy_diff == pytest.approx((a_only - b_only) / 400)  # equal folds
    assert result.ci95[0] <= result.accuracy_diff <= result.ci95[1]
    assert result.p_value == pytest.approx(binomtest(a_only, a_only + b_only, 0.5).pvalue, rel=1e-12)
    assert compare(a, b, resamples=1000) == result


def test_compare_refuses_different_pairs():
    labels = np.tile([True, False], 10)
    folds = np.arange(20) // 10
    a = evaluate(np.linspace(0, 1, 20), labels, folds)
    b = evaluate(np.linspace(0, 1, 20), ~labels, folds)
    with pytest.raises(ValueError, match="same pairs"):
        compare(a, b)
