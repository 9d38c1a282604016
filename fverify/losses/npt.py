"""NPT-loss: a triplet loss between each embedding, its class proxy and its nearest negative
proxies.

Khalid et al., "NPT-Loss: Demystifying Face Recognition Losses With Nearest Proxies Triplet",
IEEE TPAMI 45(12), 2023 (arXiv:2103.03503). Embeddings x and proxies (the class weights W_j)
are normalised onto the sphere of radius r, where ``||x - W_j||^2 = 2 r^2 (1 - cos theta_j)``;
the proxy-triplet hinge ``max(0, ||x - W_y||^2 - ||x - W_j||^2 + delta)`` summed over the k
negative proxies nearest to x is then

    L = 2 r^2 * sum over the k largest cos(theta_j), j != y, of
        max(0, cos(theta_j) - cos(theta_y) + delta / (2 r^2))

Defaults r = 1, ``margin`` = delta / (2 r^2) = 0.5 (cosine units), k = 1. With the margin
given in cosine units, r only scales the loss.

The logits this head returns are the cosines themselves. NPT has no softmax, so the "target
probability" p_y that logs and hard-mining plots show is *defined* here as the softmax of
``probability_scale * cos`` at the target (default 64, the scale of ArcFace and CosFace, so p_y
reads on the same footing across heads); it plays no part in the loss.
"""
from __future__ import annotations

import torch
from torch import Tensor

from fverify.losses.base import Head, HeadOutput, replace_target, require, target_values


class NPTHead(Head):
    """Nearest-proxies triplet loss with sphere ``radius`` r, cosine ``margin`` delta/(2 r^2)
    and ``k`` nearest negative proxies."""

    def __init__(self, num_classes: int, embedding_dim: int, *, radius: float = 1.0,
                 margin: float = 0.5, k: int = 1, probability_scale: float = 64.0):
        super().__init__(num_classes, embedding_dim)
        require(radius > 0, f"NPT radius must be positive, got {radius}")
        require(margin >= 0, f"NPT margin must be non-negative, got {margin}")
        require(isinstance(k, int) and 1 <= k < num_classes,
                f"NPT k (nearest negative proxies) must be a whole number in [1, "
                f"{num_classes - 1}], got {k}")
        require(probability_scale > 0,
                f"NPT probability_scale must be positive, got {probability_scale}")
        self.radius, self.margin, self.k = radius, margin, k
        self.probability_scale = probability_scale

    def compute(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        cosines = self.cosines(embeddings)
        target = target_values(cosines, labels)
        negatives = replace_target(cosines, labels, torch.full_like(target, -torch.inf))
        nearest = negatives.topk(self.k, dim=1).values
        hinges = (nearest - target[:, None] + self.margin).clamp_min(0.0)
        return HeadOutput(2.0 * self.radius**2 * hinges.sum(dim=1), cosines)

    def target_probability(self, logits: Tensor, labels: Tensor) -> Tensor:
        """p_y as defined in the module docstring: softmax of ``probability_scale * cos``."""
        return super().target_probability(self.probability_scale * logits, labels)
