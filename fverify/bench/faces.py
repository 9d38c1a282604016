"""Synthetic "faces" for benchmarks and the precision proof: no real photos needed.

Each identity is a random smooth colour pattern (a sum of Gaussian blobs on an oval); each
of its images is that pattern under a small random rotation, shift and scale, a brightness
and contrast change, a few blobs of its own (expression, lighting) and pixel noise, saved
as a JPEG. Images of one identity are therefore more alike than images of two, as with
aligned faces, without any claim to look like faces.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fverify.data.images import ImageFiles

SIZE = 112  # pixels, the aligned-face size of the registered backbones
BLOBS_PER_IDENTITY = 12
BLOBS_PER_IMAGE = 3


def _blobs(rng: np.random.Generator, count: int, amplitude: float) -> np.ndarray:
    """``count`` random coloured Gaussian blobs summed into a float ``(SIZE, SIZE, 3)`` image."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    image = np.zeros((SIZE, SIZE, 3), dtype=np.float32)
    for _ in range(count):
        cy, cx = rng.uniform(0.15, 0.85, size=2) * SIZE
        radius = rng.uniform(6, 22)
        weight = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
        image += weight[..., None] * rng.uniform(-amplitude, amplitude, size=3).astype(np.float32)
    return image


def identity_pattern(rng: np.random.Generator) -> np.ndarray:
    """A float ``(SIZE, SIZE, 3)`` pattern in [0, 255]-ish: an oval of random tone plus blobs."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    oval = (((yy - SIZE * 0.5) / (SIZE * 0.45)) ** 2 + ((xx - SIZE * 0.5) / (SIZE * 0.36)) ** 2) < 1.0
    base = np.where(oval[..., None], rng.uniform(110, 200, size=3), rng.uniform(20, 90, size=3))
    return base.astype(np.float32) + _blobs(rng, BLOBS_PER_IDENTITY, 90.0)


def sample_image(pattern: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uint8 RGB image of an identity: jittered geometry, photometry, blobs and noise."""
    matrix = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), rng.uniform(-8, 8), rng.uniform(0.93, 1.07))
    matrix[:, 2] += rng.uniform(-4, 4, size=2)
    image = cv2.warpAffine(pattern, matrix, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
    image = image * rng.uniform(0.8, 1.2) + rng.uniform(-25, 25)
    image += _blobs(rng, BLOBS_PER_IMAGE, 60.0) + rng.normal(0, 6, size=image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_identities(root: Path, identities: int, images_per_identity: int, seed: int = 0,
                     quality: int = 90) -> tuple[ImageFiles, np.ndarray]:
    """Write ``identities x images_per_identity`` JPEGs under ``root`` as ``id<k>/<j>.jpg``.

    Returns the image list and each image's identity label (int array).
    """
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    for identity in range(identities):
        pattern = identity_pattern(rng)
        folder = root / f"id{identity:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(images_per_identity):
            rgb = sample_image(pattern, rng)
            relative = f"id{identity:05d}/{index:03d}.jpg"
            ok = cv2.imwrite(str(root / relative), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                             [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise OSError(f"cannot write {root / relative}")
            paths.append(relative)
            labels.append(identity)
    return ImageFiles(root, paths), np.asarray(labels)
