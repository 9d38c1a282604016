import numpy as np
from scipy.stats import binom

from fverify.embedding.sanity import USUAL_CAUSES, chance_interval, chance_level_warning


def test_interval_is_the_exact_binomial_one():
    low, high = chance_interval(6000)
    # The normal approximation 0.5 +- 2.576 * sqrt(0.25 / 6000) = 0.5 +- 0.01663.
    assert abs(high - 0.5166) < 0.0005 and abs(low - 0.4834) < 0.0005
    assert binom.cdf(high * 6000, 6000, 0.5) >= 0.995


def test_warning_at_chance_names_every_usual_cause():
    message = chance_level_warning(0.505, 6000)
    assert message is not None and "50.50%" in message
    assert all(cause in message for cause in USUAL_CAUSES)
    for word in ("colour", "normalisation", "alignment", "architecture"):
        assert word in message


def test_no_warning_when_clearly_above_chance():
    assert chance_level_warning(0.53, 6000) is None
    assert chance_level_warning(0.99, 6000) is None


def test_small_sets_have_wide_intervals():
    assert chance_level_warning(0.6, 40) is not None  # 24/40 right is not evidence of skill
    assert np.isclose(chance_interval(40)[1], binom.ppf(0.995, 40, 0.5) / 40)
