"""Holm's correction against a hand-worked example and against the procedure's definition."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fverify.metrics.holm import holm_adjust


def test_hand_worked_example():
    # sorted: 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 = 0.04 -> kept at 0.06
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_one_p_value_is_unchanged_and_large_ones_cap_at_one():
    assert holm_adjust([0.0123]).tolist() == [0.0123]
    assert holm_adjust([0.6, 0.7]).tolist() == [1.0, 1.0]


def step_down_rejections(p, alpha):
    """Holm's procedure as published: walk the sorted p-values, reject while
    p_(i) <= alpha / (m - i + 1) (1-based i), stop at the first that is not."""
    rejected = np.zeros(len(p), dtype=bool)
    for rank, index in enumerate(np.argsort(p, kind="stable")):
        if p[index] > alpha / (len(p) - rank):
            break
        rejected[index] = True
    return rejected


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12), st.sampled_from([0.01, 0.05, 0.1]))
def test_adjusted_values_reject_exactly_what_the_step_down_procedure_rejects(p, alpha):
    p = np.array(p)
    adjusted = holm_adjust(p)
    assert np.all(adjusted >= p) and np.all(adjusted <= 1)
    assert np.array_equal(adjusted <= alpha, step_down_rejections(p, alpha))


def test_refuses_what_is_not_a_p_value():
    with pytest.raises(ValueError):
        holm_adjust([0.5, 1.5])
