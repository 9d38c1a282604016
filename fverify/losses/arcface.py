"""ArcFace / additive angular margin loss.

``logit_y = s cos(theta_y + m)``, ``logit_j = s cos(theta_j)`` for ``j != y``, then
cross-entropy (Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face
Recognition", CVPR 2019, Eq. 3). Defaults s = 64, m = 0.5 rad (28.65 degrees).

``cos(theta + m)`` stops decreasing once ``theta + m > pi``; there the reference
implementation (insightface) uses ``cos(theta) - m sin(m)`` instead, which keeps the target
logit decreasing in theta (it is not continuous: at ``theta = pi - m`` it jumps from -1 down to
``-cos(m) - m sin(m)``). ``easy_margin=True`` instead applies the margin only where
``cos(theta) > 0`` and leaves ``cos(theta)`` elsewhere (insightface's other option).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from fverify.losses.base import (Head, HeadOutput, cross_entropy_output, replace_target, require,
                                 target_values)


def additive_angular_margin(cosines: Tensor, margin: float, easy_margin: bool = False) -> Tensor:
    """``cos(theta + margin)`` from ``cos(theta)`` (margin in radians, ``0 <= margin < pi``),
    with the fallback described in the module docstring; cosines must lie inside (-1, 1)."""
    sines = torch.sqrt((1.0 - cosines * cosines).clamp_min(0.0))
    shifted = cosines * math.cos(margin) - sines * math.sin(margin)
    if easy_margin:
        return torch.where(cosines > 0, shifted, cosines)
    # theta + m > pi  <=>  cos(theta) < cos(pi - m)
    return torch.where(cosines > math.cos(math.pi - margin), shifted,
                       cosines - margin * math.sin(margin))


class ArcFaceHead(Head):
    """Normalised weights and embeddings; ``scale`` s, additive angular ``margin`` m (radians)."""

    def __init__(self, num_classes: int, embedding_dim: int, *, scale: float = 64.0,
                 margin: float = 0.5, easy_margin: bool = False):
        super().__init__(num_classes, embedding_dim)
        require(scale > 0, f"ArcFace scale must be positive, got {scale}")
        require(0 <= margin < math.pi, f"ArcFace margin is in radians, in [0, pi); got {margin}")
        self.scale = scale
        self.margin = margin
        self.easy_margin = easy_margin

    def compute(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        cosines = self.cosines(embeddings)
        target = additive_angular_margin(target_values(cosines, labels), self.margin,
                                         self.easy_margin)
        return cross_entropy_output(self.scale * replace_target(cosines, labels, target), labels)
