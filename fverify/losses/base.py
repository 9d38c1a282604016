"""The one interface every loss head follows, and the numerics the heads share.

A head owns the class weights (``weight``, shape ``(num_classes, embedding_dim)``) and maps a
batch of embeddings and integer labels to per-sample losses plus the logits it computed them
from (:class:`HeadOutput`). Reduction over the batch is left to the caller: the trainer takes
the mean, :class:`fverify.losses.hard_mining.HardMining` re-weights each sample first.

Numerics shared by every head: all arithmetic runs in float32 or wider, with autocast switched
off, whatever the embeddings' dtype (a bfloat16 cosine has three significant digits, too few
for a margin of 0.35 near cos = 1); cosines are clamped to ``[-1 + COS_EPS, 1 - COS_EPS]`` so
that ``sqrt(1 - cos^2)`` and ``acos`` keep finite gradients; vectors are normalised with
``NORM_EPS`` so a zero embedding gives cosines of 0 instead of NaN.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fverify.errors import FverifyError

COS_EPS = 1e-6
# A zero vector is divided by NORM_EPS instead of 0; this also bounds its gradient by 1/NORM_EPS.
NORM_EPS = 1e-6


class HeadOutput(NamedTuple):
    """What a head returns for a batch of N embeddings and C classes."""

    losses: Tensor
    """``(N,)`` per-sample loss, float32 (float64 when the inputs are float64)."""
    logits: Tensor
    """``(N, C)`` the logits the loss was computed from (margins and scale applied)."""


class Head(nn.Module):
    """Base of every loss head: class weights ``(num_classes, embedding_dim)`` and
    ``forward(embeddings, labels) -> HeadOutput``.

    Subclasses implement :meth:`compute`, which receives the embeddings already in the compute
    dtype (float32, or float64 if the embeddings or weights are float64) with autocast off.
    """

    def __init__(self, num_classes: int, embedding_dim: int):
        super().__init__()
        require(num_classes >= 2, f"num_classes must be at least 2, got {num_classes}")
        require(embedding_dim >= 1, f"embedding_dim must be at least 1, got {embedding_dim}")
        self.num_classes = num_classes
        self.embedding_dim = embedding_dim
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim))
        nn.init.normal_(self.weight, std=0.01)

    def forward(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        """``embeddings`` ``(N, embedding_dim)`` any float dtype, ``labels`` ``(N,)`` int64 in
        ``[0, num_classes)`` -> per-sample losses and the logits they came from."""
        dtype = torch.promote_types(torch.promote_types(embeddings.dtype, self.weight.dtype),
                                    torch.float32)
        with torch.autocast(embeddings.device.type, enabled=False):
            return self.compute(embeddings.to(dtype), labels)

    def compute(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        raise NotImplementedError

    def cosines(self, embeddings: Tensor) -> Tensor:
        """``(N, C)`` cosine between each embedding and each class weight, clamped to
        ``[-1 + COS_EPS, 1 - COS_EPS]``."""
        x = F.normalize(embeddings, dim=1, eps=NORM_EPS)
        w = F.normalize(self.weight.to(embeddings.dtype), dim=1, eps=NORM_EPS)
        return (x @ w.T).clamp(-1.0 + COS_EPS, 1.0 - COS_EPS)

    def target_probability(self, logits: Tensor, labels: Tensor) -> Tensor:
        """``(N,)`` softmax probability of the target class, p_y, from the logits this head
        returned; for the cross-entropy heads ``loss = -log(p_y)`` exactly."""
        return F.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1).exp()


def require(condition: bool, what: str) -> None:
    """Raise the user-facing error for a bad head or hard-mining setting."""
    if not condition:
        raise FverifyError(what, fix="change this setting in the training config")


def target_values(matrix: Tensor, labels: Tensor) -> Tensor:
    """``(N,)`` the entry of each row at its label column."""
    return matrix.gather(1, labels[:, None]).squeeze(1)


def replace_target(matrix: Tensor, labels: Tensor, values: Tensor) -> Tensor:
    """Copy of ``matrix`` with each row's label column set to ``values`` (differentiable)."""
    return matrix.scatter(1, labels[:, None], values[:, None])


def cross_entropy_output(logits: Tensor, labels: Tensor) -> HeadOutput:
    """Per-sample softmax cross-entropy of ``logits``; log-softmax keeps huge logits finite."""
    return HeadOutput(F.cross_entropy(logits, labels, reduction="none"), logits)
