"""Embedding cache: a second evaluation of the same model on the same images does no model work.

One ``<key>.npy`` (float32 ``(n_images, d)``) per key, with a ``<key>.json`` beside it that
says in words what the key covers. The key is a sha256 over: the model's identity (file
sha256, format, arch, preprocessing contract, device type, dtype), the image list (its
identity and, for image files, a BLAKE2b hash of each file's bytes), the flip mode, and the
extraction version below. Keying on the bytes, not on size and modification time, means two
different images never share an entry: copies that keep mtimes (``cp -p``, ``rsync -a``, a
tar extract) of different faces of the same sizes, or faces re-aligned in place, are
embedded anew. Files are written atomically, so a killed run never leaves half an array.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fverify.align.aligned_images import AlignedImages
from fverify.atomic import atomic_open, write_json
from fverify.data.images import ImageFiles
from fverify.hashing import json_sha256

# Image lists stored as files, whose bytes can change under the same names.
_FILE_BACKED = (ImageFiles, AlignedImages)

# Bump when extraction changes its numbers (new batching, folding or flip arithmetic).
EXTRACTION_VERSION = 1
CACHE_ENV = "FVERIFY_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$FVERIFY_CACHE_DIR``, else ``$XDG_CACHE_HOME/fverify/embeddings``, else
    ``~/.cache/fverify/embeddings``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "fverify" / "embeddings"


class EmbeddingCache:
    """Embeddings stored under ``root``, one file per (model, images, settings) key."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def key(self, images: Sequence, model_identity: dict[str, Any], flip: str) -> tuple[str, dict[str, Any]]:
        """(hex key, the record it hashes) for embedding ``images`` with a model and flip mode."""
        record = {
            "extraction_version": EXTRACTION_VERSION,
            "model": model_identity,
            "images": {"count": len(images), "identity": images.identity(),
                       "content": content_hash(images) if isinstance(images, _FILE_BACKED) else None},
            "alignment": images.alignment["settings"] if isinstance(images, AlignedImages) else None,
            "flip": flip,
        }
        return json_sha256(record), record

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npy"

    def load(self, key: str, n_images: int) -> np.ndarray | None:
        """The cached array, or None when absent or unreadable (then it is recomputed)."""
        try:
            embeddings = np.load(self.path(key), allow_pickle=False)
        except (OSError, ValueError):
            return None
        if embeddings.ndim != 2 or len(embeddings) != n_images or embeddings.dtype != np.float32:
            return None
        return embeddings

    def save(self, key: str, embeddings: np.ndarray, record: dict[str, Any]) -> Path:
        with atomic_open(self.path(key), "wb") as handle:
            np.save(handle, embeddings.astype(np.float32, copy=False))
        write_json(self.root / f"{key}.json", record)
        return self.path(key)


def content_hash(images: ImageFiles | AlignedImages) -> str:
    """BLAKE2b over the bytes of every image file, in list order (in-memory images need none:
    their identity already hashes their bytes). Reading and hashing costs about as much as
    the check every run makes of the images (``fverify bench images``)."""
    digest = hashlib.blake2b(digest_size=32)
    for index in range(len(images)):
        digest.update(hashlib.blake2b(images.read_bytes(index), digest_size=32).digest())
    return digest.hexdigest()
