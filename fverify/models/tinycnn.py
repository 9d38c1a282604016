"""A tiny CNN backbone for tests and demos: four strided 3x3 convolutions with PReLU, a 4x4
average pool and a linear embedding layer; about 20 MFLOPs per 112x112 face.

It has no batch normalisation on purpose: its output for a sample does not depend on the
other samples of the batch, so a batch split over several processes (DDP) or micro-batches
(gradient accumulation) computes exactly what one process computes on the whole batch, which
the trainer's tests rely on. Any input of at least 16x16 pixels works.
"""
from __future__ import annotations

import torch
from torch import nn

CHANNELS = (16, 32, 64, 64)  # output channels of the four stride-2 convolutions
POOLED = (4, 4)  # spatial size of the map after the adaptive average pool
PRELU_INIT = 0.25  # nn.PReLU's starting slope


class TinyCNN(nn.Module):
    """``(N, 3, H, W)`` normalised faces -> ``(N, embedding_dim)`` embeddings (not normalised)."""

    def __init__(self, embedding_dim: int = 64):
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for channels in CHANNELS:
            layers += [nn.Conv2d(in_channels, channels, 3, stride=2, padding=1), nn.PReLU(channels)]
            in_channels = channels
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(POOLED)
        self.features = nn.Linear(in_channels * POOLED[0] * POOLED[1], embedding_dim)
        # He initialisation for PReLU's starting slope: PyTorch's default conv init shrinks
        # the signal about 2x a layer, and without batch norm to restore it the embeddings of
        # different faces start almost equal (between-face std 0.003), where softmax
        # cross-entropy over a 0.01-std head has no gradient to start from (it stayed at
        # ln(classes) for whole runs).
        for module in self.body:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=PRELU_INIT, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(torch.flatten(self.pool(self.body(x)), 1))


def tinycnn(embedding_dim: int = 64) -> TinyCNN:
    return TinyCNN(embedding_dim)
