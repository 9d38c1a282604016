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
