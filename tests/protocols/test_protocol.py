import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.protocols import Protocol


def make(labels, folds, pairs=None, items=("a", "b", "c")):
    labels = np.asarray(labels, dtype=bool)
    pairs = np.zeros((len(labels), 2), dtype=np.int64) if pairs is None else np.asarray(pairs)
    return Protocol("toy", tuple(items), pairs, labels, np.asarray(folds), "toy.txt", "0" * 32,
                    fold_rule="toy folds", fold_fix="fix the toy folds")


def test_valid_protocol_counts():
    protocol = make([1, 0, 1, 0], [0, 0, 1, 1])
    assert protocol.num_pairs == 4 and protocol.num_folds == 2


def test_fold_without_negatives_is_an_error_naming_the_fold():
    with pytest.raises(FverifyError, match=r"toy.txt: fold 1 has no negative"):
        make([1, 0, 1, 1], [0, 0, 1, 1])


def test_fold_ids_with_a_gap_are_an_error():
    with pytest.raises(FverifyError, match="0..k-1"):
        make([1, 0, 1, 0], [0, 0, 2, 2])


def test_pair_pointing_past_the_items_is_refused():
    with pytest.raises(ValueError, match="does not exist"):
        make([1, 0], [0, 0], pairs=[[0, 1], [2, 3]])


def test_one_fold_is_an_error_with_the_adapters_advice():
    with pytest.raises(FverifyError) as caught:
        make([1, 0, 1, 0], [0, 0, 0, 0])
    assert str(caught.value) == ("toy.txt: all 4 pairs are in one fold; the k-fold threshold "
                                 "search needs at least 2 folds\n  -> fix the toy folds")


def test_fold_rule_is_recorded():
    assert make([1, 0, 1, 0], [0, 0, 1, 1]).fold_rule == "toy folds"
