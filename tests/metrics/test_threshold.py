import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fverify.bench.insightface_loop import insightface_grid_loop
from fverify.errors import FverifyError
from fverify.metrics.threshold import (
    INSIGHTFACE_THRESHOLDS,
    exact_kfold,
    grid_kfold,
    insightface_distance,
)


def brute_force_fold(train_scores, train_labels):
    """Every candidate threshold (below all scores, then at each distinct score, deciding
    ``score > t``): the best training accuracy and the highest cut reaching it, as the pair of
    adjacent training scores around that cut (None at an end)."""
    values = sorted(set(train_scores.tolist()))
    candidates = [(None, values[0])] + [
        (values[i], values[i + 1] if i + 1 < len(values) else None) for i in range(len(values))
    ]
    best, best_gap = -1, None
    for lower, upper in candidates:
        called_same = train_scores > lower if lower is not None else np.ones(len(train_scores), bool)
        correct = int(np.sum(called_same == train_labels))
        if correct >= best:  # >=: the later (higher) cut wins ties
            best, best_gap = correct, (lower, upper)
    return best / len(train_scores), best_gap


def check_against_brute_force(scores, labels, folds):
    result = exact_kfold(scores, labels, folds)
    for fold in range(folds.max() + 1):
        train, test = folds != fold, folds == fold
        accuracy, (lower, upper) = brute_force_fold(scores[train], labels[train])
        threshold = result.thresholds[fold]
        assert np.isfinite(threshold)
        assert result.train_accuracy[fold] == accuracy
        # the threshold makes exactly the oracle's cut, placed by the documented rule
        if lower is None:
            assert threshold < upper and threshold == np.nextafter(upper, -np.inf)
        elif upper is None:
            assert threshold == lower
        else:
            assert lower <= threshold < upper
            assert threshold == pytest.approx((lower + upper) / 2, rel=1e-12, abs=1e-300)
        called_same = scores[test] > threshold
        assert result.test_accuracy[fold] == np.mean(called_same == labels[test])
        assert np.array_equal(result.predicted_same[test], called_same)


@st.composite
def kfold_data(draw, max_pairs=40):
    k = draw(st.integers(2, 5))
    n = draw(st.integers(k, max_pairs))
    # every fold id appears at least once
    extra = draw(st.lists(st.integers(0, k - 1), min_size=n - k, max_size=n - k))
    folds = np.array(draw(st.permutations(list(range(k)) + extra)))
    labels = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    kind = draw(st.sampled_from(["ties", "floats", "equal"]))
    if kind == "ties":
        scores = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), dtype=float) / 4
    elif kind == "floats":
        scores = np.array(draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n)))
    else:
        scores = np.full(n, draw(st.floats(-1, 1)))
    return scores, labels, folds


@settings(max_examples=300)
@given(kfold_data())
def test_exact_search_matches_brute_force(data):
    check_against_brute_force(*data)


def test_exact_search_on_random_lfw_sized_data():
    rng = np.random.default_rng(7)
    labels = np.tile(np.repeat([True, False], 30), 10)
    folds = np.repeat(np.arange(10), 60)
    scores = np.round(np.where(labels, 0.5, 0.1) + 0.2 * rng.standard_normal(600), 2)  # many ties
    check_against_brute_force(scores, labels, folds)


def test_all_equal_scores_give_finite_end_thresholds():
    scores = np.full(8, 0.3)
    mostly_same = np.array([1, 1, 1, 0, 1, 1, 1, 0], dtype=bool)
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    result = exact_kfold(scores, mostly_same, folds)
    assert np.all(result.thresholds < 0.3) and np.all(np.isfinite(result.thresholds))
    assert result.predicted_same.all()
    result = exact_kfold(scores, ~mostly_same, folds)
    assert np.all(result.thresholds == 0.3) and not result.predicted_same.any()


