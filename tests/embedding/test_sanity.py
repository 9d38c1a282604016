import numpy as np
from scipy.stats import binom

from fverify.embedding.sanity import USUAL_CAUSES, chance_interval, chance_level_warning
from fverify.metrics.evaluation import evaluate

BALANCED = np.arange(6000) % 2 == 0


def test_interval_is_the_exact_binomial_one():
    low, high = chance_interval(6000)
    # The normal approximation 0.5 +- 2.576 * sqrt(0.25 / 6000) = 0.5 +- 0.01663.
    assert abs(high - 0.5166) < 0.0005 and abs(low - 0.4834) < 0.0005
    assert binom.cdf(high * 6000, 6000, 0.5) >= 0.995


def test_interval_is_centred_on_the_majority_rate():
    # Normal approximation: 0.9 +- 2.576 * sqrt(0.9 * 0.1 / 6000) = 0.9 +- 0.00998.
    for same_fraction in (0.1, 0.9):
        low, high = chance_interval(6000, same_fraction)
        assert abs(high - 0.9100) < 0.0005 and abs(low - 0.8900) < 0.0005


def test_warning_at_chance_names_every_usual_cause():
    message = chance_level_warning(0.505, BALANCED)
    assert message is not None and "50.50%" in message
    assert all(cause in message for cause in USUAL_CAUSES)
    for word in ("colour", "normalisation", "alignment", "architecture"):
        assert word in message


def test_no_warning_when_clearly_above_chance():
    assert chance_level_warning(0.53, BALANCED) is None
    assert chance_level_warning(0.99, BALANCED) is None


def test_small_sets_have_wide_intervals():
    assert chance_level_warning(0.6, np.arange(40) % 2 == 0) is not None  # 24/40 is no evidence
    assert np.isclose(chance_interval(40)[1], binom.ppf(0.995, 40, 0.5) / 40)


def test_random_scores_on_an_imbalanced_set_are_caught():
    # 10% same pairs, scores that ignore the truth: the fitted thresholds call nearly every
    # pair different and the accuracy lands near 90%, far above the fair-coin interval.
    rng = np.random.default_rng(3)
    labels = np.zeros(6000, dtype=bool)
    labels[::10] = True
    folds = np.arange(6000) // 600
    accuracy = evaluate(rng.standard_normal(6000), labels, folds).accuracy.mean
    assert accuracy > chance_interval(6000)[1] + 0.3
    message = chance_level_warning(accuracy, labels)
    assert message is not None and "10.0% same" in message and "answering 'different'" in message
    # The same accuracy is real skill on a balanced set.
    assert chance_level_warning(accuracy, BALANCED) is None
