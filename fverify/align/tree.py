"""Align a whole tree of raw images into a mirrored tree of template crops (``fverify align``).

Resumable: each crop is written atomically and its record (with the SHA-256 of the source
file) appended to ``.align-records.jsonl`` only after the crop is in place, so after a kill the
next run skips exactly the images that have both and whose source bytes are unchanged; the
settings are fixed in ``.align-settings.json`` by the first run and a rerun with
other settings is refused. When every image is done, ``align-manifest.json`` lists every image
with its record and the summary names every image that took the centre-crop fallback.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fverify.align.aligner import FALLBACK, Aligner, AlignmentSettings
from fverify.align.layouts import LAYOUTS
from fverify.atomic import atomic_open, check_writable_directory, write_json
from fverify.data.images import ImageFiles, decode_image, encode_image
from fverify.errors import FverifyError, at
from fverify.hashing import file_digest

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SETTINGS_FILE = ".align-settings.json"
RECORDS_FILE = ".align-records.jsonl"
MANIFEST_FILE = "align-manifest.json"

def list_images(source: Path, layout: str) -> list[str]:
    """Relative paths (POSIX, sorted) of the images of ``layout`` under ``source``."""
    if layout not in LAYOUTS:
        raise FverifyError(f"unknown layout {layout!r}", fix=f"use one of: {', '.join(LAYOUTS)}")
    if not source.is_dir():
        raise FverifyError("is not a folder", where=at(source), fix="give the folder of raw images")
    depth = LAYOUTS[layout][0]
    found = []
    for path in source.rglob("*"):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            relative = path.relative_to(source)
            if depth is not None and len(relative.parts) != depth:
                raise FverifyError(f"image at depth {len(relative.parts)}, the {layout} layout has "
                                   f"them at depth {depth}", where=at(path),
                                   fix="check --layout, or use --layout folder")
            found.append(relative.as_posix())
    if not found:
        raise FverifyError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found", where=at(source))
    return sorted(found)


def read_records(destination: Path) -> dict[str, dict]:
    """Records of images already aligned; a torn last line (a kill mid-write) is ignored."""
    path = destination / RECORDS_FILE
    if not path.is_file():
        return {}
    records = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise FverifyError("not a JSON record", where=at(path, number),
                               fix="remove this file to align everything again") from None
        records[entry["image"]] = entry
    return records


def check_settings(destination: Path, settings: dict) -> None:
    """First run: fix the settings; later runs: refuse different ones (mixed crops in a tree)."""
    path = destination / SETTINGS_FILE
    if path.is_file():
        existing = json.loads(path.read_text(encoding="utf-8"))
        if existing != settings:
            changed = "; ".join(f"{key}: {existing.get(key)!r} there, {settings.get(key)!r} now"
                                for key in sorted(existing.keys() | settings.keys())
                                if existing.get(key) != settings.get(key))
            raise FverifyError(f"this tree was aligned with other settings ({changed})", where=at(path),
                               fix="use the same options (and, for a changed code_sha256 or package "
                               "version, the same fverify or package version) or a new DST folder")
    else:
        write_json(path, settings)


def align_tree(source: Path, destination: Path, layout: str, template: str = "arcface",
               device: str = "auto", workers: int = 4, batch_size: int = 32,
               progress: Callable[[int, int], None] | None = None, detector: str = "mtcnn") -> dict:
    """Align every image of ``source`` into ``destination`` (same relative paths); returns the
    summary written into the manifest. ``progress(done, total)`` is called after each batch."""
    source, destination = Path(source), Path(destination)
    images = list_images(source, layout)
    if destination.resolve().is_relative_to(source.resolve()):
        raise FverifyError("DST is inside SRC; the crops would be read as raw images next time",
                           where=at(destination), fix="choose a DST outside SRC")
    check_writable_directory(destination)
    settings = AlignmentSettings(template=template, face_choice=LAYOUTS[layout][1], detector=detector)
    destination.mkdir(parents=True, exist_ok=True)
    check_settings(destination, {**settings.record(), "layout": layout})
    records = read_records(destination)
    # A crop answers only for the bytes it was made from: a changed source is aligned again.
    todo = [name for name in images
            if name not in records or not (destination / name).is_file()
            or records[name].get("source_sha256") != file_digest(source / name, "sha256")]
    aligner = Aligner(settings, device=device)
    start = time.perf_counter()
    with ThreadPoolExecutor(max(1, workers)) as pool, \
            open(destination / RECORDS_FILE, "a", encoding="utf-8") as log:
        done = len(images) - len(todo)
        for batch in _batches(todo, batch_size):
            files = ImageFiles(source, batch)
            encoded = list(pool.map(files.read_bytes, range(len(batch))))
            pixels = list(pool.map(lambda i: decode_image(encoded[i], files.describe(i)),
                                   range(len(batch))))
            results = aligner.align(pixels)
            digests = [hashlib.sha256(data).hexdigest() for data in encoded]
            records_of_batch = list(pool.map(
                lambda item: _write_crop(destination, *item), zip(batch, results, digests)))
            for record in records_of_batch:
                log.write(json.dumps(record) + "\n")
                records[record["image"]] = record
            log.flush()
            os.fsync(log.fileno())
            done += len(batch)
            if progress:
                progress(done, len(images))
    seconds = time.perf_counter() - start
    fallbacks = [name for name in images if records[name]["fallback"]]
    summary = {
        "images": len(images), "aligned_now": len(todo), "skipped_already_aligned":
        len(images) - len(todo), "seconds": round(seconds, 3),
        "images_per_second": round(len(todo) / seconds, 2) if todo and seconds > 0 else None,
        "fallback": {"method": FALLBACK, "count": len(fallbacks), "images": fallbacks},
    }
    write_json(destination / MANIFEST_FILE, {
        "source": str(source), "settings": {**settings.record(), "layout": layout},
        "summary": summary, "images": [records[name] for name in images]})
    return summary


def _write_crop(destination: Path, name: str, result, source_sha256: str) -> dict:
    suffix = Path(name).suffix.lower().lstrip(".")
    with atomic_open(destination / name, "wb") as handle:
        handle.write(encode_image(result.crop, "jpg" if suffix == "jpeg" else suffix))
    return {"image": name, "source_sha256": source_sha256, **result.record()}


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
