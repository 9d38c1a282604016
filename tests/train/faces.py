"""A tiny in-memory training set with the TrainingSet interface (train-interfaces.md), for the
trainer's tests: each class is a fixed random pattern plus per-image noise, 32x32 RGB."""
from __future__ import annotations

import numpy as np
import torch

SIZE = (32, 32)


class TinyFaces(torch.utils.data.Dataset):
    def __init__(self, num_classes: int = 6, per_class: int = 8, seed: int = 0,
                 broken: tuple[int, ...] = (), size: tuple[int, int] = SIZE):
        rng = np.random.default_rng(seed)
        patterns = rng.integers(0, 256, size=(num_classes, 3, *size))
        self.labels = np.repeat(np.arange(num_classes), per_class).astype(np.int64)
        noise = rng.normal(0, 30, size=(len(self.labels), 3, *size))
        self.images = np.clip(patterns[self.labels] + noise, 0, 255).astype(np.uint8)
        self.num_classes = num_classes
        self.input_size = size
        self.source = f"tiny faces: {num_classes} classes x {per_class} images"
        self.broken = set(broken)  # indices that "fail to decode"

    def __len__(self) -> int:
        return len(self.labels)

    def describe(self, index: int) -> str:
        return f"tiny[{index}]"

    def __getitem__(self, index: int):
        if index in self.broken:
            return torch.zeros(3, *self.input_size, dtype=torch.uint8), -1, index
        return torch.from_numpy(self.images[index]), int(self.labels[index]), index


def tiny_overrides(**extra: object) -> list[str]:
    """--set texts for the tiny recipe on TinyFaces (32x32, batch 8, no workers)."""
    settings = {"model.input_size": "[32, 32]", "optim.batch_size": "8", "data.workers": "0",
                "engine.progress": "false", "engine.log_every_steps": "2", **extra}
    return [f"{key}={value}" for key, value in settings.items()]
