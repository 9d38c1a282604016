"""Embed every image of an image list exactly once, in batches, with the flip test.

Decoding runs in DataLoader worker processes (OpenCV, one thread each) while the model runs
in the main process; under ``torchrun`` each rank embeds one block of the images and all
ranks end with the full array. Row ``i`` of the result is the embedding of ``images[i]``.
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fverify.align.aligned_images import AlignedImages
from fverify.data.images import ImageBytes, ImageFiles
from fverify.embedding.cache import EmbeddingCache
from fverify.embedding.distributed import gather_rows, rank_and_world, shard
from fverify.embedding.flip import FLIP_MODES, embed_with_flip
from fverify.errors import FverifyError
from fverify.models.embedder import Embedder
from fverify.models.preprocessing import check_face_size

MAX_AUTO_WORKERS = 4


@dataclass(frozen=True)
class Extraction:
    """Embeddings ``(n_images, d)`` float32 (``2d`` for flip ``concat``), not normalised."""

    embeddings: np.ndarray
    from_cache: bool
    seconds: float  # wall-clock time of extract_embeddings, cache look-up included
    cache_file: Path | None  # where they are cached (None: caching off or not possible)


def extract_embeddings(images: Sequence, embedder: Embedder, *, flip: str = "sum", batch_size: int = 128,
                       workers: int | None = None, progress: bool = True,
                       cache: EmbeddingCache | None = None) -> Extraction:
    """Embed ``images`` (an :class:`ImageFiles` / :class:`ImageBytes` list) with ``embedder``.

    ``workers`` decoding processes (None: up to 4, leaving a core to the model; 0: decode in
    this process). With ``cache``, a stored result for the same model, images and settings
    is returned without running the model, and a new result is stored (by rank 0).
    """
    if flip not in FLIP_MODES:
        raise FverifyError(f"unknown flip mode {flip!r}", fix=f"use one of: {', '.join(FLIP_MODES)}")
    if batch_size < 1:
        raise FverifyError(f"batch size must be at least 1, not {batch_size}", fix="pass --batch-size N >= 1")
    if workers is not None and workers < 0:
        raise FverifyError(f"decoding workers must be 0 or more, not {workers}",
                           fix="pass --workers N >= 0 (0: decode in the main process)")
    start = time.perf_counter()
    identity = embedder.cache_identity() if cache is not None else None
    key = record = None
    if cache is not None and identity is not None:
        key, record = cache.key(images, identity, flip)
        cached = cache.load(key, len(images))
        if cached is not None:
            return Extraction(cached, True, time.perf_counter() - start, cache.path(key))

    unique, inverse = unique_images(images)
    rank, world = rank_and_world()
    block = unique[shard(len(unique), rank, world)]
    local = _embed(images, block, embedder, flip, batch_size, workers, progress and rank == 0)
    embeddings = gather_rows(local, len(unique)) if world > 1 else local
    embeddings = embeddings[inverse] if len(unique) < len(images) else embeddings

    if cache is None or key is None or record is None:
        return Extraction(embeddings, False, time.perf_counter() - start, None)
    if rank == 0:
        cache.save(key, embeddings, record)
    return Extraction(embeddings, False, time.perf_counter() - start, cache.path(key))


def unique_images(images: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the first occurrence of each distinct image, inverse map) such that
    ``images[unique[inverse[i]]]`` is ``images[i]``. Files are the same image when their
    relative paths are equal, in-memory images when their bytes are."""
    keys = _IMAGE_KEYS[type(images)](images) if type(images) in _IMAGE_KEYS else range(len(images))
    first: dict[object, int] = {}
    inverse = np.fromiter((first.setdefault(k, len(first)) for k in keys), dtype=np.int64, count=len(images))
    # Distinct images are numbered in order of first appearance, so np.unique's first
    # occurrences come out in that order too.
    _, unique = np.unique(inverse, return_index=True)
    return unique.astype(np.int64), inverse


_IMAGE_KEYS = {
    ImageFiles: lambda images: images.relative_paths,
    ImageBytes: lambda images: images.blobs,
    AlignedImages: lambda images: images.crops.relative_paths,  # hashes of the sources' bytes
}


def default_workers() -> int:
    """Decoding processes: up to 4, leaving at least one core to the model."""
    return max(1, min(MAX_AUTO_WORKERS, (os.cpu_count() or 1) - 1))


class _Faces:
    """Dataset view of ``images`` at ``indices``; decoding errors travel as values, because
    an exception raised in a worker reaches the main process wrapped in a traceback dump."""

    def __init__(self, images: Sequence, indices: np.ndarray, input_size: tuple[int, int]):
        self.images = images
        self.indices = indices
        self.input_size = input_size

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> tuple[int, np.ndarray | FverifyError]:
        index = int(self.indices[position])
        try:
            face = self.images[index]
            check_face_size(face.shape, self.input_size, self.images.describe(index))
        except FverifyError as error:
            return position, error
        return position, face


def _collate(items: list[tuple[int, np.ndarray | FverifyError]]) -> tuple[np.ndarray, np.ndarray] | FverifyError:
    for _, face in items:
        if isinstance(face, FverifyError):
            return face
    positions = np.array([position for position, _ in items], dtype=np.int64)
    return positions, np.stack([face for _, face in items])


def _embed(images: Sequence, indices: np.ndarray, embedder: Embedder, flip: str, batch_size: int,
           workers: int | None, progress: bool) -> np.ndarray:
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    if workers is None:
        workers = default_workers() if len(indices) > 2 * batch_size else 0
    loader = DataLoader(_Faces(images, indices, embedder.input_size), batch_size=batch_size, shuffle=False,
                        num_workers=workers, collate_fn=_collate, prefetch_factor=4 if workers else None)
    embeddings: np.ndarray | None = None
    with tqdm(total=len(indices), unit="img", desc="embedding", disable=not progress) as bar:
        for batch in loader:
            if isinstance(batch, FverifyError):
                raise batch
            positions, faces = batch
            result = embed_with_flip(embedder, faces, flip)
            if embeddings is None:
                embeddings = np.empty((len(indices), result.shape[1]), dtype=np.float32)
            embeddings[positions] = result
            bar.update(len(positions))
    return embeddings if embeddings is not None else np.empty((0, 0), dtype=np.float32)
