"""CosFace / large-margin cosine loss: an additive margin on the target cosine.

``logit_y = s (cos(theta_y) - m)``, ``logit_j = s cos(theta_j)`` for ``j != y``, then
cross-entropy (Wang et al., "CosFace: Large Margin Cosine Loss for Deep Face Recognition",
CVPR 2018, Eq. 4). Defaults s = 64, m = 0.35 (m is in cosine units, not an angle).
"""
from __future__ import annotations

from torch import Tensor

from fverify.losses.base import (Head, HeadOutput, cross_entropy_output, replace_target, require,
                                 target_values)


class CosFaceHead(Head):
    """Normalised weights and embeddings; ``scale`` s, additive cosine ``margin`` m."""

    def __init__(self, num_classes: int, embedding_dim: int, *, scale: float = 64.0,
                 margin: float = 0.35):
        super().__init__(num_classes, embedding_dim)
        require(scale > 0, f"CosFace scale must be positive, got {scale}")
        require(margin >= 0, f"CosFace margin must be non-negative, got {margin}")
        self.scale = scale
        self.margin = margin

    def compute(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        cosines = self.cosines(embeddings)
        target = target_values(cosines, labels) - self.margin
        return cross_entropy_output(self.scale * replace_target(cosines, labels, target), labels)
