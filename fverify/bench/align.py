"""``fverify bench align``: MTCNN face detection speed on this machine, in milliseconds per image,
for LFW-size images (250x250) and large photos, batched and one image at a time; the ``mtcnn``
package itself (TensorFlow) is measured beside fverify's torch cascade in the same run when
TensorFlow is installed, and skipped with the reason otherwise.

Images: with ``photos`` (a folder of JPEG photos, e.g. real faces), the LFW-size set is each
photo's centred square shrunk to 250x250 and the large set the photos as they are; without it,
synthetic faces scaled to 250x250 and to 1280x960 (faces the detector finds less often, so the
later stages do less work than on real photos). Times are wall-clock, best of ``repeats``.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fverify.bench.timing import best_seconds
from fverify.data.images import read_image
from fverify.data.synth.faces import render_images, sample_identity
from fverify.errors import FverifyError, at

LFW_SIZE = 250  # pixels
LARGE_SYNTHETIC = (960, 1280)  # height, width
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


def lfw_size(image: np.ndarray) -> np.ndarray:
    """The centred square of a photo, shrunk (or grown) to 250x250 like an LFW image."""
    side = min(image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return cv2.resize(image[top:top + side, left:left + side], (LFW_SIZE, LFW_SIZE),
                      interpolation=cv2.INTER_AREA)


def load_images(photos: Path | None, count: int, large: int, seed: int) -> tuple[list, list, str]:
    """(``count`` LFW-size images, ``large`` large ones, where they came from)."""
    if photos is not None:
        files = sorted(p for p in Path(photos).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if not files:
            raise FverifyError(f"no photos ({', '.join(PHOTO_SUFFIXES)}) found", where=at(photos),
                               fix="give a folder of face photos, or leave --photos out for synthetic faces")
        originals = [read_image(path) for path in files]
        source = f"{len(files)} photos in {photos}"
    else:
        originals = list(render_images(sample_identity(seed, 0), max(count, large), seed=seed))
        originals = [cv2.resize(face, LARGE_SYNTHETIC[::-1], interpolation=cv2.INTER_CUBIC) for face in originals]
        source = "synthetic faces"
    small = [lfw_size(originals[i % len(originals)]) for i in range(count)]
    big = [originals[i % len(originals)] for i in range(large)]
    return small, big, source


def _torch_detector(device: str):
    from fverify.align.mtcnn import MtcnnDetector
    from fverify.models.embedder import resolve_device

    detector = MtcnnDetector(resolve_device(device))
    return lambda images: detector.detect(images)


def _package_detector(device: str):
    from mtcnn import MTCNN  # imports TensorFlow

    package = MTCNN(device="GPU:0" if device.startswith("cuda") else "CPU:0")
    return lambda images: package.detect_faces(images if len(images) > 1 else images[0])


DETECTORS = {"torch": _torch_detector, "mtcnn-tf": _package_detector}


def package_missing() -> str | None:
    """Why the ``mtcnn`` package cannot run here, or None when it can."""
    for module in ("tensorflow", "mtcnn"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'fverify[mtcnn-tf]')"
    return None


def run(photos: Path | None, images: int, large: int, batch_size: int, repeats: int, device: str,
        seed: int) -> dict[str, Any]:
    """Milliseconds per image of each detector, image set and batching."""
    small, big, source = load_images(photos, images, large, seed)
    sets = {"lfw_size": small, "large": big}
    skipped = {"mtcnn-tf": package_missing()} if package_missing() else {}
    figures: dict[str, Any] = {"source": source, "device": device, "batch_size": batch_size,
                               "repeats": repeats, "images": {k: len(v) for k, v in sets.items()},
                               "skipped": skipped, "ms_per_image": {}}
    try:
        import torch

        figures["torch_threads"] = torch.get_num_threads()
    except ImportError:
        figures["torch_threads"] = None
    for name, build in DETECTORS.items():
        if name in skipped:
            continue
        detect = build(device)
        rates = {}
        for set_name, chosen in sets.items():
            for mode, size in (("batched", batch_size), ("one_at_a_time", 1)):
                def work(chosen=chosen, size=size):
                    for start in range(0, len(chosen), size):
                        detect(chosen[start:start + size])

                rates[f"{set_name}/{mode}"] = best_seconds(work, repeats) / len(chosen) * 1000
        figures["ms_per_image"][name] = rates
    return figures


def summary(figures: dict[str, Any]) -> str:
    counts = figures["images"]
    lines = [f"MTCNN detection, {figures['source']}: {counts['lfw_size']} images at {LFW_SIZE}x{LFW_SIZE}, "
             f"{counts['large']} large; device {figures['device']}, torch threads "
             f"{figures['torch_threads']}; best of {figures['repeats']}, wall-clock",
             f"{'ms per image':<16}{'250x250 batched':>17}{'one at a time':>15}{'large batched':>15}"
             f"{'one at a time':>15}"]
    for name, rates in figures["ms_per_image"].items():
        lines.append(f"{name:<16}{rates['lfw_size/batched']:>17.1f}{rates['lfw_size/one_at_a_time']:>15.1f}"
                     f"{rates['large/batched']:>15.1f}{rates['large/one_at_a_time']:>15.1f}")
    lines.append(f"(batched: {figures['batch_size']} images per call; large photos of different sizes "
                 "run as separate same-size batches in the torch cascade)")
    for name, reason in figures["skipped"].items():
        lines.append(f"{name}: skipped, {reason}")
    rates = figures["ms_per_image"]
    if "mtcnn-tf" in rates:
        ratio = rates["mtcnn-tf"]["lfw_size/batched"] / rates["torch"]["lfw_size/batched"]
        lines.append(f"torch cascade vs the mtcnn package, 250x250 batched: {ratio:.2f}x the package's rate")
    return "\n".join(lines)
