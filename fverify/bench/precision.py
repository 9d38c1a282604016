"""Does bf16 autocast keep the verification decisions of float32? (The proof behind the CPU
``--dtype auto`` default.)

On a synthetic pair set (:mod:`fverify.bench.faces`) an iresnet18 with random weights and
batch-norm statistics calibrated on the same images (so every layer sees normalised
activations, as in a trained network) embeds every image in float32 and in bf16 (flip
``sum``). Each dtype is then evaluated as LFW is: 10 folds, each fold decided at the
accuracy-maximising threshold of the other nine. Pass: at least 99.9% of pairs get the same
decision and the right decisions differ by at most one pair (issue 4). The model is
untrained: this tests the arithmetic, on a score distribution less separated (more pairs
near the threshold) than a trained model's.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fverify.bench.faces import write_identities
from fverify.data.images import ImageFiles

MIN_AGREEMENT = 0.999  # fraction of pairs with equal decisions
MAX_ACCURACY_GAP_PAIRS = 1


FOLDS = 10


@dataclass(frozen=True)
class PairSet:
    first: np.ndarray  # image index of each pair's first face
    second: np.ndarray
    same: np.ndarray  # bool: same identity
    fold: np.ndarray  # 0..FOLDS-1, each fold half same, half different (as LFW View 2)


def make_pairs(labels: np.ndarray, n_pairs: int, seed: int = 0) -> PairSet:
    """``n_pairs // 2`` same-identity pairs (two different images) and as many different-identity
    pairs, drawn at random like LFW's balanced pairs."""
    rng = np.random.default_rng(seed)
    by_identity = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    half = n_pairs // 2
    same_first, same_second = [], []
    for identity in rng.integers(len(by_identity), size=half):
        a, b = rng.choice(by_identity[identity], size=2, replace=False)
        same_first.append(a)
        same_second.append(b)
    diff_first = rng.integers(len(labels), size=half)
    diff_second = rng.integers(len(labels), size=half)
    clash = labels[diff_first] == labels[diff_second]
    while clash.any():
        diff_second[clash] = rng.integers(len(labels), size=int(clash.sum()))
        clash = labels[diff_first] == labels[diff_second]
    fold = np.arange(half) * FOLDS // half
    return PairSet(np.concatenate([same_first, diff_first]), np.concatenate([same_second, diff_second]),
                   np.concatenate([np.ones(half, bool), np.zeros(half, bool)]), np.concatenate([fold, fold]))


def cosine_scores(embeddings: np.ndarray, pairs: PairSet) -> np.ndarray:
    """Cosine similarity of each pair (float64)."""
    unit = embeddings.astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", unit[pairs.first], unit[pairs.second])


def best_threshold(scores: np.ndarray, same: np.ndarray) -> tuple[float, int]:
    """(threshold, right decisions) of the cut maximising right decisions for ``score >= t``
    means "same"; the threshold is the midpoint between the two scores around the cut."""
    order = np.argsort(scores, kind="stable")
    sorted_scores, sorted_same = scores[order], same[order]
    # Cutting before position k: pairs below are called different, from k on the same.
    right = np.concatenate([[0], np.cumsum(~sorted_same)]) + np.concatenate([np.cumsum(sorted_same[::-1])[::-1], [0]])
    distinct = np.concatenate([[True], sorted_scores[1:] > sorted_scores[:-1], [True]])
    right = np.where(distinct, right, -1)  # a cut between equal scores is not a threshold
    k = int(np.argmax(right))
    below = sorted_scores[k - 1] if k > 0 else sorted_scores[0] - 1.0
    above = sorted_scores[k] if k < len(scores) else sorted_scores[-1] + 1.0
    return (below + above) / 2.0, int(right[k])


