"""The "improved" ResNet (iresnet) family of ArcFace (Deng et al., CVPR 2019, Sec. 3.2 and
Fig. 7(e)): BN-Conv-BN-PReLU-Conv-BN residual units, a stride-1 stem for 112x112 faces and
an output block BN-Dropout-FC-BN that maps the 7x7x512 map to the embedding.

Parameter names and shapes are those of insightface's ``arcface_torch`` backbones, so their
published ``backbone.pth`` state dicts load as they are. ``iresnet18`` is the ResNet18 of
the Hard-Mining paper (Srivastava, Murali and Dubey, CVIP 2020, arXiv:1908.09747).
"""
from __future__ import annotations

import torch
from torch import nn

INPUT_SIZE = (112, 112)  # (height, width) in pixels; the FC layer expects a 7x7 final map
STAGE_WIDTHS = (64, 128, 256, 512)  # channels of the four stages


class ResidualUnit(nn.Module):
    """One improved residual unit: BN, 3x3 conv, BN, PReLU, 3x3 conv (stride here), BN, plus
    the shortcut (a strided 1x1 conv + BN when the shape changes)."""

    def __init__(self, in_channels: int, channels: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels, eps=1e-5)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels, eps=1e-5)
        self.prelu = nn.PReLU(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels, eps=1e-5)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels, eps=1e-5),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.conv1(self.bn1(x))
        out = self.conv2(self.prelu(self.bn2(out)))
        return self.bn3(out) + shortcut


class IResNet(nn.Module):
    """iresnet with ``units_per_stage`` residual units in each of its four stages.

    Input: ``(N, 3, 112, 112)`` normalised faces. Output: ``(N, embedding_dim)`` embeddings
    (not L2-normalised). The final BatchNorm1d keeps its scale frozen at 1, as arcface_torch
    does, so only its shift and running statistics train.
    """

    def __init__(self, units_per_stage: tuple[int, int, int, int], embedding_dim: int = 512,
                 dropout: float = 0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(3, STAGE_WIDTHS[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0], eps=1e-5)
        self.prelu = nn.PReLU(STAGE_WIDTHS[0])
        in_channels = STAGE_WIDTHS[0]
        for stage, (channels, units) in enumerate(zip(STAGE_WIDTHS, units_per_stage), start=1):
            # Every stage halves the resolution in its first unit: 112 -> 56 -> 28 -> 14 -> 7.
            blocks = [ResidualUnit(in_channels, channels, stride=2)]
            blocks += [ResidualUnit(channels, channels, stride=1) for _ in range(units - 1)]
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
            in_channels = channels
        final_map = (INPUT_SIZE[0] // 16) * (INPUT_SIZE[1] // 16)
        self.bn2 = nn.BatchNorm2d(in_channels, eps=1e-5)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(in_channels * final_map, embedding_dim)
        self.features = nn.BatchNorm1d(embedding_dim, eps=1e-5)
        self._initialise()

    def _initialise(self) -> None:
        # arcface_torch's initialisation: N(0, 0.1) convolutions, identity batch norms.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.1)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.ones_(self.features.weight)
        self.features.weight.requires_grad = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(torch.flatten(self.bn2(x), 1))
        return self.features(self.fc(x))


def iresnet18(embedding_dim: int = 512) -> IResNet:
    """iresnet18: 2-2-2-2 units; the ResNet18 of the Hard-Mining paper."""
    return IResNet((2, 2, 2, 2), embedding_dim)


def iresnet34(embedding_dim: int = 512) -> IResNet:
    """iresnet34: 3-4-6-3 units."""
    return IResNet((3, 4, 6, 3), embedding_dim)


def iresnet50(embedding_dim: int = 512) -> IResNet:
    """iresnet50: 3-4-14-3 units (ArcFace's LResNet50E-IR)."""
    return IResNet((3, 4, 14, 3), embedding_dim)


def iresnet100(embedding_dim: int = 512) -> IResNet:
    """iresnet100: 3-13-30-3 units (ArcFace's LResNet100E-IR)."""
    return IResNet((3, 13, 30, 3), embedding_dim)
