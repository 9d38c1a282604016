"""Warp an image to a template crop: by the five landmarks, or the centre-crop fallback."""
from __future__ import annotations

import cv2
import numpy as np

from fverify.align.similarity import similarity_transform
from fverify.align.templates import Template


def warp_to_template(image: np.ndarray, landmarks: np.ndarray, template: Template) -> np.ndarray:
    """The crop where the landmarks (5, 2) land on the template's points (least squares);
    pixels from outside the image are black."""
    matrix = similarity_transform(landmarks, template.points)
    return cv2.warpAffine(image, matrix, (template.width, template.height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def centre_crop(image: np.ndarray, template: Template) -> np.ndarray:
    """Fallback when no face is found: the largest centred region of the template's aspect
    ratio, resized to the template size (area interpolation when shrinking)."""
    height, width = image.shape[:2]
    aspect = template.width / template.height
    crop_height = min(height, width / aspect)
    crop_width = crop_height * aspect
    top = int(round((height - crop_height) / 2))
    left = int(round((width - crop_width) / 2))
    region = image[top:top + int(round(crop_height)), left:left + int(round(crop_width))]
    shrinking = region.shape[0] > template.height
    return cv2.resize(region, (template.width, template.height),
                      interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
