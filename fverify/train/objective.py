"""What the optimiser minimises: backbone -> head [-> HardMining], as one module, so that one
``parameters()`` (backbone, head, through the wrapper) goes to the optimiser and one DDP
wrapper replicates all of it.

The head is replicated on every process (its gradient is all-reduced like the backbone's):
sensible while the class weights fit each device comfortably, up to about a million classes
of 512-d float32 (2 GB of weights, plus as much again for the gradient and the momentum). A
model-parallel (sharded) head, as insightface's partial FC, would replace :class:`Objective`
alone: it receives the local embeddings and labels and returns the local loss and record.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from fverify.losses import HardMining, HardMiningRecord, Head
from fverify.losses.hard_mining import REDUCTIONS


class Objective(nn.Module):
    """The head, always inside a :class:`HardMining` wrapper with the config's settings. When
    ``active`` the wrapper's loss is optimised; otherwise the head's mean loss is, and the record
    still says what hard mining would have weighted (so both kinds of run log the same curves)."""

    def __init__(self, head: Head, *, active: bool, **settings: float | str):
        super().__init__()
        self.hard_mining = HardMining(head, **settings)
        self.active = active
        self.last_batch: HardMiningRecord | None = None

    @property
    def head(self) -> Head:
        return self.hard_mining.head

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """The mean loss over this batch (of the valid samples it is given)."""
        if self.active:
            loss = self.hard_mining(embeddings, labels)
            self.last_batch = self.hard_mining.last_batch
            return loss
        output = self.head(embeddings, labels)
        loss = output.losses.mean()
        with torch.no_grad():
            losses = output.losses.detach()
            _, weights = REDUCTIONS[self.hard_mining.reduction](losses, self.hard_mining.weight)
            self.last_batch = HardMiningRecord(
                target_probability=self.head.target_probability(output.logits.detach(), labels),
                base_losses=losses, weights=weights.detach(), loss=loss.detach())
        return loss


class TrainModel(nn.Module):
    """``forward(images, labels)`` -> the mean loss; images normalised, ``(N, 3, H, W)``."""

    def __init__(self, backbone: nn.Module, objective: Objective):
        super().__init__()
        self.backbone = backbone
        self.objective = objective

    def forward(self, images: Tensor, labels: Tensor) -> Tensor:
        return self.objective(self.backbone(images), labels)
