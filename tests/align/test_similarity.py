import math

import numpy as np
import pytest

from fverify.align.similarity import similarity_transform
from fverify.errors import FverifyError


def similarity(scale, angle, tx, ty):
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[scale * c, -scale * s, tx], [scale * s, scale * c, ty]])


def apply(matrix, points):
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_recovers_a_known_similarity_exactly():
    points = np.random.default_rng(0).uniform(0, 200, (5, 2))
    truth = similarity(0.37, 0.6, -12.5, 40.25)
    np.testing.assert_allclose(similarity_transform(points, apply(truth, points)), truth, atol=1e-10)


def test_hand_case_unit_square_rotated_and_doubled():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    # 90 degrees anticlockwise, doubled, moved by (3, 4): (x, y) -> (3 - 2y, 4 + 2x).
    target = np.array([[3, 4], [3, 6], [1, 6], [1, 4]], dtype=float)
    np.testing.assert_allclose(similarity_transform(square, target),
                               [[0, -2, 3], [2, 0, 4]], atol=1e-12)


def test_hand_case_two_points_fix_scale_and_rotation():
    matrix = similarity_transform([[0, 0], [2, 0]], [[5, 5], [5, 6]])
    np.testing.assert_allclose(matrix, [[0, -0.5, 5], [0.5, 0, 5]], atol=1e-12)


def test_a_mirrored_target_gets_no_reflection():
    points = np.array([[0, 0], [4, 0], [0, 2], [3, 3]], dtype=float)
    mirrored = points * [-1, 1]
    matrix = similarity_transform(points, mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0  # a rotation times a positive scale


def test_noisy_points_give_the_least_squares_optimum():
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 100, (5, 2))
    target = apply(similarity(1.3, -0.2, 5, 7), points) + rng.normal(0, 2, (5, 2))
    best = similarity_transform(points, target)
    residual = ((apply(best, points) - target) ** 2).sum()
    # Independent check: no nearby similarity does better (perturb each parameter).
    scale, angle = math.hypot(best[0, 0], best[1, 0]), math.atan2(best[1, 0], best[0, 0])
    for delta in np.eye(4) * 1e-3:
        for sign in (1, -1):
            params = np.array([scale, angle, best[0, 2], best[1, 2]]) + sign * delta
            other = ((apply(similarity(*params), points) - target) ** 2).sum()
            assert other > residual


def test_coincident_source_points_are_refused():
    with pytest.raises(FverifyError, match="coincide"):
        similarity_transform(np.ones((5, 2)), np.zeros((5, 2)))
