"""Detect, choose a face, warp: raw RGB images in, template crops and their records out."""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from importlib import metadata

import numpy as np

from fverify.align.choice import policy
from fverify.align.detectors import PACKAGE_EXTRA, detector
from fverify.align.mtcnn import MtcnnSettings
from fverify.align.templates import template
from fverify.align.warp import centre_crop, warp_to_template
from fverify.hashing import source_sha256
from fverify.models.embedder import resolve_device

FALLBACK = "centre-crop"  # what an image with no detected face gets, named in every record


@dataclass(frozen=True)
class AlignmentSettings:
    """Everything that decides an aligned crop; recorded with results and in cache keys."""

    template: str = "arcface"
    face_choice: str = "largest"
    detector: str = "mtcnn"
    min_face_size: float = MtcnnSettings.min_face_size
    scale_factor: float = MtcnnSettings.scale_factor
    thresholds: tuple[float, float, float] = MtcnnSettings.thresholds

    def record(self) -> dict:
        """The settings, and the code that applies them (:func:`code_record`)."""
        return {**asdict(self), "thresholds": list(self.thresholds), "fallback": FALLBACK,
                **code_record(self.detector)}


# The modules whose code decides a crop: detection, ranking, resampling, face choice, warp.
# Not the tree walker, the cache or the CLI: editing an error message there moves no pixel.
CROP_MODULES = ("aligner", "boxes", "choice", "mtcnn", "networks", "resize", "similarity",
                "templates", "warp", "weights")


@functools.cache
def code_record(detector_name: str) -> dict:
    """The code behind a crop, for records and cache keys (cached crops must never answer for
    other code): the SHA-256 of :data:`CROP_MODULES`, the numpy version (its sort ranks tied
    boxes) and OpenCV's (decoding, warping); with the package's detector also the installed
    mtcnn and TensorFlow distributions."""
    import cv2

    record = {"code_sha256": source_sha256("fverify.align", CROP_MODULES),
              "numpy": np.__version__, "opencv": cv2.__version__}
    if detector_name == PACKAGE_EXTRA:
        record.update({module: _installed(module) for module in ("mtcnn", "tensorflow")})
    return record


def _installed(module: str) -> str | None:
    """The distributions that provide the import name ``module``, with versions (TensorFlow
    comes as tensorflow, tensorflow-cpu, tf-nightly, ...); None when absent (the detector
    then refuses, naming the extra)."""
    names = metadata.packages_distributions().get(module, [])
    return ", ".join(sorted({f"{name} {metadata.version(name)}" for name in names})) or None


@dataclass(frozen=True)
class AlignedFace:
    """One image's crop and how it was made. ``chosen`` indexes the detections (best score
    first); ``landmarks`` (5, 2) and ``box`` are in source-image pixels; ``fallback`` is True
    when no face was found and the crop is the centre crop."""

    crop: np.ndarray
    faces_found: int
    chosen: int | None
    score: float | None
    box: np.ndarray | None
    landmarks: np.ndarray | None
    fallback: bool

    def record(self) -> dict:
        """JSON-ready manifest entry (no pixels)."""
        return {
            "faces_found": self.faces_found,
            "chosen": self.chosen,
            "score": self.score,
            "box": None if self.box is None else [round(float(v), 2) for v in self.box],
            "landmarks": None if self.landmarks is None
            else [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
            "fallback": FALLBACK if self.fallback else None,
        }


class Aligner:
    """Aligns batches of RGB uint8 images with one detector kept in memory."""

    def __init__(self, settings: AlignmentSettings = AlignmentSettings(), device: str = "auto"):
        self.settings = settings
        self.template = template(settings.template)
        self.choose = policy(settings.face_choice)
        self.detector = detector(settings.detector, resolve_device(device), MtcnnSettings(
            min_face_size=settings.min_face_size, scale_factor=settings.scale_factor,
            thresholds=settings.thresholds))

    def align(self, images: list[np.ndarray]) -> list[AlignedFace]:
        return [self._one(image, faces) for image, faces in zip(images, self.detector.detect(images))]

    def _one(self, image: np.ndarray, faces) -> AlignedFace:
        if not len(faces):
            return AlignedFace(centre_crop(image, self.template), 0, None, None, None, None, True)
        index = self.choose(faces, image.shape[0], image.shape[1])
        crop = warp_to_template(image, faces.landmarks[index], self.template)
        return AlignedFace(crop, len(faces), index, float(faces.scores[index]),
                           faces.boxes[index], faces.landmarks[index], False)
