import numpy as np
import pytest

from fverify.bench.workload import lfw_shaped_pairs, synthetic_scores
from fverify.metrics.evaluation import FAR_TARGETS, FOLD_ROC_FPR, evaluate
from fverify.metrics.roc import auc, eer, roc_curve, tar_at_far
from fverify.metrics.threshold import exact_kfold


@pytest.fixture(scope="module")
def lfw_like():
    labels, folds = lfw_shaped_pairs(6000)
    return synthetic_scores(labels, model_seed=1), labels, folds


@pytest.mark.parametrize("method", ["exact", "grid"])
def test_evaluation_gathers_each_metric_from_its_module(lfw_like, method):
    scores, labels, folds = lfw_like
    result = evaluate(scores, labels, folds, method)
    assert result.search.method == method and result.num_folds == 10
    assert result.accuracy.mean == np.mean(result.search.test_accuracy)
    roc = roc_curve(scores, labels)
    assert result.auc == auc(roc) and result.eer == eer(roc)
    assert tuple(result.tar_at_far) == FAR_TARGETS == ("1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6")
    assert result.tar_at_far["1e-3"] == tar_at_far(roc, 1e-3)
    assert [result.tar_at_far[t].tar is None for t in FAR_TARGETS] == [False, False, False, True, True, True]
    assert np.array_equal(result.correct, result.search.predicted_same == labels)
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