def fold_decisions(scores: np.ndarray, pairs: PairSet) -> np.ndarray:
    """"Same" decisions, each fold at the best threshold of the other folds."""
    decisions = np.empty(len(scores), dtype=bool)
    for fold in range(FOLDS):
        test = pairs.fold == fold
        threshold, _ = best_threshold(scores[~test], pairs.same[~test])
        decisions[test] = scores[test] >= threshold
    return decisions


def calibrate_batch_norm(backbone: Any, images: ImageFiles, count: int, batch_size: int = 32) -> None:
    """Set every BatchNorm's running statistics to the average over ``count`` images."""
    import torch

    from fverify.models.embedder import normalise_faces
    from fverify.models.preprocessing import Preprocessing

    contract = Preprocessing()
    mean = torch.tensor(contract.mean).view(1, 3, 1, 1)
    std = torch.tensor(contract.std).view(1, 3, 1, 1)
    for module in backbone.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the calibration batches
    backbone.train()
    with torch.no_grad():
        for start in range(0, count, batch_size):
            faces = np.stack([images[i] for i in range(start, min(start + batch_size, count))])
            backbone(normalise_faces(torch.from_numpy(faces), contract.color, mean, std))
    backbone.eval()


def measure(root: Path, arch: str = "iresnet18", identities: int = 300, images_per_identity: int = 10,
            n_pairs: int = 6000, batch_size: int = 64, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Run the comparison with images written under ``root``; returns the figures (fractions)."""
    import torch

    from fverify.embedding.extract import extract_embeddings
    from fverify.models.embedder import ModelSource, TorchEmbedder
    from fverify.models.preprocessing import Preprocessing
    from fverify.models.registry import backbone_spec

    images, labels = write_identities(root, identities, images_per_identity, seed=seed)
    pairs = make_pairs(labels, n_pairs, seed=seed)
    torch.manual_seed(seed)
    backbone = backbone_spec(arch).build()
    calibrate_batch_norm(backbone, images, min(len(images), 256))
    source = ModelSource("state-dict", Path(f"<random {arch}, seed {seed}>"), "none")
    figures: dict[str, Any] = {"arch": arch, "images": len(images), "pairs": len(pairs.same), "flip": "sum"}
    scores = {}
    for dtype in ("float32", "bfloat16"):
        embedder = TorchEmbedder(backbone, Preprocessing(), source, arch=arch, device="cpu", dtype=dtype)
        extraction = extract_embeddings(images, embedder, flip="sum", batch_size=batch_size, progress=progress)
        scores[dtype] = cosine_scores(extraction.embeddings, pairs)
        figures[f"seconds_{dtype}"] = extraction.seconds
    decisions = {dtype: fold_decisions(dtype_scores, pairs) for dtype, dtype_scores in scores.items()}
    right_fp32, right_bf16 = ((decisions[d] == pairs.same).sum() for d in ("float32", "bfloat16"))
    same_decision = decisions["float32"] == decisions["bfloat16"]
    figures.update({
        "agreement": float(same_decision.mean()),
        "changed_decisions": int((~same_decision).sum()),
        "accuracy_float32": float(right_fp32 / len(pairs.same)),
        "accuracy_bfloat16": float(right_bf16 / len(pairs.same)),
        "accuracy_gap_pairs": int(abs(right_fp32 - right_bf16)),
        "max_score_change": float(np.abs(scores["float32"] - scores["bfloat16"]).max()),
    })
    figures["passed"] = figures["agreement"] >= MIN_AGREEMENT and figures["accuracy_gap_pairs"] <= MAX_ACCURACY_GAP_PAIRS
    return figures


def run(identities: int, images_per_identity: int, n_pairs: int, arch: str, seed: int,
        progress: bool) -> dict[str, Any]:
    """:func:`measure` in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fverify-bench-bf16-") as folder:
        started = time.perf_counter()
        figures = measure(Path(folder), arch, identities, images_per_identity, n_pairs, seed=seed, progress=progress)
        figures["seconds_total"] = time.perf_counter() - started
    return figures
