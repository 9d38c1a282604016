"""``fverify bench embed``: images/s of the extraction pipeline against a naive loop, and
against the backbone's compute-bound rate, measured in the same run on this machine.

- pipeline: :func:`fverify.embedding.extract.extract_embeddings` on JPEG files (decoding in
  worker processes, batches, flip ``sum``, inference_mode, channels_last, folded batch
  norms, the ``--dtype`` in force).
- naive loop: one image at a time, ``cv2.imread``, float32, NCHW, ``torch.no_grad``, the
  face and its mirror as two forward passes (the same flip-``sum`` embeddings).
- compute-bound rate: the measured matrix-multiply throughput of this CPU in the pipeline's
  dtype (FLOP/s) over the backbone's FLOPs per image (two forward passes with the flip),
  FLOPs counted by ``torch.utils.flop_counter`` (2 per multiply-add).

Each measurement is repeated ``rounds`` times, alternating, and the best is kept: on a
shared machine the fastest round is the one least disturbed by other work.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from fverify.bench.faces import write_identities
from fverify.embedding.extract import extract_embeddings
from fverify.models.embedder import ModelSource, TorchEmbedder
from fverify.models.preprocessing import Preprocessing
from fverify.models.registry import backbone_spec

IMAGES_PER_IDENTITY = 8


def flops_per_forward(backbone: nn.Module, input_size: tuple[int, int]) -> int:
    """FLOPs (2 per multiply-add) of one forward pass on one image."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        backbone(torch.zeros(1, 3, *input_size))
    return int(counter.get_total_flops())


def matmul_flops_per_second(dtype: torch.dtype, size: int = 2048, repeats: int = 8) -> float:
    """Best observed FLOP/s of a ``size`` x ``size`` matrix product in ``dtype`` on this CPU."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b  # warm-up: thread pool and kernel selection
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best


def naive_embeddings(backbone: nn.Module, paths: list[Path], contract: Preprocessing) -> np.ndarray:
    """The loop a first script would write: read, normalise, two forward passes per image."""
    rows = []
    with torch.no_grad():
        for path in paths:
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            x = torch.from_numpy(((rgb - np.array(contract.mean)) / np.array(contract.std)).astype(np.float32))
            x = x.permute(2, 0, 1).unsqueeze(0).contiguous()
            rows.append((backbone(x) + backbone(torch.flip(x, dims=[3])))[0].numpy())
    return np.stack(rows)


def run(images: int = 512, naive_images: int = 32, arch: str = "iresnet18", batch_size: int = 32,
        dtype: str = "auto", workers: int | None = None, rounds: int = 2, seed: int = 0) -> dict[str, Any]:
    """Measure; returns rates in images/s, ratios as plain numbers, the settings, and the
    largest embedding difference between the two paths (a correctness check)."""
    spec = backbone_spec(arch)
    torch.manual_seed(seed)
    backbone = spec.build().eval()
    contract = Preprocessing(input_size=spec.input_size)
    embedder = TorchEmbedder(backbone, contract, ModelSource("state-dict", Path(f"<random {arch}>"), "none"),
                             arch=arch, device="cpu", dtype=dtype)
    with tempfile.TemporaryDirectory(prefix="fverify-bench-embed-") as folder:
        image_list, _ = write_identities(Path(folder), -(-images // IMAGES_PER_IDENTITY), IMAGES_PER_IDENTITY,
                                         seed=seed)
        naive_paths = [image_list.root / p for p in image_list.relative_paths[:naive_images]]
        naive_embeddings(backbone, naive_paths[:1], contract)  # warm-up
        extract_embeddings(image_list, embedder, batch_size=batch_size, workers=0, progress=False)  # warm-up
        naive_seconds, pipeline_seconds = float("inf"), float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            naive = naive_embeddings(backbone, naive_paths, contract)
            naive_seconds = min(naive_seconds, time.perf_counter() - start)
            extraction = extract_embeddings(image_list, embedder, flip="sum", batch_size=batch_size,
                                            workers=workers, progress=False)
            pipeline_seconds = min(pipeline_seconds, extraction.seconds)
        n_images = len(image_list)
    pipeline_rate = n_images / pipeline_seconds
    naive_rate = len(naive_paths) / naive_seconds
    flops = flops_per_forward(backbone, spec.input_size)
    peak = matmul_flops_per_second(torch.float32 if embedder.dtype == "float32" else torch.bfloat16)
    compute_bound_rate = peak / (2 * flops)  # two forward passes per image (flip)
    reference = naive / np.linalg.norm(naive, axis=1, keepdims=True)
    piped = extraction.embeddings[: len(naive)]
    piped = piped / np.linalg.norm(piped, axis=1, keepdims=True)
    return {
        "arch": arch,
        "input_size": list(spec.input_size),
        "dtype": embedder.dtype,
        "batch_size": batch_size,
        "workers": workers,
        "images": n_images,
        "naive_images": len(naive_paths),
        "torch_threads": torch.get_num_threads(),
        "pipeline_images_per_s": pipeline_rate,
        "naive_images_per_s": naive_rate,
        "speedup_vs_naive": pipeline_rate / naive_rate,
        "flops_per_image": 2 * flops,
        "matmul_flops_per_s": peak,
        "compute_bound_images_per_s": compute_bound_rate,
        "fraction_of_compute_bound": pipeline_rate / compute_bound_rate,
        "min_cosine_pipeline_vs_naive": float((reference * piped).sum(axis=1).min()),
    }
