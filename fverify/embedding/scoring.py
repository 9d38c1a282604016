"""Pair scores from image embeddings: cosine similarity, after per-video aggregation for
video protocols (YTF). numpy only.

Video aggregation is a named setting recorded with every result, because it changes the
numbers:

- ``norm_mean`` (default): L2-normalise each frame embedding, average, normalise.
- ``mean``: average the raw frame embeddings, normalise.
- ``first_k``: the first ``k`` frames by frame number, then ``norm_mean``.
- ``random_k``: ``k`` frames drawn without replacement (``numpy.random.default_rng(seed)``,
  one draw per video in item order), then ``norm_mean``.
- ``pairwise_mean``: the mean cosine over all frame pairs of the two videos. Because the mean
  of dot products is the dot product of means, this equals the dot product of the two
  videos' *unnormalised* means of unit frame embeddings; no pair matrix is formed.

A video with fewer than ``k`` frames uses all of them.
"""
from __future__ import annotations

import numpy as np

from fverify.errors import FverifyError
from fverify.protocols.evalset import EvalSet

AGGREGATIONS = ("norm_mean", "mean", "first_k", "random_k", "pairwise_mean")
DEFAULT_AGGREGATION = "norm_mean"
_NEEDS_K = ("first_k", "random_k")


def aggregation_setting(evalset: EvalSet, aggregation: str = DEFAULT_AGGREGATION,
                        k: int | None = None, seed: int = 0) -> dict:
    """The setting as recorded in a RunResult: ``{}`` for image protocols (nothing to
    aggregate), else ``{"aggregation": name}`` plus ``k`` (and ``seed`` for ``random_k``)."""
    check_aggregation(evalset, aggregation, k)
    if evalset.image_item is None:
        return {}
    setting: dict = {"aggregation": aggregation}
    if aggregation in _NEEDS_K:
        setting["k"] = k
    if aggregation == "random_k":
        setting["seed"] = seed
    return setting


def check_aggregation(evalset: EvalSet, aggregation: str, k: int | None) -> None:
    """Refuse an unknown name, a missing or useless ``k``, or an aggregation on images."""
    if aggregation not in AGGREGATIONS:
        raise FverifyError(f"unknown aggregation {aggregation!r}",
                           fix=f"choose one of: {', '.join(AGGREGATIONS)}")
    if evalset.image_item is None and (aggregation != DEFAULT_AGGREGATION or k is not None):
        raise FverifyError(f"{evalset.protocol.name} pairs single images; video aggregation "
                           f"({aggregation}, k={k}) does not apply", fix="drop --aggregation/--k")
    if aggregation in _NEEDS_K and (k is None or k < 1):
        raise FverifyError(f"aggregation {aggregation} needs k >= 1 frames, got {k}",
                           fix="pass --k N")
    if aggregation not in _NEEDS_K and k is not None:
        raise FverifyError(f"aggregation {aggregation} uses every frame; k={k} would be ignored",
                           fix="drop --k, or choose first_k / random_k")


def pair_scores(evalset: EvalSet, image_embeddings: np.ndarray,
                aggregation: str = DEFAULT_AGGREGATION, k: int | None = None,
                seed: int = 0) -> np.ndarray:
    """Cosine similarity in [-1, 1] per protocol pair, in pair order (higher = more alike).

    ``image_embeddings[j]`` is the embedding of ``evalset.images[j]``. Image protocols
    compare the two items' embeddings; video protocols first reduce each video's frames with
    ``aggregation`` (module docstring). Arithmetic is float64 whatever the input dtype.
    """
    check_aggregation(evalset, aggregation, k)
    embeddings = np.asarray(image_embeddings)
    if embeddings.ndim != 2 or len(embeddings) != evalset.num_images:
        raise ValueError(f"expected ({evalset.num_images}, d) embeddings, got {embeddings.shape}")
    if evalset.image_item is None:
        items = _unit(embeddings.astype(np.float64), lambda i: evalset.images.describe(int(i)))
    else:
        frames = np.flatnonzero(_selected_frames(evalset.image_item, aggregation, k, seed))
        items = _video_means(embeddings, frames, evalset, normalise=aggregation != "mean")
        if aggregation != "pairwise_mean":
            items = _unit(items, lambda i: evalset.protocol.items[i])
    pairs = evalset.protocol.pairs
    return np.einsum("ij,ij->i", items[pairs[:, 0]], items[pairs[:, 1]])


def _selected_frames(image_item: np.ndarray, aggregation: str, k: int | None,
                     seed: int) -> np.ndarray:
    """Boolean mask of the frames an aggregation uses."""
    if aggregation not in _NEEDS_K:
        return np.ones(len(image_item), dtype=bool)
    starts = np.searchsorted(image_item, image_item, side="left")
    if aggregation == "first_k":
        rank = np.arange(len(image_item)) - starts
    else:
        # A random permutation within each video: sort frames by (video, random key); the
        # rank of a frame in that order is its position in its video's draw.
        keys = np.random.default_rng(seed).random(len(image_item))
        order = np.lexsort((keys, image_item))
        rank = np.empty(len(image_item), dtype=np.int64)
        rank[order] = np.arange(len(image_item)) - starts[order]
    return rank < k


_CHUNK = 2048  # frames per step: bounds the float64 working copy (2048 x 512 x 8 B = 8 MiB)


def _video_means(embeddings: np.ndarray, frames: np.ndarray, evalset: EvalSet,
                 normalise: bool) -> np.ndarray:
    """Mean per video of the embeddings of ``frames`` (indices, grouped by video), each frame
    first made unit length when ``normalise``; float64, in chunks so that all of YTF's frames
    (~620k x 512) are never copied at once."""
    item = evalset.image_item[frames]
    sums = np.zeros((len(evalset.protocol.items), embeddings.shape[1]), dtype=np.float64)
    for begin in range(0, len(frames), _CHUNK):
        chunk = frames[begin:begin + _CHUNK]
        block = embeddings[chunk].astype(np.float64)
        if normalise:
            block = _unit(block, lambda i: evalset.images.describe(int(chunk[i])))
        chunk_item = item[begin:begin + _CHUNK]
        starts = np.flatnonzero(np.r_[True, np.diff(chunk_item) != 0])
        # reduceat along the contiguous axis is ~30x faster than along rows
        sums[chunk_item[starts]] += np.add.reduceat(np.ascontiguousarray(block.T), starts, axis=1).T
    counts = np.bincount(item, minlength=len(sums))
    return sums / counts[:, None]


def _unit(vectors: np.ndarray, name) -> np.ndarray:
    """Rows scaled to unit length; ``name(row)`` names a zero (or NaN) row in the error."""
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    bad = np.flatnonzero(~(norms > 0) | ~np.isfinite(norms))
    if len(bad):
        raise FverifyError(f"{len(bad)} embedding(s) have zero (or NaN) length, e.g. {name(bad[0])}; "
                           "a cosine is undefined", fix="check the model's output for this input")
    return vectors / norms[:, None]
