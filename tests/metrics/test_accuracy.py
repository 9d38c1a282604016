import math
import statistics

import numpy as np

from fverify.metrics.accuracy import AccuracySummary


def test_mean_std_and_standard_error_against_the_statistics_module():
    folds = [0.995, 0.99, 1.0, 0.9833333333333333, 0.9966666666666667, 0.99, 0.995, 0.9933333333333333, 1.0, 0.985]
    summary = AccuracySummary(np.array(folds))
    assert math.isclose(summary.mean, statistics.fmean(folds), rel_tol=1e-15)
    assert math.isclose(summary.std, statistics.pstdev(folds), rel_tol=1e-12)
    assert math.isclose(summary.se, statistics.stdev(folds) / math.sqrt(10), rel_tol=1e-12)
    # For 10 folds insightface's std is sqrt(k-1) = 3x the standard error.
    assert math.isclose(summary.std / summary.se, 3.0, rel_tol=1e-12)


def test_two_folds_by_hand():
    summary = AccuracySummary(np.array([0.9, 1.0]))
    assert math.isclose(summary.mean, 0.95)
    assert math.isclose(summary.std, 0.05)
    assert math.isclose(summary.se, 0.05)  # std(ddof=1) = 0.0707..., / sqrt(2)
