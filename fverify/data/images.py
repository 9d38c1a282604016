"""Decode face images into RGB uint8 arrays, from files or from in-memory bytes.

An image list (:class:`ImageFiles`, :class:`ImageBytes`) is what the embedder consumes: a
picklable sequence, so DataLoader workers can decode in parallel, that names each image in
error messages and has a stable identity for embedding caches.
"""
from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from fverify.errors import FverifyError


@functools.cache
def _cv2() -> ModuleType:
    """OpenCV, imported on first use: commands that never touch an image (``fverify evaluate``)
    should not pay its import time."""
    import cv2

    # Decoding threads inside OpenCV fight the DataLoader's worker processes for the same cores.
    cv2.setNumThreads(1)
    return cv2


def decode_image(data: bytes, where: str) -> np.ndarray:
    """JPEG/PNG/... bytes -> ``(H, W, 3)`` uint8 RGB; grey images are expanded to three channels."""
    if not data:  # OpenCV raises its own error on an empty buffer instead of returning None
        raise FverifyError("empty image (0 bytes)", where=where, fix="replace or re-extract the file")
    cv2 = _cv2()
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as error:  # OpenCV raises, for JPEG, on an image over its pixel limit
        if "CV_IO_MAX_IMAGE_PIXELS" not in str(error):
            raise _undecodable(where) from None
        raise _over_limit(where) from None
    if image is None:  # for PNG, OpenCV returns None on an image over its limit
        raise _over_limit(where) if _declares_too_many_pixels(data, where) else _undecodable(where)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _decode_limit() -> int:
    """OpenCV's pixel limit, as fverify sets it (fverify/__init__.py) or the user did."""
    return int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", 2**30))


def _declares_too_many_pixels(data: bytes, where: str) -> bool:
    from fverify.data.image_header import declared_size

    try:
        size = declared_size(data, where)
    except FverifyError:  # not a complete JPEG or PNG: not a size question
        return False
    return size is not None and size[0] * size[1] > _decode_limit()


def _over_limit(where: str) -> FverifyError:
    return FverifyError(
        f"the image is larger than OpenCV's decode limit of {_decode_limit():,} pixels", where=where,
        fix="shrink the image, or set the environment variable OPENCV_IO_MAX_IMAGE_PIXELS to a "
        "larger pixel count before starting fverify (each decoding process may then hold that "
        "many pixels x 3 bytes)")


def _undecodable(where: str) -> FverifyError:
    return FverifyError("cannot decode this image (corrupt, truncated or not an image format OpenCV reads)",
                        where=where, fix="replace or re-extract the file")


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` uint8 RGB."""
    return decode_image(_read_file(path), str(path))


def _read_file(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise FverifyError(f"cannot read image: {error.strerror}", where=str(path),
                           fix="check that the file exists and is readable") from None


class ImageFiles(Sequence):
    """Images stored as files: ``root / relative_path`` for each relative path."""

    def __init__(self, root: str | Path, relative_paths: Sequence[str]):
        self.root = Path(root)
        self.relative_paths = tuple(relative_paths)

    def __len__(self) -> int:
        return len(self.relative_paths)

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        return decode_image(self.read_bytes(index), self.describe(index))

    def read_bytes(self, index: int) -> bytes:
        """The encoded bytes of image ``index``."""
        return _read_file(self.root / self.relative_paths[index])

    def describe(self, index: int) -> str:
        return str(self.root / self.relative_paths[index])

    def identity(self) -> str:
        """sha256 over the ordered relative paths (not the root: moving the data keeps caches)."""
        return _sha256_lines(self.relative_paths)

    def missing(self) -> list[str]:
        """Relative paths that do not exist as files, in list order."""
        return [p for p in self.relative_paths if not (self.root / p).is_file()]


class ImageBytes(Sequence):
    """Images held in memory as encoded bytes (an insightface ``.bin``), named ``source[i]``."""

    def __init__(self, blobs: Sequence[bytes], source: str):
        self.blobs = blobs
        self.source = source

    def __len__(self) -> int:
        return len(self.blobs)

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        return decode_image(self.blobs[index], self.describe(index))

    def read_bytes(self, index: int) -> bytes:
        """The encoded bytes of image ``index``."""
        return self.blobs[index]

    def describe(self, index: int) -> str:
        return f"{self.source}[image {index}]"

    def identity(self) -> str:
        """sha256 over the image bytes themselves."""
        digest = hashlib.sha256()
        for blob in self.blobs:
            digest.update(hashlib.sha256(blob).digest())
        return digest.hexdigest()


def _sha256_lines(lines: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        # fsencode: a file name that is not UTF-8 (decoded with surrogate escapes) hashes as
        # its bytes on disk instead of failing to encode.
        digest.update(os.fsencode(line) + b"\n")
    return digest.hexdigest()


def encode_image(image: np.ndarray, image_format: str = "jpg", jpeg_quality: int = 95) -> bytes:
    """``(H, W, 3)`` uint8 RGB -> encoded bytes (``"jpg"`` or ``"png"``), the inverse of
    :func:`decode_image`."""
    cv2 = _cv2()
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if image_format in ("jpg", "jpeg") else []
    ok, encoded = cv2.imencode(f".{image_format}", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {image.shape} image as {image_format}")
    return encoded.tobytes()
