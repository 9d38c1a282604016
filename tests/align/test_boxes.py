import numpy as np
import torch

from fverify.align.boxes import nms, overlap, regress, to_square


def brute_force_nms(boxes, scores, groups, threshold, method):
    """The mtcnn package's rule, one box at a time: keep a box unless a better-ranked box of the
    same image overlaps it above the threshold (suppressed boxes still suppress). Images in
    ascending order; within one, the package's rank ``np.argsort(scores)[::-1]``."""
    groups, scores = np.asarray(groups), np.asarray(scores, dtype=np.float64)
    order = []
    for group in sorted(set(groups.tolist())):
        mine = np.flatnonzero(groups == group)
        order += mine[np.argsort(scores[mine])[::-1]].tolist()
    kept = []
    for rank, i in enumerate(order):
        def over(j):
            x1, y1 = max(boxes[i][0], boxes[j][0]), max(boxes[i][1], boxes[j][1])
            x2, y2 = min(boxes[i][2], boxes[j][2]), min(boxes[i][3], boxes[j][3])
            inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
            area = [(b[2] - b[0]) * (b[3] - b[1]) for b in (boxes[i], boxes[j])]
            base = area[0] + area[1] - inter if method == "union" else min(area)
            return inter / base > threshold
        if not any(groups[j] == groups[i] and over(j) for j in order[:rank]):
            kept.append(i)
    return kept


def test_nms_matches_the_brute_force_rule():
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 60, (300, 2))
    boxes = np.hstack([corners, corners + rng.uniform(5, 30, (300, 2))])
    scores = rng.permutation(300) / 300.0
    groups = rng.integers(0, 3, 300)
    for method, threshold in [("union", 0.5), ("min", 0.7)]:
        ours = nms(torch.tensor(boxes), torch.tensor(scores), torch.tensor(groups), threshold, method)
        assert ours.tolist() == brute_force_nms(boxes, scores, groups, threshold, method)


def test_tied_scores_rank_as_the_package_and_ignore_other_images():
    """P-Net probabilities saturate at 1.0: of several overlapping boxes with equal scores,
    the one ``np.argsort(scores)[::-1]`` ranks first survives, whatever other images hold."""
    rng = np.random.default_rng(2)
    corners = rng.uniform(0, 4, (20, 2))
    boxes = np.hstack([corners, corners + 30])  # all overlap heavily
    scores = np.where(rng.uniform(size=20) < 0.6, 1.0, rng.uniform(0.6, 1.0, 20)).astype(np.float32)
    alone = nms(torch.tensor(boxes), torch.tensor(scores), torch.zeros(20, dtype=torch.long), 0.5)
    survivor = int(np.argsort(scores.astype(np.float64))[::-1][0])
    assert alone.tolist() == [survivor]
    others = np.hstack([rng.uniform(0, 4, (30, 2)), rng.uniform(0, 4, (30, 2)) + 30])
    together = nms(torch.tensor(np.vstack([others, boxes])),
                   torch.tensor(np.concatenate([np.ones(30, np.float32), scores])),
                   torch.tensor([1] * 30 + [0] * 20), 0.5)
    assert together.tolist()[0] == survivor + 30  # image 0 first, its face unchanged


def test_overlap_hand_case():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, 1.0, 3.0, 5.0]], dtype=torch.float64)
    assert overlap(a, b, "union").item() == 1 / (4 + 8 - 1)
    assert overlap(a, b, "min").item() == 1 / 4


def test_square_and_regression_hand_cases():
    square = to_square(torch.tensor([[10.0, 20.0, 14.0, 30.0]]))
    assert square.tolist() == [[7.0, 20.0, 17.0, 30.0]]
    moved = regress(torch.tensor([[0.0, 0.0, 9.0, 19.0]]), torch.tensor([[0.1, -0.1, 0.5, 0.0]]))
    np.testing.assert_allclose(moved.numpy(), [[1.0, -2.0, 14.0, 19.0]])


def test_nms_in_small_blocks_of_many_images_matches_the_brute_force_rule(monkeypatch):
    """Groups of very different sizes, processed a few groups and columns at a time."""
    import fverify.align.boxes as boxes_module

    monkeypatch.setattr(boxes_module, "_NMS_ELEMENTS", 500)
    monkeypatch.setattr(boxes_module, "_NMS_CHUNK", 7)
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(12), rng.integers(1, 40, 12))
    count = len(groups)
    corners = rng.uniform(0, 40, (count, 2))
    boxes = np.hstack([corners, corners + rng.uniform(5, 20, (count, 2))])
    scores = rng.permutation(count) / count
    shuffled = rng.permutation(count)  # groups need not arrive together
    boxes, scores, groups = boxes[shuffled], scores[shuffled], groups[shuffled]
    ours = nms(torch.tensor(boxes), torch.tensor(scores), torch.tensor(groups), 0.4, "union")
    assert ours.tolist() == brute_force_nms(boxes, scores, groups, 0.4, "union")
    assert nms(torch.zeros((0, 4)), torch.zeros(0), torch.zeros(0, dtype=torch.long), 0.5).tolist() == []
