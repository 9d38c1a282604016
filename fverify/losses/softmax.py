"""Plain softmax cross-entropy on a linear layer with bias: the Hard-Mining paper's Eq. 1.

``logit_j = W_j . x + b_j``, ``L = -log(exp(logit_y) / sum_j exp(logit_j))``
(Srivastava, Murali and Dubey, "Hard-Mining Loss based Convolutional Neural Network for Face
Recognition", CVIP 2020, arXiv:1908.09747, Eq. 1). Neither embeddings nor weights are
normalised.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fverify.losses.base import Head, HeadOutput, cross_entropy_output


class SoftmaxHead(Head):
    """Linear layer ``(num_classes, embedding_dim)`` plus bias ``(num_classes,)``, then
    cross-entropy."""

    def __init__(self, num_classes: int, embedding_dim: int):
        super().__init__(num_classes, embedding_dim)
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def compute(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        dtype = embeddings.dtype
        logits = F.linear(embeddings, self.weight.to(dtype), self.bias.to(dtype))
        return cross_entropy_output(logits, labels)
