"""``fverify bench images``: what the checks before a run cost, against decoding the images,
measured in the same run on this machine.

``images`` synthetic LFW-size photos (250x250 JPEGs of ~17 KB: synthetic faces scaled up,
with sensor-like noise so they compress like photos) are written to a temporary folder, then
timed, best of ``repeats``:

- check: :func:`fverify.data.image_header.check_images`, the structure walk every run and
  ``--validate`` does (file read + JPEG markers);
- hash: the BLAKE2b content hash that keys the embedding cache (file read + hash);
- decode: OpenCV decoding of every image, the baseline (what embedding does anyway).

Per-image times are also given for the full LFW tree (13,233 images).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fverify.bench.timing import best_seconds
from fverify.data.image_header import check_images
from fverify.data.images import ImageFiles
from fverify.data.synth.faces import render_images, sample_identity
from fverify.embedding.cache import content_hash

LFW_IMAGES = 13_233
PHOTO_SIZE = 250  # LFW's images are 250x250
JPEG_QUALITY = 90
NOISE_STD = 6.0  # uint8 levels: JPEGs of ~17 KB, a little above LFW's ~15 KB
POOL = 20  # distinct faces the photos are drawn from


def write_photos(folder: Path, count: int, seed: int) -> ImageFiles:
    """``count`` 250x250 JPEGs ``p/<i>.jpg`` under ``folder``."""
    rng = np.random.default_rng(seed)
    faces = render_images(sample_identity(seed, 0), POOL, seed=seed)
    (folder / "p").mkdir(parents=True)
    for i in range(count):
        face = cv2.resize(faces[i % POOL], (PHOTO_SIZE, PHOTO_SIZE), interpolation=cv2.INTER_CUBIC)
        noisy = np.clip(face + rng.normal(0, NOISE_STD, face.shape), 0, 255).astype(np.uint8)
        ok, encoded = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        (folder / "p" / f"{i}.jpg").write_bytes(encoded.tobytes())
    return ImageFiles(folder, [f"p/{i}.jpg" for i in range(count)])



def run(images: int, repeats: int, seed: int) -> dict[str, Any]:
    """Times (seconds, best of ``repeats``) of check, hash and decode on ``images`` photos."""
    with tempfile.TemporaryDirectory(prefix="fverify-bench-images-") as folder:
        photos = write_photos(Path(folder), images, seed)
        mean_bytes = float(np.mean([len(photos.read_bytes(i)) for i in range(images)]))
        work = {
            "check": lambda: check_images(photos, (PHOTO_SIZE, PHOTO_SIZE)),
            "hash": lambda: content_hash(photos),
            "decode": lambda: [photos[i] for i in range(images)],
        }
        seconds = {name: best_seconds(job, repeats, warm_up=False) for name, job in work.items()}
    return {"images": images, "mean_bytes": mean_bytes, "repeats": repeats,
            "seconds": seconds, "decode_over_check": seconds["decode"] / seconds["check"],
            "lfw_seconds": {name: s / images * LFW_IMAGES for name, s in seconds.items()}}


def summary(figures: dict[str, Any]) -> str:
    lines = [f"{figures['images']} JPEGs, {PHOTO_SIZE}x{PHOTO_SIZE}, mean {figures['mean_bytes'] / 1024:.1f} KiB "
             f"(best of {figures['repeats']})",
             f"{'':<8}{'us/image':>10}{'LFW (13,233)':>14}"]
    for name, seconds in figures["seconds"].items():
        lines.append(f"{name:<8}{seconds / figures['images'] * 1e6:>10.0f}"
                     f"{figures['lfw_seconds'][name]:>12.2f} s")
    lines.append(f"the check is {figures['decode_over_check']:.1f}x faster than decoding the images")
    return "\n".join(lines)
