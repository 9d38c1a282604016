"""Which face to align when a detector finds several: named policies, recorded with results.

LFW images are centred on the labelled person (the dataset's crops were made around them), so
there the face whose box centre is nearest the image centre is the person; elsewhere the largest
face is the subject more often than not.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from fverify.align.mtcnn import Faces
from fverify.errors import FverifyError


def nearest_centre(faces: Faces, height: int, width: int) -> int:
    centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
    distance = np.hypot(centres[:, 0] - (width - 1) / 2, centres[:, 1] - (height - 1) / 2)
    return int(np.argmin(distance))


def largest(faces: Faces, height: int, width: int) -> int:
    sides = faces.boxes[:, 2:] - faces.boxes[:, :2]
    return int(np.argmax(sides[:, 0] * sides[:, 1]))


POLICIES: dict[str, Callable[[Faces, int, int], int]] = {
    "nearest-centre": nearest_centre,
    "largest": largest,
}


def policy(name: str) -> Callable[[Faces, int, int], int]:
    try:
        return POLICIES[name]
    except KeyError:
        raise FverifyError(f"unknown face choice policy {name!r}",
                           fix=f"use one of: {', '.join(POLICIES)}") from None
