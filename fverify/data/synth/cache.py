"""A folder cache of synthetic data sets, so a second demo or experiment reuses what the first
rendered.

An entry is ``ROOT/<kind>-<key>/``: ``data/`` (what the writer made) and ``entry.json`` (what it
was made from). The key is the SHA-256 of everything that changes the pixels or the lists: the
writer's kind and settings, the source code of :mod:`fverify.data.synth` and the numpy and
OpenCV versions (random streams, JPEG encoder). An entry is built in a staging folder and
renamed into place whole, so a killed run leaves none half-written; one whose ``entry.json``
disagrees with its key is refused, never used.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fverify.atomic import atomic_directory, check_writable_directory, write_json
from fverify.errors import FverifyError
from fverify.hashing import json_sha256, source_sha256

ENTRY_JSON = "entry.json"
DATA = "data"
SCHEMA = "fverify.synth-cache/1"


def default_synth_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/fverify/synth``, else ``~/.cache/fverify/synth``."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "fverify" / "synth"


def synth_source_sha256() -> str:
    """SHA-256 over the renderer's and writers' source files: any edit to them makes new cache keys."""
    return source_sha256("fverify.data.synth")


def cache_inputs(kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a cached data set depends on (what its key hashes)."""
    import cv2
    import numpy

    return {"schema": SCHEMA, "kind": kind, "settings": dict(sorted(settings.items())),
            "synth_source_sha256": synth_source_sha256(), "numpy": numpy.__version__,
            "opencv": cv2.__version__}


def cached(root: str | Path, kind: str, settings: Mapping[str, Any],
           write: Callable[[Path], Any], report: Callable[[str], None] = print) -> Path:
    """The folder of the data set ``kind`` made with ``settings``: from the cache under ``root``
    when an entry exists, else made by ``write(folder)`` (which must create ``folder``) and
    stored. ``report`` gets one line saying which."""
    root = Path(root)
    check_writable_directory(root)
    inputs = cache_inputs(kind, settings)
    key = json_sha256(inputs)
    entry = root / f"{kind}-{key[:16]}"
    if entry.exists():
        _check_entry(entry, inputs)
        report(f"{kind}: cached in {entry}")
        return entry / DATA
    report(f"{kind}: rendering into the cache {entry} ...")
    with atomic_directory(entry) as staging:
        write(staging / DATA)
        write_json(staging / ENTRY_JSON, inputs)
    return entry / DATA


def _check_entry(entry: Path, inputs: Mapping[str, Any]) -> None:
    try:
        recorded = json.loads((entry / ENTRY_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    if recorded != inputs or not (entry / DATA).is_dir():
        raise FverifyError("this cache entry does not hold what its name says (entry.json is "
                           "missing or records other inputs)", where=str(entry),
                           fix="remove this folder; the next run makes it again")
