"""A model-free Embedder for extraction tests: fast, exact, and it counts its work."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fverify.data.images import ImageFiles
from fverify.models.embedder import Embedder

SIZE = 8


class PixelEmbedder(Embedder):
    """Embedding of a face = its first row of red values (so a mirror image differs)."""

    def __init__(self, input_size: tuple[int, int] = (SIZE, SIZE), dtype: str = "float32"):
        self.input_size = input_size
        self.dtype = dtype
        self.faces_seen = 0

    def embed(self, faces: np.ndarray) -> np.ndarray:
        self.faces_seen += len(faces)
        return faces[:, 0, :, 0].astype(np.float32)

    def describe(self) -> dict:
        return {"format": "fake", "path": "fake", "sha256": "0" * 64, "arch": None, "embedding_dim": SIZE,
                "preprocessing": None, "device": "cpu", "dtype": self.dtype}


class RefusingEmbedder(PixelEmbedder):
    """Same identity as PixelEmbedder, but any model work fails the test."""

    def embed(self, faces: np.ndarray) -> np.ndarray:
        raise AssertionError("the model was called")


def face(index: int) -> np.ndarray:
    """A distinct 8x8 RGB image per index (values differ along the first row)."""
    rng = np.random.default_rng(index)
    return rng.integers(0, 256, size=(SIZE, SIZE, 3), dtype=np.uint8)


def png(rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()


def write_faces(root: Path, count: int) -> ImageFiles:
    """``count`` lossless face images ``p/<i>.png`` under ``root``."""
    (root / "p").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / "p" / f"{i}.png").write_bytes(png(face(i)))
    return ImageFiles(root, [f"p/{i}.png" for i in range(count)])
