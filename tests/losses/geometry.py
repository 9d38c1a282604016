"""Embeddings and class weights with cosines chosen by the test, for hand-checkable values."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def one_sample_with_cosines(cosines: list[float]) -> tuple[Tensor, Tensor]:
    """One embedding ``(1, C+1)`` and weights ``(C, C+1)`` (float64) whose cosines are exactly
    ``cosines`` (class 0 first): x = e_0, W_j = c_j e_0 + sqrt(1 - c_j^2) e_{j+1}."""
    c = torch.tensor(cosines, dtype=torch.float64)
    weight = torch.zeros(len(cosines), len(cosines) + 1, dtype=torch.float64)
    weight[:, 0] = c
    weight[:, 1:] = torch.diag(torch.sqrt(1 - c * c))
    embedding = torch.zeros(1, len(cosines) + 1, dtype=torch.float64)
    embedding[0, 0] = 1.0
    return embedding, weight


def embeddings_at_angles(weight: Tensor, labels: Tensor, angles: Tensor, norms: Tensor,
                         seed: int = 0) -> Tensor:
    """Embeddings at the given angles (radians) from their target class weight, in a random
    direction otherwise, with the given norms."""
    generator = torch.Generator().manual_seed(seed)
    target = F.normalize(weight[labels], dim=1)
    noise = torch.randn(len(labels), weight.shape[1], generator=generator, dtype=weight.dtype)
    across = F.normalize(noise - (noise * target).sum(1, keepdim=True) * target, dim=1)
    direction = torch.cos(angles)[:, None] * target + torch.sin(angles)[:, None] * across
    return norms[:, None] * direction


def spread_batch(weight: Tensor, n: int = 48, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``n`` embeddings whose target angles sweep (0, pi) evenly and whose norms vary in
    [0.5, 3], with random labels: covers every branch of every margin."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, weight.shape[0], (n,), generator=generator)
    angles = torch.linspace(0.05, torch.pi - 0.05, n, dtype=weight.dtype)
    norms = 0.5 + 2.5 * torch.rand(n, generator=generator, dtype=weight.dtype)
    return embeddings_at_angles(weight, labels, angles, norms, seed), labels
