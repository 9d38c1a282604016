import math

import pytest
import torch

from fverify.losses import AMMSoftmaxHead, ArcFaceHead
from fverify.losses.amm import hard_negative_cosines, hard_negative_mask
from tests.losses.geometry import one_sample_with_cosines

M, M_HARD = 0.5, 0.1


def test_hard_negatives_are_those_beating_the_margin_target_by_hand():
    # target cos 0.6: theta_y = 0.9273, phi_y = cos(1.4273) = 0.1430
    cosines = torch.tensor([[0.6, 0.5, 0.2, 0.1, -0.3, 0.99]], dtype=torch.float64)
    phi = torch.tensor([math.cos(math.acos(0.6) + M)], dtype=torch.float64)
    assert phi.item() == pytest.approx(0.14300, abs=1e-5)
    mask = hard_negative_mask(cosines, torch.tensor([0]), phi)
    assert mask.tolist() == [[False, True, True, False, False, True]]


def test_logits_by_hand():
    embedding, weight = one_sample_with_cosines([0.6, 0.5, 0.2, 0.1, -0.3, 0.999])
    head = AMMSoftmaxHead(6, 7, scale=10.0, margin=M, hard_margin=M_HARD).double()
    with torch.no_grad():
        head.weight.copy_(weight)
    logits = head(embedding, torch.tensor([0])).logits
    expected = [
        math.cos(math.acos(0.6) + M),              # target: ArcFace margin
        math.cos(math.acos(0.5) - M_HARD),         # hard: pulled 0.1 rad closer
        math.cos(math.acos(0.2) - M_HARD),         # hard
        0.1,                                       # easy: 0.1 < phi_y = 0.143
        -0.3,                                      # easy
        0.999 + 1 - math.cos(M_HARD),              # hard, theta = 0.0447 < m_h: cosine shift
    ]
    torch.testing.assert_close(logits, 10.0 * torch.tensor([expected], dtype=torch.float64))


def test_hard_negative_logit_is_continuous_and_increasing_in_cosine():
    cosines = torch.linspace(-1 + 1e-6, 1 - 1e-6, 200_001, dtype=torch.float64)
    values = hard_negative_cosines(cosines, M_HARD)
    steps = values.diff()
    assert (steps > 0).all()
    assert steps.max() < 1e-3                     # no jump where theta crosses m_h
    assert values[-1].item() == pytest.approx(2 - math.cos(M_HARD), abs=1e-5)


def test_with_no_hard_negatives_it_is_arcface():
    embedding, weight = one_sample_with_cosines([0.9, 0.1, -0.5])
    amm, arcface = AMMSoftmaxHead(3, 4).double(), ArcFaceHead(3, 4).double()
    with torch.no_grad():
        amm.weight.copy_(weight)
        arcface.weight.copy_(weight)
    labels = torch.tensor([0])
    torch.testing.assert_close(amm(embedding, labels).losses, arcface(embedding, labels).losses)
