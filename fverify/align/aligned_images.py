"""Raw images aligned on the fly for the evaluation commands (``--align``), cached as crops.

Each crop is a PNG (lossless: the model sees exactly the warped pixels) at
``<root>/<settings key>/<BLAKE2b of the source bytes>.png`` with its record (landmarks, score,
face chosen, fallback) beside it as ``.json``, written after the crop. The settings key hashes
every alignment setting, the SHA-256 of the detector's weight files and the code that makes a
crop (:func:`fverify.align.aligner.code_record`), and the name hashes the source's bytes: a
crop answers only for the same bytes aligned the same way by the same code, and a second run
(or another protocol sharing images) aligns nothing again.

This module imports no torch: the image list it returns is read by the embedding cache and by
``fverify bin pack``; the detector is imported when something is left to align.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from fverify.atomic import atomic_open, write_json
from fverify.data.images import ImageFiles, decode_image, encode_image
from fverify.hashing import json_sha256
from fverify.protocols.evalset import EvalSet

ALIGNED_SUBFOLDER = "aligned"  # under the embedding cache folder
BATCH_SIZE = 32  # images per detector batch
READ_THREADS = 4  # threads reading, decoding and writing images around the detector


class AlignedImages(Sequence):
    """The aligned crops of an image list, in its order; named after their sources in errors.

    ``alignment`` is the record a RunResult keeps: ``settings`` (what decides a crop, part of
    the embedding cache key), ``images`` and ``fallback`` (the images that got the centre crop).
    """

    def __init__(self, sources: Sequence, crops: ImageFiles, alignment: dict[str, Any]):
        self.sources = sources
        self.crops = crops
        self.alignment = alignment

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        return decode_image(self.read_bytes(index), self.describe(index))

    def read_bytes(self, index: int) -> bytes:
        """The PNG bytes of crop ``index``."""
        return self.crops.read_bytes(index)

    def describe(self, index: int) -> str:
        return f"{self.sources.describe(index)} (aligned: {self.crops.describe(index)})"

    def identity(self) -> str:
        """sha256 over the settings and the crop names (themselves hashes of the sources)."""
        record = {"settings": self.alignment["settings"], "crops": self.crops.identity()}
        return json_sha256(record)


def crops_root(embedding_cache: Path) -> Path:
    """Where aligned crops are cached: a subfolder of the embedding cache folder."""
    return Path(embedding_cache) / ALIGNED_SUBFOLDER


def alignment_settings(template: str, face_choice: str, detector: str = "mtcnn") -> dict[str, Any]:
    """Every setting that decides a crop, with the code's record and the weights' checksums."""
    from fverify.align.aligner import AlignmentSettings
    from fverify.align.weights import weights_sha256

    settings = AlignmentSettings(template=template, face_choice=face_choice, detector=detector)
    return {**settings.record(), "weights_sha256": weights_sha256()}


def align_images(images: Sequence, settings: dict[str, Any], root: str | Path, *,
                 device: str = "auto", progress: bool = True) -> AlignedImages:
    """Align every image of ``images`` (an :class:`ImageFiles` / ``ImageBytes`` list) with
    ``settings`` (from :func:`alignment_settings`), reusing crops cached under ``root``."""
    from tqdm import tqdm

    key = json_sha256(settings)
    folder = Path(root) / key
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "settings.json", settings)  # says in words what the key covers
    names: list[str] = [""] * len(images)
    records: list[dict | None] = [None] * len(images)
    aligner = None
    with ThreadPoolExecutor(READ_THREADS) as pool, \
            tqdm(total=len(images), unit="img", desc="aligning", disable=not progress) as bar:
        for start in range(0, len(images), BATCH_SIZE):
            batch = range(start, min(start + BATCH_SIZE, len(images)))
            encoded = list(pool.map(images.read_bytes, batch))
            todo = []
            for index, data in zip(batch, encoded):
                names[index] = hashlib.blake2b(data, digest_size=32).hexdigest() + ".png"
                records[index] = _read_record(folder / names[index])
                if records[index] is None:
                    todo.append(index)
            if todo:
                if aligner is None:
                    aligner = _aligner(settings, device)
                pixels = list(pool.map(lambda i: decode_image(encoded[i - start], images.describe(i)), todo))
                done = aligner.align(pixels)
                for index, face in zip(todo, done):
                    records[index] = face.record()
                list(pool.map(lambda item: _write(folder / names[item[0]], *item[1:]),
                              [(i, face.crop, records[i]) for i, face in zip(todo, done)]))
            bar.update(len(batch))
    fallback = [images.describe(i) for i, record in enumerate(records) if record["fallback"]]
    alignment = {"settings": settings, "images": len(images),
                 "fallback": {"method": settings["fallback"], "count": len(fallback), "images": fallback}}
    return AlignedImages(images, ImageFiles(folder, names), alignment)


def align_evalset(evalset: EvalSet, settings: dict[str, Any], root: str | Path, *,
                  device: str = "auto", progress: bool = True) -> EvalSet:
    """``evalset`` with its images replaced by their aligned crops."""
    aligned = align_images(evalset.images, settings, root, device=device, progress=progress)
    return dataclasses.replace(evalset, images=aligned)


def _aligner(settings: dict[str, Any], device: str):
    from fverify.align.aligner import Aligner, AlignmentSettings

    return Aligner(AlignmentSettings(template=settings["template"], face_choice=settings["face_choice"],
                                     detector=settings["detector"]), device=device)


def _read_record(crop: Path) -> dict | None:
    """The record of a cached crop, or None when it is not (completely) there."""
    try:
        record = json.loads(crop.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if crop.is_file() else None


def _write(crop: Path, pixels: np.ndarray, record: dict) -> None:
    # The record is written after the crop: a record on disk means its crop is complete.
    with atomic_open(crop, "wb") as handle:
        handle.write(encode_image(pixels, "png"))
    write_json(crop.with_suffix(".json"), record)
