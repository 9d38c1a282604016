"""MobileFaceNet (Chen et al., CCBR 2018): depthwise-separable bottlenecks and a global
depthwise convolution (GDC) instead of global pooling; about a sixth of iresnet18's
compute, for CPU work and tests.

The layout and parameter names follow insightface ``arcface_torch``'s ``mbf`` backbone
(blocks 1-4-6-2, width scale 2), so its published state dicts load as they are.
"""
from __future__ import annotations

import torch
from torch import nn



class ConvBlock(nn.Module):
    """Conv, BN, then PReLU when ``activation`` (a "linear" block has none)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 1, stride: int = 1,
                 padding: int = 0, groups: int = 1, activation: bool = True):
        super().__init__()
        parts: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding,
                      groups=groups, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        if activation:
            parts.append(nn.PReLU(out_channels))
        self.layers = nn.Sequential(*parts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Bottleneck(nn.Module):
    """Expand with a 1x1 conv to ``hidden`` channels, 3x3 depthwise (``stride``), project
    linearly to ``out_channels``; residual when the shape is kept."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, stride: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            ConvBlock(in_channels, hidden),
            ConvBlock(hidden, hidden, kernel=3, stride=stride, padding=1, groups=hidden),
            ConvBlock(hidden, out_channels, activation=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.residual else out


class ResidualStage(nn.Module):
    """``units`` shape-keeping bottlenecks."""

    def __init__(self, channels: int, units: int, hidden: int):
        super().__init__()
        self.layers = nn.Sequential(
            *[Bottleneck(channels, channels, hidden, stride=1, residual=True) for _ in range(units)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class GlobalDepthwiseEmbedding(nn.Module):
    """GDC: a 7x7 depthwise conv + BN collapses the 7x7x512 map, then Linear + BatchNorm1d."""

    def __init__(self, embedding_dim: int, channels: int = 512):
        super().__init__()
        self.layers = nn.Sequential(
            ConvBlock(channels, channels, kernel=7, groups=channels, activation=False),
            nn.Flatten(),
            nn.Linear(channels, embedding_dim, bias=False),
            nn.BatchNorm1d(embedding_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class MobileFaceNet(nn.Module):
    """MobileFaceNet with ``units`` bottlenecks per stage and widths ``64*scale``, ``128*scale``.

    Input: ``(N, 3, 112, 112)`` normalised faces; output ``(N, embedding_dim)`` embeddings
    (not L2-normalised).
    """

    def __init__(self, embedding_dim: int = 512, units: tuple[int, int, int, int] = (1, 4, 6, 2),
                 scale: int = 2):
        super().__init__()
        narrow, wide = 64 * scale, 128 * scale
        stem = (
            ConvBlock(narrow, narrow, kernel=3, padding=1, groups=64)
            if units[0] == 1
            else ResidualStage(narrow, units[0], hidden=128)
        )
        self.layers = nn.ModuleList([
            ConvBlock(3, narrow, kernel=3, stride=2, padding=1),  # 112 -> 56
            stem,
            Bottleneck(narrow, narrow, hidden=128, stride=2, residual=False),  # 56 -> 28
            ResidualStage(narrow, units[1], hidden=128),
            Bottleneck(narrow, wide, hidden=256, stride=2, residual=False),  # 28 -> 14
            ResidualStage(wide, units[2], hidden=256),
            Bottleneck(wide, wide, hidden=512, stride=2, residual=False),  # 14 -> 7
            ResidualStage(wide, units[3], hidden=256),
        ])
        self.conv_sep = ConvBlock(wide, 512)
        self.features = GlobalDepthwiseEmbedding(embedding_dim)
        self._initialise()

    def _initialise(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return self.features(self.conv_sep(x))


def mobilefacenet(embedding_dim: int = 512) -> MobileFaceNet:
    """insightface's ``mbf``: units 1-4-6-2, width scale 2."""
    return MobileFaceNet(embedding_dim)
