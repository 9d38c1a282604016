import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score, roc_curve as sklearn_roc_curve

from fverify.metrics.roc import auc, eer, fold_averaged_roc, roc_curve, tar_at_far, vertical_average


@st.composite
def scored_pairs(draw, max_pairs=60):
    n = draw(st.integers(2, max_pairs))
    labels = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    labels[0], labels[1] = True, False  # both classes present
    if draw(st.booleans()):
        scores = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=float)
    else:
        scores = np.array(draw(st.lists(st.floats(-1, 1, allow_subnormal=False), min_size=n, max_size=n)))
    return scores, labels


def brute_force_operating_points(scores, labels):
    """(threshold, FAR, TAR) for 'score > t' below all scores, midway between each two adjacent
    distinct scores and at the top score."""
    values = sorted(set(scores.tolist()))
    between = [(a + b) / 2 for a, b in zip(values, values[1:])]
    points = []
    for t in [np.nextafter(values[0], -np.inf)] + between + [values[-1]]:
        accepted = scores > t
        points.append((t, np.mean(accepted[~labels]), np.mean(accepted[labels])))
    return points


@settings(max_examples=200)
@given(scored_pairs())
def test_roc_points_and_auc_match_scikit_learn(data):
    scores, labels = data
    roc = roc_curve(scores, labels)
    fpr, tpr, _ = sklearn_roc_curve(labels, scores, drop_intermediate=False)
    assert np.allclose(roc.fpr, fpr, rtol=0, atol=1e-15) and np.allclose(roc.tpr, tpr, rtol=0, atol=1e-15)
    assert auc(roc) == pytest.approx(roc_auc_score(labels, scores), rel=1e-12, abs=1e-15)
    # each point's threshold makes exactly that point
    for f, t, threshold in zip(roc.fpr, roc.tpr, roc.thresholds):
        accepted = scores > threshold
        assert np.mean(accepted[~labels]) == f and np.mean(accepted[labels]) == t


def brute_force_eer(scores, labels):
    """Walk the operating points by increasing FAR; interpolate FAR = FRR on the crossing segment."""
    points = sorted(brute_force_operating_points(scores, labels), key=lambda p: (p[1], p[2]))
    for (t0, far0, tar0), (t1, far1, tar1) in zip(points, points[1:]):
        gap0, gap1 = (1 - tar0) - far0, (1 - tar1) - far1
        if gap0 > 0 >= gap1:
            w = gap0 / (gap0 - gap1)
            return far0 + w * (far1 - far0), t0 + w * (t1 - t0)
    raise AssertionError("no crossing")


@settings(max_examples=200)
@given(scored_pairs())
def test_eer_matches_brute_force(data):
    scores, labels = data
    result = eer(roc_curve(scores, labels))
    rate, threshold = brute_force_eer(scores, labels)
    assert result.rate == pytest.approx(rate, abs=1e-12)
    assert result.threshold == pytest.approx(threshold, rel=1e-9, abs=1e-12)
    assert 0 <= result.rate <= 1


def test_eer_by_hand():
    separable = roc_curve(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0], dtype=bool))
    assert eer(separable).rate == 0.0
    assert eer(separable).threshold == pytest.approx(0.5)
    all_equal = roc_curve(np.full(4, 0.5), np.array([1, 0, 1, 0], dtype=bool))
    assert eer(all_equal).rate == 0.5
    # one negative above one positive among 2 + 2: FAR = FRR = 0.5 at the crossing of (0, .5)-(.5, .5)?
    scores, labels = np.array([0.9, 0.7, 0.8, 0.1]), np.array([1, 1, 0, 0], dtype=bool)
    assert eer(roc_curve(scores, labels)).rate == pytest.approx(brute_force_eer(scores, labels)[0])


@settings(max_examples=200)
@given(scored_pairs(), st.sampled_from([0.5, 0.25, 0.1, 0.05, 1e-2]))
def test_tar_at_far_matches_brute_force(data, far):
    scores, labels = data
    roc = roc_curve(scores, labels)
    point = tar_at_far(roc, far)
    if far < 1 / np.count_nonzero(~labels):
        assert point.tar is None and point.threshold is None and "1/n_negatives" in point.reason
        return
    best = max(tar for _, f, tar in brute_force_operating_points(scores, labels) if f <= far)
    assert point.tar == best and point.reason is None
    accepted = scores > point.threshold
    assert np.mean(accepted[~labels]) <= far and np.mean(accepted[labels]) == best


def test_tar_at_far_resolution_limit():
    rng = np.random.default_rng(0)
    labels = np.repeat([True, False], [3000, 3000])
    scores = np.where(labels, 0.5, 0.0) + 0.2 * rng.standard_normal(6000)
    roc = roc_curve(scores, labels)
    assert tar_at_far(roc, 1 / 3000).tar is not None  # exactly one false accept allowed
    unresolved = tar_at_far(roc, 1e-4)
    assert unresolved.tar is None
    assert unresolved.reason == "FAR 1e-4 is below 1/n_negatives = 1/3000; it needs at least 10000 negative pairs"


def brute_force_tpr_at(fpr_points, tpr_points, f):
    """Linear interpolation along the curve; on a vertical run, its top."""
    at = [t for x, t in zip(fpr_points, tpr_points) if x == f]
    if at:
        return max(at)
    for (x0, t0), (x1, t1) in zip(zip(fpr_points, tpr_points), zip(fpr_points[1:], tpr_points[1:])):
        if x0 < f < x1:
            return t0 + (f - x0) * (t1 - t0) / (x1 - x0)
    raise AssertionError


@settings(max_examples=100)
@given(scored_pairs())
def test_vertical_average_interpolates_along_the_curve(data):
    roc = roc_curve(*data)
    grid = np.linspace(0, 1, 21)
    sampled = vertical_average(roc, grid)
    expected = [brute_force_tpr_at(roc.fpr.tolist(), roc.tpr.tolist(), f) for f in grid]
    assert np.allclose(sampled, expected, rtol=0, atol=1e-12)
    assert sampled[-1] == 1.0


def test_fold_averaged_roc_is_the_mean_and_std_of_the_folds():
    rng = np.random.default_rng(3)
    labels = np.tile(np.repeat([True, False], 20), 3)
    folds = np.repeat(np.arange(3), 40)
    scores = np.where(labels, 0.4, 0.0) + 0.3 * rng.standard_normal(120)
    grid = np.linspace(0, 1, 11)
    mean, std = fold_averaged_roc(scores, labels, folds, grid)
    per_fold = np.array(
        [vertical_average(roc_curve(scores[folds == f], labels[folds == f]), grid) for f in range(3)]
    )
    assert np.allclose(mean, per_fold.mean(axis=0)) and np.allclose(std, per_fold.std(axis=0))
