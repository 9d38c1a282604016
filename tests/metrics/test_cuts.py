import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fverify.metrics.cuts import cut_threshold, place_threshold, realisable_cuts

finite = st.floats(allow_nan=False, allow_infinity=False)


@given(finite, finite)
def test_threshold_lies_in_the_gap_for_any_two_floats(a, b):
    lower, upper = min(a, b), max(a, b)
    if lower == upper:
        return
    t = float(place_threshold(lower, upper))
    assert lower <= t < upper


@given(finite)
def test_threshold_between_adjacent_floats(a):
    if a == np.finfo(np.float64).max:
        return
    upper = np.nextafter(a, np.inf)
    t = float(place_threshold(a, upper))
    assert a <= t < upper


def test_midpoint_inside_and_no_overflow_at_the_float_limits():
    assert place_threshold(0.25, 0.75) == 0.5
    big = np.finfo(np.float64).max
    assert place_threshold(-big, big) == 0.0
    assert np.isfinite(place_threshold(big / 2, big))


@given(finite)
def test_end_rules(score):
    if score > -np.finfo(np.float64).max:  # the lowest float has no finite float below it
        below_all = float(place_threshold(-np.inf, score))
        assert np.isfinite(below_all) and below_all < score
    above_all = float(place_threshold(score, np.inf))
    assert above_all == score  # score > t is then false for every score


def test_realisable_cuts_skip_ties():
    sorted_scores = np.array([0.1, 0.2, 0.2, 0.2, 0.5])
    assert realisable_cuts(sorted_scores).tolist() == [True, True, False, False, True, True]
    cuts = np.flatnonzero(realisable_cuts(sorted_scores))
    thresholds = cut_threshold(sorted_scores, cuts)
    for cut, t in zip(cuts, thresholds):
        assert np.count_nonzero(sorted_scores > t) == len(sorted_scores) - cut
