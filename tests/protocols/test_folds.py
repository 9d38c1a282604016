import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fverify.protocols.folds import stratified_folds


def test_round_robin_per_class_in_file_order():
    labels = np.array([1, 1, 0, 1, 0, 0, 1], dtype=bool)
    assert stratified_folds(labels, num_folds=3).tolist() == [0, 1, 0, 2, 1, 2, 0]


@given(st.lists(st.booleans(), min_size=1, max_size=300), st.integers(1, 12))
def test_each_fold_within_one_pair_per_class(labels, k):
    labels = np.array(labels)
    folds = stratified_folds(labels, k)
    assert folds.min() >= 0 and folds.max() < k
    for value in (True, False):
        counts = np.bincount(folds[labels == value], minlength=k)
        assert counts.max() - counts.min() <= 1
