import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from fverify.bench.workload import lfw_shaped_pairs, synthetic_scores
from fverify.metrics.evaluation import FAR_TARGETS, FOLD_ROC_FPR, evaluate
from fverify.metrics.threshold import exact_kfold


@pytest.fixture(scope="module")
def lfw_like():
    labels, folds = lfw_shaped_pairs(6000)
    return synthetic_scores(labels, model_seed=1), labels, folds


def called_same(method, scores, thresholds, folds):
    """Each pair's decision at its fold's threshold, from the two rules as documented."""
    if method == "exact":
        return scores > thresholds[folds]  # score above the threshold
    return 2 - 2 * scores < thresholds[folds]  # insightface: squared L2 distance below it


@pytest.mark.parametrize("method", ["exact", "grid"])
def test_every_metric_matches_an_independent_computation(lfw_like, method):
    scores, labels, folds = lfw_like
    result = evaluate(scores, labels, folds, method)
    assert result.search.method == method and result.num_folds == 10
    # Held-out accuracy and per-pair correctness re-derived from the fold thresholds alone.
    same = called_same(method, scores, result.search.thresholds, folds)
    by_fold = [np.mean(same[folds == f] == labels[folds == f]) for f in range(10)]
    assert result.accuracy.mean == pytest.approx(np.mean(by_fold), abs=1e-12)
    assert np.array_equal(result.correct, same == labels)
    # Pooled ROC numbers against scikit-learn and a brute-force reading of the negatives.
    assert result.auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    fpr, tpr, _ = sk_roc_curve(labels, scores, drop_intermediate=False)
    crossing = np.argmax(1 - tpr <= fpr)  # first operating point where FRR <= FAR
    assert fpr[crossing - 1] <= result.eer.rate <= fpr[crossing] + 1e-12
    assert abs(result.eer.rate - (1 - tpr[crossing])) <= 1 / labels.sum()
    negatives = np.sort(scores[~labels])[::-1]
    # FAR 1e-3 of 3,000 negatives allows the 3 highest above the threshold; scores are continuous.
    assert result.tar_at_far["1e-3"].tar == pytest.approx(np.mean(scores[labels] > negatives[3]))
    assert tuple(result.tar_at_far) == ("1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6")
    # 3,000 negatives resolve FARs down to 1/3,000 only.
    assert [result.tar_at_far[t].tar is None for t in FAR_TARGETS] == [False, False, False, True, True, True]
    assert len(result.fold_roc_tpr_mean) == len(FOLD_ROC_FPR)
    for rate in (result.accuracy.mean, result.auc, result.eer.rate, *result.fold_roc_tpr_mean):
        assert 0 <= rate <= 1


def test_exact_is_the_default_method(lfw_like):
    scores, labels, folds = lfw_like
    default = evaluate(scores, labels, folds).search.thresholds
    assert np.array_equal(default, exact_kfold(scores, labels, folds).thresholds)


def test_one_fold_is_refused():
    with pytest.raises(ValueError, match="at least 2 folds"):
        evaluate(np.array([0.1, 0.9]), np.array([False, True]), np.array([0, 0]))


def best_training_cut(scores, labels):
    """Brute force: the training accuracy of the best 'score > t' rule over every distinct
    score (and below all), and the range of thresholds that make those same decisions."""
    candidates = np.concatenate([[-np.inf], np.unique(scores)])
    accuracy = np.array([np.mean((scores > t) == labels) for t in candidates])
    best = len(candidates) - 1 - int(np.argmax(accuracy[::-1]))  # ties: the highest cut
    upper = candidates[best + 1] if best + 1 < len(candidates) else np.inf
    return accuracy[best], candidates[best], upper


@pytest.mark.parametrize("test_fold", [0, 1, 2])
def test_fixed_split_fits_on_the_other_folds_and_reports_the_test_fold_alone(test_fold):
    rng = np.random.default_rng(7)
    labels = rng.random(900) < 0.5
    folds = rng.integers(0, 3, 900)
    scores = np.where(labels, 0.8, 0.0) + rng.standard_normal(900)
    result = evaluate(scores, labels, folds, test_fold=test_fold)
    train, test = folds != test_fold, folds == test_fold
    train_accuracy, low, high = best_training_cut(scores[train], labels[train])
    threshold = result.search.thresholds[0]
    assert result.num_folds == 1 and result.tested_folds == [test_fold] and result.test_fold == test_fold
    assert result.search.train_accuracy[0] == pytest.approx(train_accuracy, abs=1e-12)
    assert low <= threshold < high
    # Every reported figure is of the tested fold's pairs, decided at the fitted threshold.
    assert np.array_equal(result.labels, labels[test]) and not result.folds.any()
    assert result.accuracy.mean == pytest.approx(np.mean((scores[test] > threshold) == labels[test]), abs=1e-12)
    assert np.array_equal(result.correct, (scores[test] > threshold) == labels[test])
    assert result.auc == pytest.approx(roc_auc_score(labels[test], scores[test]), abs=1e-12)
    assert result.roc.num_positive == labels[test].sum()
    # One tested fold has no spread over folds.
    assert result.accuracy.se is None and result.accuracy.std is None


def test_fixed_split_never_looks_at_the_tested_fold_to_fit():
    rng = np.random.default_rng(8)
    labels = np.tile([True, False], 300)
    folds = np.repeat([0, 1], 300)
    scores = np.where(labels, 1.0, 0.0) + rng.standard_normal(600)
    shuffled = scores.copy()
    shuffled[folds == 1] = rng.permutation(scores[folds == 1]) + 5.0  # wreck the test fold
    fitted = evaluate(scores, labels, folds, test_fold=1).search.thresholds
    assert np.array_equal(evaluate(shuffled, labels, folds, test_fold=1).search.thresholds, fitted)
    # Cross-validation on the same two folds does fit on fold 1 for fold 0's threshold.
    assert not np.array_equal(evaluate(shuffled, labels, folds).search.thresholds[:1],
                              evaluate(scores, labels, folds).search.thresholds[:1])


def test_fixed_split_with_the_grid_search_uses_the_grid_rule():
    rng = np.random.default_rng(9)
    labels = np.tile([True, False], 200)
    folds = np.repeat([0, 1], 200)
    scores = np.clip(np.where(labels, 0.5, 0.1) + 0.2 * rng.standard_normal(400), -1, 1)
    result = evaluate(scores, labels, folds, "grid", test_fold=1)
    distance, threshold = 2 - 2 * scores, result.search.thresholds[0]
    # insightface: the first grid threshold of best accuracy on the training fold.
    grid = np.arange(0, 4, 0.01)
    train_accuracy = [np.mean((distance[folds == 0] < t) == labels[folds == 0]) for t in grid]
    assert threshold == grid[int(np.argmax(train_accuracy))]
    assert result.accuracy.mean == pytest.approx(np.mean((distance[folds == 1] < threshold) == labels[folds == 1]))


def test_a_test_fold_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="fold 2"):
        evaluate(np.array([0.1, 0.9, 0.2, 0.8]), np.array([False, True, False, True]), np.array([0, 0, 1, 1]),
                 test_fold=2)
