"""The training augmentation: random horizontal flip, p = 0.5 (the HM paper).

Each sample's flip is a hash of (seed, epoch, dataset index), not a draw from a random stream,
so it is the same under any number of processes, DataLoader workers and on resume.
"""
from __future__ import annotations

import numpy as np
import torch

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea and Flood, OOPSLA 2014): a bijective mixer of 64 bits."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        return x ^ (x >> np.uint64(31))


def flip_mask(seed: int, epoch: int, indices: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: whether each dataset index is mirrored in ``epoch`` (p = 0.5 each)."""
    key = _splitmix64(np.array([seed], dtype=np.uint64)) ^ np.uint64(epoch)
    return (_splitmix64(_splitmix64(key) ^ np.asarray(indices, dtype=np.uint64)) >> np.uint64(63)).astype(bool)


def flip_batch(images: torch.Tensor, mask: np.ndarray) -> torch.Tensor:
    """Mirror (width axis) the images ``(N, C, H, W)`` where ``mask`` is true."""
    if not mask.any():
        return images
    chosen = torch.from_numpy(mask).to(images.device)
    return torch.where(chosen[:, None, None, None], images.flip(-1), images)
