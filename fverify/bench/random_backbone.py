"""A registered backbone with random weights whose batch norms are calibrated on given
images: every layer then sees normalised activations, as in a trained network, so speed and
precision measurements see realistic values (raw random weights blow activations up by
orders of magnitude per stage)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from fverify.models.embedder import normalise_faces
from fverify.models.preprocessing import Preprocessing
from fverify.models.registry import backbone_spec


def calibrated_random_backbone(arch: str, images: Sequence, count: int = 256, batch_size: int = 32,
                               seed: int = 0) -> nn.Module:
    """``arch`` with seeded random weights and BN statistics averaged over the first ``count``
    of ``images`` (default preprocessing), in eval mode."""
    torch.manual_seed(seed)
    backbone = backbone_spec(arch).build()
    contract = Preprocessing()
    mean = torch.tensor(contract.mean).view(1, 3, 1, 1)
    std = torch.tensor(contract.std).view(1, 3, 1, 1)
    for module in backbone.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the calibration batches
    backbone.train()
    count = min(count, len(images))
    with torch.no_grad():
        for start in range(0, count, batch_size):
            faces = np.stack([images[i] for i in range(start, min(start + batch_size, count))])
            backbone(normalise_faces(torch.from_numpy(faces), contract.color, mean, std))
    return backbone.eval()
