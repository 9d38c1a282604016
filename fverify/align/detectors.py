"""The face detectors an alignment can use, by name: fverify's torch MTCNN cascade (``mtcnn``,
the default) or the ``mtcnn`` package itself on TensorFlow (``mtcnn-tf``, the optional extra
``fverify[mtcnn-tf]``), for users who want the package's results as it computes them.

Torch-free at import (the CLI lists the names); each detector imports what it runs.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from fverify.errors import FverifyError

PACKAGE_EXTRA = "mtcnn-tf"


class PackageDetector:
    """The ``mtcnn`` package's MTCNN (TensorFlow), with :class:`MtcnnDetector`'s interface."""

    def __init__(self, device: Any, settings):
        for module in ("tensorflow", "mtcnn"):
            if importlib.util.find_spec(module) is None:
                raise FverifyError(f"--detector mtcnn-tf needs {module}, which is not installed",
                                   fix=f"pip install 'fverify[{PACKAGE_EXTRA}]', or use --detector mtcnn "
                                   "(the same cascade in torch, no TensorFlow)")
        from mtcnn import MTCNN

        self.package = MTCNN(device="GPU:0" if str(device).startswith("cuda") else "CPU:0")
        self.options = {"min_face_size": settings.min_face_size, "scale_factor": settings.scale_factor,
                        "threshold_pnet": settings.thresholds[0], "threshold_rnet": settings.thresholds[1],
                        "threshold_onet": settings.thresholds[2]}

    def detect(self, images: list[np.ndarray]) -> list:
        """Faces of every image; one image per call, since the package pads a batch of mixed
        sizes to its largest image (an image's faces would depend on its batch-mates)."""
        return [self._one(image) for image in images]

    def _one(self, image: np.ndarray):
        from fverify.align.mtcnn import Faces

        # Rows: image index, x1, y1, x2, y2, probability, landmark xs (5), landmark ys (5).
        rows = np.asarray(self.package.detect_faces([image], box_format="xyxy", output_type="numpy",
                                                    **self.options), dtype=np.float64).reshape(-1, 16)
        rows = rows[np.argsort(-rows[:, 5], kind="stable")]
        return Faces(rows[:, 1:5], rows[:, 5], np.stack([rows[:, 6:11], rows[:, 11:16]], axis=2))


def _torch_cascade(device: Any, settings):
    from fverify.align.mtcnn import MtcnnDetector

    return MtcnnDetector(device, settings)


# name -> constructor(device, MtcnnSettings); each returns an object with detect(images) -> [Faces]
DETECTORS: dict[str, Callable[[Any, Any], Any]] = {
    "mtcnn": _torch_cascade,
    PACKAGE_EXTRA: PackageDetector,
}


def detector(name: str, device: Any, settings):
    """The detector called ``name``; the error lists the known ones."""
    if name not in DETECTORS:
        raise FverifyError(f"unknown face detector {name!r}", fix=f"use one of: {', '.join(DETECTORS)}")
    return DETECTORS[name](device, settings)
