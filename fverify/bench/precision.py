"""``fverify bench precision``: does a low-precision dtype (bf16 autocast on CPU, fp16 AMP
on CUDA) keep the verification decisions of float32? The proof behind ``--dtype auto``.

On a synthetic pair set (:mod:`fverify.bench.faces`) an iresnet18 with random weights and
batch-norm statistics calibrated on the same images (so every layer sees normalised
activations, as in a trained network) embeds every image in float32 and in the dtype under
test (flip ``sum``). Each dtype is then evaluated as LFW is: 10 folds, each fold decided at the
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


def measure(root: Path, dtype: str = "bfloat16", device: str = "cpu", arch: str = "iresnet18",
            identities: int = 300, images_per_identity: int = 10, n_pairs: int = 6000, batch_size: int = 64,
            seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Compare float32 with ``dtype`` on ``device``, images written under ``root``; returns
    the figures (rates as fractions, counts as pairs)."""
    from fverify.bench.random_backbone import calibrated_random_backbone
    from fverify.embedding.extract import extract_embeddings
    from fverify.models.embedder import ModelSource, TorchEmbedder
    from fverify.models.preprocessing import Preprocessing

    images, labels = write_identities(root, identities, images_per_identity, seed=seed)
    pairs = make_pairs(labels, n_pairs, seed=seed)
    backbone = calibrated_random_backbone(arch, images, seed=seed)
    source = ModelSource("state-dict", Path(f"<random {arch}, seed {seed}>"), "none")
    figures: dict[str, Any] = {"arch": arch, "device": device, "dtype": dtype, "images": len(images),
                               "pairs": len(pairs.same), "flip": "sum", "seed": seed}
    decisions, right = {}, {}
    scores = {}
    for name in ("float32", dtype):
        embedder = TorchEmbedder(backbone, Preprocessing(), source, arch=arch, device=device, dtype=name)
        extraction = extract_embeddings(images, embedder, flip="sum", batch_size=batch_size, progress=progress)
        scores[name] = cosine_scores(extraction.embeddings, pairs)
        decisions[name] = fold_decisions(scores[name], pairs)
        right[name] = int((decisions[name] == pairs.same).sum())
        figures[f"seconds_{name}"] = extraction.seconds
    same_decision = decisions["float32"] == decisions[dtype]
    figures.update({
        "agreement": float(same_decision.mean()),
        "changed_decisions": int((~same_decision).sum()),
        "accuracy_float32": right["float32"] / len(pairs.same),
        f"accuracy_{dtype}": right[dtype] / len(pairs.same),
        "accuracy_gap_pairs": abs(right["float32"] - right[dtype]),
        "max_score_change": float(np.abs(scores["float32"] - scores[dtype]).max()),
        "median_score_change": float(np.median(np.abs(scores["float32"] - scores[dtype]))),
    })
    figures["passed"] = bool(figures["agreement"] >= MIN_AGREEMENT
                             and figures["accuracy_gap_pairs"] <= MAX_ACCURACY_GAP_PAIRS)
    return figures


def run(dtype: str = "bfloat16", device: str = "cpu", arch: str = "iresnet18", identities: int = 300,
        images_per_identity: int = 10, n_pairs: int = 6000, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """:func:`measure` in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fverify-bench-precision-") as folder:
        started = time.perf_counter()
        figures = measure(Path(folder), dtype, device, arch, identities, images_per_identity, n_pairs,
                          seed=seed, progress=progress)
        figures["seconds_total"] = time.perf_counter() - started
    return figures


def summary(figures: dict[str, Any]) -> str:
    """Human-readable lines for the CLI."""
    dtype = figures["dtype"]
    verdict = "PASS" if figures["passed"] else "FAIL"
    return "\n".join([
        f"{figures['arch']} (random weights, calibrated BN) on {figures['device']}, flip {figures['flip']}, "
        f"{figures['images']} synthetic images, {figures['pairs']} pairs in 10 folds",
        f"  same decisions     {figures['agreement']:.4%} ({figures['changed_decisions']} changed; "
        f"need >= {MIN_AGREEMENT:.1%})",
        f"  accuracy float32   {figures['accuracy_float32']:.4%}",
        f"  accuracy {dtype:<9} {figures[f'accuracy_{dtype}']:.4%} ({figures['accuracy_gap_pairs']} pairs apart; "
        f"need <= {MAX_ACCURACY_GAP_PAIRS})",
        f"  score change       median {figures['median_score_change']:.2e}, max {figures['max_score_change']:.2e}",
        f"  verdict            {verdict}: {dtype} {'may' if figures['passed'] else 'may not'} be a default "
        f"on this kind of device",
    ])
