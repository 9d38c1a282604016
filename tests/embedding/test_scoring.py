import math

import numpy as np
import pytest

from fverify.data.images import ImageFiles
from fverify.errors import FverifyError
from fverify.embedding.scoring import aggregation_setting, pair_scores
from fverify.protocols.evalset import EvalSet
from fverify.protocols.protocol import Protocol


def video_evalset(frames_per_video, pairs, labels, folds):
    image_item = np.repeat(np.arange(len(frames_per_video)), frames_per_video)
    items = tuple(f"P{i}/0" for i in range(len(frames_per_video)))
    protocol = Protocol("toy", items, np.array(pairs), np.array(labels, dtype=bool),
                        np.array(folds), "toy.txt", "0" * 32, item_kind="video",
                        fold_rule="toy folds", fold_fix="fix the toy")
    frames = [f"{items[v]}/{j}.jpg" for v, j in zip(image_item, range(len(image_item)))]
    return EvalSet(protocol, ImageFiles("/nonexistent", frames), image_item, "/nonexistent")


# Video A: frames (2, 0), (0, 1); video B: (0, 3), (5, 0), (0, -2); video C: (1, 1).
A = [[2, 0], [0, 1]]
B = [[0, 3], [5, 0], [0, -2]]
C = [[1, 1]]
EMBEDDINGS = np.array(A + B + C, dtype=np.float64)


@pytest.fixture
def videos():
    # the two pairs twice over, as two folds: a protocol needs at least 2 folds
    return video_evalset([2, 3, 1], pairs=[[0, 1], [2, 0]] * 2, labels=[True, False] * 2,
                         folds=[0, 0, 1, 1])


@pytest.mark.parametrize("aggregation, k, expected", [
    # unit frames A (1,0),(0,1) -> mean (.5,.5) -> (1,1)/sqrt2; B (0,1),(1,0),(0,-1) -> (1,0)
    ("norm_mean", None, 1 / math.sqrt(2)),
    # raw means A (1, .5) ~ (2,1)/sqrt5; B (5/3, 1/3) ~ (5,1)/sqrt26 -> 11/sqrt130
    ("mean", None, 11 / math.sqrt(130)),
    # first frame of each: (1,0) vs (0,1)
    ("first_k", 1, 0.0),
    # first two: A (1,1)/sqrt2, B (0,1)+(1,0) -> (1,1)/sqrt2
    ("first_k", 2, 1.0),
    # k beyond the frames uses them all: same as norm_mean
    ("first_k", 9, 1 / math.sqrt(2)),
    # cosines of the 6 frame pairs: (1,0)->0,1,0; (0,1)->1,0,-1 -> mean 1/6
    ("pairwise_mean", None, 1 / 6),
])
def test_hand_computed_video_scores(videos, aggregation, k, expected):
    scores = pair_scores(videos, EMBEDDINGS, aggregation, k)
    assert scores[0] == pytest.approx(expected, abs=1e-12)
    # pair 2: C (1,1)/sqrt2 against A
    expected_ca = {"norm_mean": 1.0, "mean": 3 / math.sqrt(10), "pairwise_mean": 1 / math.sqrt(2)}
    if aggregation in expected_ca:
        assert scores[1] == pytest.approx(expected_ca[aggregation], abs=1e-12)


def test_random_k_is_seeded_and_draws_real_frames(videos):
    scores = {seed: pair_scores(videos, EMBEDDINGS, "random_k", 1, seed)[0] for seed in range(20)}
    assert set(np.round(list(scores.values()), 12)) <= {0.0, 1.0, -1.0}  # single frame cosines
    assert len(set(scores.values())) > 1
    assert pair_scores(videos, EMBEDDINGS, "random_k", 1, 3)[0] == scores[3]
    np.testing.assert_allclose(pair_scores(videos, EMBEDDINGS, "random_k", 3, 5),
                               pair_scores(videos, EMBEDDINGS))


