import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fverify.errors import FverifyError
from fverify.protocols.folds import STRATIFIED_RULE, check_folds, folds_of_file, stratified_folds


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


def test_fold_ids_from_one_are_read_as_one_based():
    labels = np.array([1, 0, 1, 0], dtype=bool)
    made = folds_of_file(labels, np.array([1, 1, 2, 2]), "f.csv")
    assert made.folds.tolist() == [0, 0, 1, 1] and made.base == 1 and "1..k" in made.rule
    assert "counted from 0" in made.fix
    made = folds_of_file(labels, np.array([0, 0, 1, 1]), "f.csv")
    assert made.folds.tolist() == [0, 0, 1, 1] and made.base == 0 and "counted" not in made.fix


def test_without_fold_ids_the_stratified_rule_needs_ten_of_each_class():
    labels = np.array([True] * 10 + [False] * 12)
    made = folds_of_file(labels, None, "f.csv")
    assert made.rule == STRATIFIED_RULE and made.folds.tolist() == stratified_folds(labels).tolist()
    with pytest.raises(FverifyError, match=r"f.csv \(no fold column\): .* found 9 and 12"):
        folds_of_file(labels[1:], None, "f.csv")


def test_check_folds_needs_two_folds_and_gives_the_callers_advice():
    with pytest.raises(FverifyError) as caught:
        check_folds(np.array([True, False]), np.array([0, 0]), where="x", fix="do this")
    assert str(caught.value) == ("x: all 2 pairs are in one fold; the k-fold threshold search needs "
                                 "at least 2 folds\n  -> do this")
    check_folds(np.array([True, False] * 2), np.array([0, 0, 1, 1]), where="x", fix="do this")