def test_tie_rule_takes_the_highest_best_cut():
    # training (fold 1) scores 1..4 with labels 0 1 0 1: cuts at 1.5 and 3.5 are both 3/4 right
    scores = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 0.0])
    labels = np.array([0, 1, 0, 1, 1, 0], dtype=bool)
    folds = np.array([1, 1, 1, 1, 0, 0])
    result = exact_kfold(scores, labels, folds)
    assert result.thresholds[0] == 3.5
    assert result.train_accuracy[0] == 0.75


def test_extreme_scores_keep_finite_midpoints():
    big = np.finfo(np.float64).max
    scores = np.array([-big, big, -big / 2, big / 2])
    labels = np.array([0, 1, 0, 1], dtype=bool)
    folds = np.array([0, 0, 1, 1])
    check_against_brute_force(scores, labels, folds)


def test_held_out_pairs_between_training_scores_are_skipped():
    # fold 0's pairs sit in the middle of the sorted order, so the best training cut's
    # neighbours are training pairs far from it
    scores = np.array([0.0, 0.1, 0.45, 0.46, 0.47, 0.9, 1.0, 0.48])
    labels = np.array([0, 0, 1, 0, 1, 1, 1, 0], dtype=bool)
    folds = np.array([1, 1, 0, 0, 0, 1, 1, 0])
    result = exact_kfold(scores, labels, folds)
    assert result.thresholds[0] == pytest.approx(0.5)
    check_against_brute_force(scores, labels, folds)


def cosine_data(draw_seed, n, k, *, on_grid=False, ties=False):
    rng = np.random.default_rng(draw_seed)
    labels = rng.random(n) < 0.5
    folds = np.arange(n) % k
    scores = np.clip(np.where(labels, 0.4, 0.1) + 0.25 * rng.standard_normal(n), -1, 1)
    if on_grid:  # distances exactly on (or a rounding away from) the grid thresholds
        scores = 1 - rng.choice(INSIGHTFACE_THRESHOLDS, n) / 2
    if ties:
        scores = np.round(scores, 1)
    return scores, labels, folds


@pytest.mark.parametrize(
    "seed, n, k, on_grid, ties",
    [
        (0, 600, 10, False, False),
        (1, 6000, 10, False, False),
        (2, 300, 3, True, False),
        (3, 200, 4, False, True),
        (4, 20, 10, False, False),
    ],
)
def test_grid_is_bit_identical_to_the_insightface_loop(seed, n, k, on_grid, ties):
    scores, labels, folds = cosine_data(seed, n, k, on_grid=on_grid, ties=ties)
    result = grid_kfold(scores, labels, folds)
    for slice_per_threshold in (True, False):
        thresholds, train, test = insightface_grid_loop(
            scores, labels, folds, slice_per_threshold=slice_per_threshold
        )
        assert np.array_equal(result.thresholds, thresholds)
        assert np.array_equal(result.train_accuracy, train)
        assert np.array_equal(result.test_accuracy, test)
    assert np.array_equal(result.predicted_same, insightface_distance(scores) < result.thresholds[folds])


@settings(max_examples=60)
@given(kfold_data(max_pairs=30))
def test_grid_matches_loop_and_exact_never_trains_worse(data):
    scores, labels, folds = data
    scores = np.clip(scores, -1, 1)
    grid = grid_kfold(scores, labels, folds)
    thresholds, train, test = insightface_grid_loop(scores, labels, folds)
    assert np.array_equal(grid.thresholds, thresholds)
    assert np.array_equal(grid.train_accuracy, train) and np.array_equal(grid.test_accuracy, test)
    assert np.all(exact_kfold(scores, labels, folds).train_accuracy >= grid.train_accuracy)


def test_grid_refuses_scores_that_are_not_cosines():
    scores, labels, folds = cosine_data(0, 100, 2)
    with pytest.raises(FverifyError, match="cosine similarities in \\[-1, 1\\]"):
        grid_kfold(scores * 3, labels, folds)

