"""``fverify bench precision``: does a low-precision dtype (bf16 autocast on CPU, fp16 AMP
on CUDA) keep the verification decisions of float32? The proof behind ``--dtype auto``.

The run is the real one: a synthetic LFW written in the real layout (10 folds of
``pairs_per_fold`` same + as many different pairs, 6,000 pairs by default), read by the LFW
adapter and verified by :func:`fverify.verification.verify` once in float32 and once in the
dtype under test (flip ``sum``, exact threshold search, each dtype at its own per-fold
thresholds). Pass: at least 99.9% of pairs get the same decision and the numbers of right
decisions differ by at most one pair (issue 4).

The model is an iresnet18 with random weights and batch norms calibrated on the images
(:mod:`fverify.bench.random_backbone`), not a trained network: its scores are less separated
than a trained model's, with more pairs near the threshold, so this is the harder case.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

MIN_AGREEMENT = 0.999  # fraction of pairs with equal decisions
MAX_ACCURACY_GAP_PAIRS = 1
FOLDS = 10


def measure(root: Path, dtype: str = "bfloat16", device: str = "cpu", arch: str = "iresnet18",
            pairs_per_fold: int = 300, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Compare float32 with ``dtype`` on ``device``, data and runs written under ``root``;
    returns the figures (rates as fractions, counts in pairs, times in seconds)."""
    from fverify.bench.random_backbone import calibrated_random_backbone
    from fverify.data.synth import write_lfw
    from fverify.models.embedder import ModelSource, TorchEmbedder
    from fverify.models.preprocessing import Preprocessing
    from fverify.protocols.lfw import load_lfw
    from fverify.verification import ExtractionSettings, verify

    # 60 people a fold for 300 pairs: enough distinct images (~2,000 for 6,000 pairs) that
    # pairs do not all share a handful of faces.
    write_lfw(root / "lfw", num_folds=FOLDS, pairs_per_fold=pairs_per_fold,
              people_per_fold=max(4, pairs_per_fold // 5), max_images=6, seed=seed)
    evalset = load_lfw(root / "lfw", pairs=[root / "lfw" / "pairs.txt"])
    backbone = calibrated_random_backbone(arch, evalset.images, seed=seed)
    source = ModelSource("state-dict", Path(f"<random {arch}, seed {seed}>"), "none")
    runs = {}
    for name in ("float32", dtype):
        embedder = TorchEmbedder(backbone, Preprocessing(), source, arch=arch, device=device, dtype=name)
        runs[name] = verify(evalset, embedder, root / f"run-{name}",
                            extraction=ExtractionSettings(flip="sum", batch_size=64, progress=progress))
    reference, low = runs["float32"], runs[dtype]
    decided_same = reference.evaluation.search.predicted_same == low.evaluation.search.predicted_same
    right = {name: int(run.evaluation.correct.sum()) for name, run in runs.items()}
    change = np.abs(reference.scores - low.scores)
    figures: dict[str, Any] = {
        "arch": arch, "device": device, "dtype": dtype, "flip": "sum", "seed": seed,
        "images": len(evalset.images), "pairs": evalset.protocol.num_pairs, "folds": FOLDS,
        "seconds_float32": reference.extraction.seconds, f"seconds_{dtype}": low.extraction.seconds,
        "agreement": float(decided_same.mean()),
        "changed_decisions": int((~decided_same).sum()),
        "accuracy_float32": reference.evaluation.accuracy.mean,
        f"accuracy_{dtype}": low.evaluation.accuracy.mean,
        "accuracy_gap_pairs": abs(right["float32"] - right[dtype]),
        "max_score_change": float(change.max()),
        "median_score_change": float(np.median(change)),
    }
    figures["passed"] = bool(figures["agreement"] >= MIN_AGREEMENT
                             and figures["accuracy_gap_pairs"] <= MAX_ACCURACY_GAP_PAIRS)
    return figures


def run(dtype: str = "bfloat16", device: str = "cpu", arch: str = "iresnet18", pairs_per_fold: int = 300,
        seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """:func:`measure` in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fverify-bench-precision-") as folder:
        started = time.perf_counter()
        figures = measure(Path(folder), dtype, device, arch, pairs_per_fold, seed=seed, progress=progress)
        figures["seconds_total"] = time.perf_counter() - started
    return figures


def summary(figures: dict[str, Any]) -> str:
    """Human-readable lines for the CLI (rates in percent)."""
    dtype = figures["dtype"]
    verdict = "PASS" if figures["passed"] else "FAIL"
    return "\n".join([
        f"{figures['arch']} (random weights, calibrated BN) on {figures['device']}, flip {figures['flip']}, "
        f"{figures['images']} synthetic images, {figures['pairs']} pairs in {figures['folds']} folds "
        f"(synthetic LFW layout, exact threshold search)",
        f"  same decisions     {figures['agreement']:.4%} ({figures['changed_decisions']} changed; "
        f"need >= {MIN_AGREEMENT:.1%})",
        f"  accuracy float32   {figures['accuracy_float32']:.4%}",
        f"  accuracy {dtype:<9} {figures[f'accuracy_{dtype}']:.4%} ({figures['accuracy_gap_pairs']} pairs apart; "
        f"need <= {MAX_ACCURACY_GAP_PAIRS})",
        f"  score change       median {figures['median_score_change']:.2e}, max {figures['max_score_change']:.2e}",
        f"  embedding time     float32 {figures['seconds_float32']:.1f} s, {dtype} {figures[f'seconds_{dtype}']:.1f} s",
        f"  verdict            {verdict}: {dtype} {'may' if figures['passed'] else 'may not'} be a default "
        f"on this kind of device",
    ])
