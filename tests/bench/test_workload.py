import numpy as np

from fverify.bench.workload import lfw_shaped_pairs, synthetic_scores


def test_lfw_shaped_layout():
    labels, folds = lfw_shaped_pairs(6000)
    assert folds.tolist() == np.repeat(np.arange(10), 600).tolist()
    assert labels.tolist() == np.tile(np.repeat([True, False], 300), 10).tolist()
    labels, folds = lfw_shaped_pairs(25, num_folds=2)
    assert np.bincount(folds).tolist() == [13, 12]
    assert labels.tolist() == [True] * 7 + [False] * 6 + [True] * 6 + [False] * 6


def test_synthetic_scores_are_seeded_cosines_sharing_pair_difficulty():
    labels, _ = lfw_shaped_pairs(6000)
    a = synthetic_scores(labels, model_seed=1)
    assert np.array_equal(a, synthetic_scores(labels, model_seed=1))
    assert a.min() >= -1 and a.max() <= 1
    assert a[labels].mean() > 0.5 > 0.1 > a[~labels].mean()
    b = synthetic_scores(labels, model_seed=2)
    unrelated = synthetic_scores(labels, model_seed=2, pair_seed=9)
    assert np.corrcoef(a[labels], b[labels])[0, 1] > 0.5 > abs(np.corrcoef(a[labels], unrelated[labels])[0, 1])
