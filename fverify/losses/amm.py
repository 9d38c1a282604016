"""AMM-Softmax (angular margin-mining softmax): an additive angular margin on the target and an
angular margin on the hard negatives.

Lee, Wang and Cho, "Angular Margin-Mining Softmax Loss for Face Recognition", IEEE Access 10,
43071-43080, 2022. The paper's abstract describes a linear angular margin that emphasises hard
samples, in the spirit of MV-Softmax (Wang et al., "Mis-classified Vector Guided Softmax Loss
for Face Recognition", AAAI 2020), which raises the logits of negatives that beat the
margin-penalised target, but in angle space instead of cosine space. We could not read the full
paper, so this module implements the following reading, and its defaults are our choice: the
published equations and hyper-parameters could not be verified.

With ``phi_y = cos(theta_y + m)`` (ArcFace's target, including its fallback for
``theta_y + m > pi``, see :mod:`fverify.losses.arcface`):

    logit_y = s phi_y
    logit_j = s cos(theta_j - m_h)                  if j is hard and theta_j >= m_h
              s (cos(theta_j) + 1 - cos(m_h))       if j is hard and theta_j <  m_h
              s cos(theta_j)                        otherwise (easy negative)
    j != y is hard  <=>  cos(theta_j) > phi_y       (it beats the margin-penalised target)

then cross-entropy. A hard negative is pulled ``m_h`` radians closer (a constant, additive
shift in angle: linear in theta); below ``theta_j = m_h``, where ``cos(theta_j - m_h)`` would
start to fall again, it continues with a constant shift in cosine instead, so the logit stays
continuous and increasing in ``cos(theta_j)``. Defaults s = 64, m = 0.5 rad, m_h = 0.1 rad.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from fverify.losses.arcface import additive_angular_margin
from fverify.losses.base import (Head, HeadOutput, cross_entropy_output, replace_target, require,
                                 target_values)


def hard_negative_cosines(cosines: Tensor, hard_margin: float) -> Tensor:
    """``cos(theta - hard_margin)`` for theta >= hard_margin, else
    ``cos(theta) + 1 - cos(hard_margin)`` (radians; cosines inside (-1, 1))."""
    sines = torch.sqrt((1.0 - cosines * cosines).clamp_min(0.0))
    shifted = cosines * math.cos(hard_margin) + sines * math.sin(hard_margin)
    return torch.where(cosines > math.cos(hard_margin),
                       cosines + (1.0 - math.cos(hard_margin)), shifted)


def hard_negative_mask(cosines: Tensor, labels: Tensor, target: Tensor) -> Tensor:
    """``(N, C)`` bool: the negatives whose cosine beats ``target`` (the margin-penalised
    target cosine phi_y of each row); the label column is never hard."""
    hard = cosines.detach() > target.detach()[:, None]
    return hard.scatter(1, labels[:, None], False)


class AMMSoftmaxHead(Head):
    """Target margin ``margin`` m and hard-negative margin ``hard_margin`` m_h (radians),
    ``scale`` s."""

    def __init__(self, num_classes: int, embedding_dim: int, *, scale: float = 64.0,
                 margin: float = 0.5, hard_margin: float = 0.1):
        super().__init__(num_classes, embedding_dim)
        require(scale > 0, f"AMM-Softmax scale must be positive, got {scale}")
        require(0 <= margin < math.pi,
                f"AMM-Softmax margin is in radians, in [0, pi); got {margin}")
        require(0 <= hard_margin < math.pi,
                f"AMM-Softmax hard_margin is in radians, in [0, pi); got {hard_margin}")
        self.scale, self.margin, self.hard_margin = scale, margin, hard_margin

    def compute(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        cosines = self.cosines(embeddings)
        target = additive_angular_margin(target_values(cosines, labels), self.margin)
        hard = hard_negative_mask(cosines, labels, target)
        mined = torch.where(hard, hard_negative_cosines(cosines, self.hard_margin), cosines)
        return cross_entropy_output(self.scale * replace_target(mined, labels, target), labels)