def brute_force(evalset, embeddings, aggregation, k, chosen=None):
    """Direct per-video loops (float64) as the oracle."""
    per_video = []
    for v in range(len(evalset.protocol.items)):
        frames = embeddings[evalset.image_item == v].astype(np.float64)
        if chosen is not None:
            frames = frames[chosen[v]]
        elif aggregation == "first_k":
            frames = frames[:k]
        per_video.append(frames)
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    scores = []
    for a, b in evalset.protocol.pairs:
        fa, fb = per_video[a], per_video[b]
        if aggregation == "mean":
            scores.append(unit(fa.mean(0)) @ unit(fb.mean(0)))
        elif aggregation == "pairwise_mean":
            scores.append(np.mean([unit(x) @ unit(y) for x in fa for y in fb]))
        else:
            scores.append(unit(unit(fa).mean(0)) @ unit(unit(fb).mean(0)))
    return np.array(scores)


@pytest.mark.parametrize("aggregation, k", [("norm_mean", None), ("mean", None), ("first_k", 3),
                                            ("pairwise_mean", None)])
def test_matches_brute_force_on_random_videos(aggregation, k):
    rng = np.random.default_rng(0)
    frames = rng.integers(1, 9, size=12)
    pairs = rng.integers(0, 12, size=(40, 2))
    evalset = video_evalset(frames, pairs, [True, False] * 20, [0, 0, 1, 1] * 10)
    embeddings = rng.normal(size=(frames.sum(), 16)).astype(np.float32)
    np.testing.assert_allclose(pair_scores(evalset, embeddings, aggregation, k),
                               brute_force(evalset, embeddings, aggregation, k), atol=1e-6)


def test_image_protocol_is_a_plain_cosine():
    protocol = Protocol("img", ("x", "y", "z"), np.array([[0, 1], [0, 2], [1, 1], [2, 0]]),
                        np.array([True, False, True, False]), np.array([0, 0, 1, 1]), "t", "0" * 32,
                        fold_rule="toy folds", fold_fix="fix the toy")
    evalset = EvalSet(protocol, ImageFiles("/nonexistent", protocol.items), None, "/nonexistent")
    embeddings = np.array([[3, 4], [4, 3], [0, -1]], dtype=np.float32)
    np.testing.assert_allclose(pair_scores(evalset, embeddings), [24 / 25, -4 / 5, 1.0, -4 / 5], atol=1e-7)
    assert aggregation_setting(evalset) == {}
    with pytest.raises(FverifyError, match="video aggregation .* does not apply"):
        pair_scores(evalset, embeddings, "first_k", 2)


def test_settings_are_recorded_and_checked(videos):
    assert aggregation_setting(videos) == {"aggregation": "norm_mean"}
    assert aggregation_setting(videos, "first_k", 10) == {"aggregation": "first_k", "k": 10}
    assert aggregation_setting(videos, "random_k", 4, 7) == {"aggregation": "random_k", "k": 4, "seed": 7}
    with pytest.raises(FverifyError, match="unknown aggregation 'median'"):
        aggregation_setting(videos, "median")
    with pytest.raises(FverifyError, match="needs k >= 1"):
        pair_scores(videos, EMBEDDINGS, "random_k")
    with pytest.raises(FverifyError, match="k=3 would be ignored"):
        pair_scores(videos, EMBEDDINGS, "mean", 3)


def test_bad_embeddings_are_refused(videos):
    with pytest.raises(ValueError, match=r"expected \(6, d\) embeddings"):
        pair_scores(videos, EMBEDDINGS[:5])
    zero = EMBEDDINGS.copy()
    zero[3] = 0
    with pytest.raises(FverifyError, match="zero .or NaN. length, e.g. /nonexistent/P1/0/3.jpg"):
        pair_scores(videos, zero)
    # a video whose raw frames cancel out has no mean direction
    cancel = video_evalset([2, 1], [[0, 1], [1, 0]] * 2, [True, False] * 2, [0, 0, 1, 1])
    with pytest.raises(FverifyError, match="e.g. P0/0"):
        pair_scores(cancel, np.array([[1.0, 0], [-1.0, 0], [0, 1.0]]), "mean")
