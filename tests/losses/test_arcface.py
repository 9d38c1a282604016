import math

import pytest
import torch
from pytorch_metric_learning.losses import ArcFaceLoss
from pytorch_metric_learning.reducers import DoNothingReducer

from fverify.losses import ArcFaceHead
from fverify.losses.arcface import additive_angular_margin
from tests.losses.geometry import one_sample_with_cosines, spread_batch

M = 0.5


def test_matches_pytorch_metric_learning_on_both_branches():
    torch.manual_seed(0)
    head = ArcFaceHead(10, 16).double()
    embeddings, labels = spread_batch(head.weight.detach())
    # pml's margin is in degrees; 0.5 rad = 28.6479 degrees
    reference = ArcFaceLoss(10, 16, margin=math.degrees(M), scale=64,
                            reducer=DoNothingReducer()).double()
    reference.W.data = head.weight.detach().T.clone()  # pml keeps W as (dim, num_classes)
    expected = reference(embeddings, labels)["loss"]["losses"]
    target_angles = torch.acos(head.cosines(embeddings).gather(1, labels[:, None]))
    assert (target_angles > math.pi - M).any() and (target_angles < math.pi - M).any()
    torch.testing.assert_close(head(embeddings, labels).losses, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("angle", [0.3, 1.0, 2.0, math.pi - M - 0.01])
def test_margin_adds_to_the_angle(angle):
    value = additive_angular_margin(torch.tensor([math.cos(angle)], dtype=torch.float64), M)
    assert value.item() == pytest.approx(math.cos(angle + M), abs=1e-12)


@pytest.mark.parametrize("angle", [math.pi - M + 0.01, 2.9, 3.1])
def test_fallback_when_angle_plus_margin_passes_pi(angle):
    value = additive_angular_margin(torch.tensor([math.cos(angle)], dtype=torch.float64), M)
    assert value.item() == pytest.approx(math.cos(angle) - M * math.sin(M), abs=1e-12)


def test_fallback_keeps_the_target_logit_decreasing():
    angles = torch.linspace(0.0, math.pi, 2001, dtype=torch.float64)[1:-1]
    values = additive_angular_margin(torch.cos(angles), M)
    assert (values.diff() < 0).all()


def test_easy_margin_only_where_cosine_is_positive():
    cosines = torch.tensor([0.8, 0.1, -0.1, -0.95], dtype=torch.float64)
    values = additive_angular_margin(cosines, M, easy_margin=True)
    angles = torch.acos(cosines[:2])
    torch.testing.assert_close(values[:2], torch.cos(angles + M))
    torch.testing.assert_close(values[2:], cosines[2:])


def test_logits_by_hand():
    embedding, weight = one_sample_with_cosines([0.6, 0.2, -0.4])
    head = ArcFaceHead(3, 4, scale=10.0).double()
    with torch.no_grad():
        head.weight.copy_(weight)
    logits = head(embedding, torch.tensor([0])).logits
    expected = [10 * math.cos(math.acos(0.6) + M), 2.0, -4.0]
    torch.testing.assert_close(logits, torch.tensor([expected], dtype=torch.float64))
