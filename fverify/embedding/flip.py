"""The flip test: embed each face and its mirror image and combine the two embeddings.

``sum`` is insightface's evaluation (``emb(x) + emb(flip(x))``, then the score normalises);
``concat`` stacks them into a 2d-dimensional embedding; ``none`` embeds the face alone.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fverify.models.embedder import Embedder

_COMBINE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "sum": lambda plain, mirrored: plain + mirrored,
    "concat": lambda plain, mirrored: np.concatenate([plain, mirrored], axis=1),
}
FLIP_MODES: tuple[str, ...] = (*_COMBINE, "none")


def embed_with_flip(embedder: Embedder, faces: np.ndarray, flip: str) -> np.ndarray:
    """Embeddings of uint8 ``(N, H, W, 3)`` faces under flip mode ``flip``; a face and its
    mirror go through the model in one batch of 2N."""
    if flip == "none":
        return embedder.embed(faces)
    both = embedder.embed(np.concatenate([faces, faces[:, :, ::-1]]))
    return _COMBINE[flip](both[: len(faces)], both[len(faces):])
