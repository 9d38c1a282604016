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


def check_crop_size(name: str, input_size: tuple[int, int]) -> None:
    """Refuse, before any compute, a template whose crops (height, width) are not the model's
    ``input_size``: fverify never resizes a face."""
    crop = template(name)
    if (crop.height, crop.width) != tuple(input_size):
        fitting = [t.name for t in TEMPLATES.values() if (t.height, t.width) == tuple(input_size)]
        raise FverifyError(
            f"--align {name} makes {crop.width}x{crop.height} crops; the model takes "
            f"{input_size[1]}x{input_size[0]}",
            fix=f"use --align {fitting[0]}" if fitting else "use a model that takes one of: " +
            ", ".join(f"{t.width}x{t.height} ({t.name})" for t in TEMPLATES.values()))
