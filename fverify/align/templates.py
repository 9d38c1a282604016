"""Crop templates: where the five landmarks (left eye, right eye, nose, left and right mouth
corner, image left/right) land in the aligned crop, and the crop size (width, height)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fverify.errors import FverifyError

# The ArcFace/InsightFace 112x112 reference points (pixels, x then y).
_ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]])


@dataclass(frozen=True)
class Template:
    name: str
    width: int  # pixels
    height: int  # pixels
    points: np.ndarray  # (5, 2) pixels


TEMPLATES = {
    "arcface": Template("arcface", 112, 112, _ARCFACE),
    # SphereFace's 96x112 crop is the same face with 8 px less on each side.
    "sphereface": Template("sphereface", 96, 112, _ARCFACE - [8.0, 0.0]),
}


def template(name: str) -> Template:
    """The template called ``name``; the error lists the known ones."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise FverifyError(f"unknown alignment template {name!r}",
                           fix=f"use one of: {', '.join(TEMPLATES)}") from None
