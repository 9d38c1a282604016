import pytest

from fverify.train.schedule import learning_rate


def test_the_papers_step_schedule():
    # lr 0.01, x0.1 after epochs 8, 12 and 16 (1-based epochs)
    expected = [0.01] * 8 + [0.001] * 4 + [0.0001] * 4 + [0.00001] * 4
    got = [learning_rate(epoch, 0.01, [8, 12, 16], 0.1) for epoch in range(1, 21)]
    assert got == pytest.approx(expected, rel=1e-12)


def test_no_milestones_is_constant():
    assert {learning_rate(e, 0.05, [], 0.1) for e in range(1, 5)} == {0.05}
