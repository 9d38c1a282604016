"""``fverify bench embed``: images/s of the extraction pipeline against a naive loop, and
against the backbone's compute-bound rate, measured in the same run on this machine.

- pipeline: :func:`fverify.embedding.extract.extract_embeddings` on JPEG files (decoding in
  worker processes, batches, flip ``sum``, inference_mode, channels_last, folded batch
  norms), once per dtype asked for.
- naive loop: one image at a time, ``cv2.imread``, float32, NCHW, ``torch.no_grad``, the
  face and its mirror as two forward passes (the same flip-``sum`` embeddings).
- compute-bound rate: this machine's matrix-multiply peak in the pipeline's dtype (FLOP/s)
  over the backbone's FLOPs per image (two forward passes with the flip; FLOPs counted by
  ``torch.utils.flop_counter``, 2 per multiply-add). The peak is the faster of ``torch.mm``
  and a 1x1 convolution (a GEMM in oneDNN, the library running the backbone's convolutions):
  MKL's ``mm`` does not use AVX-512 on AMD CPUs and would understate the peak.

The model is the registered architecture with random weights and batch norms calibrated on
the benchmark images (:mod:`fverify.bench.random_backbone`). Measurements alternate between
the paths for ``rounds`` rounds and keep each path's best: on a shared machine the fastest
round is the one least disturbed by other work.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from fverify.bench.timing import best_seconds
from fverify.bench.random_backbone import calibrated_random_backbone
from fverify.data.images import ImageFiles
from fverify.data.synth import write_lfw_images
from fverify.embedding.extract import extract_embeddings
from fverify.models.embedder import ModelSource, TorchEmbedder
from fverify.models.preprocessing import Preprocessing

TARGET_SPEEDUP = 4.0  # issue 4: pipeline >= 4x the naive loop
TARGET_FRACTION = 0.5  # issue 4: pipeline >= 50% of the compute-bound rate


def flops_per_forward(backbone: nn.Module, input_size: tuple[int, int]) -> int:
    """FLOPs (2 per multiply-add) of one forward pass on one image."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        backbone(torch.zeros(1, 3, *input_size))
    return int(counter.get_total_flops())



def peak_flops_per_second(dtype: str, repeats: int = 5) -> float:
    """Best FLOP/s of a large matrix product in ``dtype`` on this CPU: the faster of
    ``torch.mm`` (2048^3) and a 512-channel 1x1 convolution over 16x28x28 positions."""
    autocast = torch.autocast("cpu", torch.bfloat16, enabled=dtype == "bfloat16")
    a = torch.randn(2048, 2048).to(getattr(torch, dtype))
    b = torch.randn(2048, 2048).to(getattr(torch, dtype))
    mm_rate = 2.0 * 2048**3 / best_seconds(lambda: a @ b, repeats)
    conv = nn.Conv2d(512, 512, 1, bias=False).eval().to(memory_format=torch.channels_last)
    x = torch.randn(16, 512, 28, 28).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), autocast:
        conv_rate = 2.0 * 16 * 512 * 512 * 28 * 28 / best_seconds(lambda: conv(x), repeats)
    return max(mm_rate, conv_rate)


def naive_embeddings(backbone: nn.Module, paths: Sequence[Path], contract: Preprocessing) -> np.ndarray:
    """The loop a first script would write: read, normalise, two forward passes per image."""
    rows = []
    with torch.no_grad():
        for path in paths:
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            x = torch.from_numpy(((rgb - np.array(contract.mean)) / np.array(contract.std)).astype(np.float32))
            x = x.permute(2, 0, 1).unsqueeze(0).contiguous()
            rows.append((backbone(x) + backbone(torch.flip(x, dims=[3])))[0].numpy())
    return np.stack(rows)


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def run(images: int = 512, naive_images: int = 32, arch: str = "iresnet18", batch_size: int = 32,
        dtypes: Sequence[str] = ("float32", "bfloat16"), workers: int | None = None, rounds: int = 2,
        seed: int = 0) -> dict[str, Any]:
    """Measure; returns rates in images/s, speedups and fractions as plain ratios, the settings,
    and for each dtype the smallest cosine between pipeline and naive embeddings (a check
    that both compute the same thing)."""
    with tempfile.TemporaryDirectory(prefix="fverify-bench-embed-") as folder:
        image_list = write_lfw_images(Path(folder) / "faces", images, seed=seed)
        backbone = calibrated_random_backbone(arch, image_list, seed=seed)
        contract = Preprocessing()
        source = ModelSource("state-dict", Path(f"<random {arch}, seed {seed}>"), "none")
        embedders = {dtype: TorchEmbedder(backbone, contract, source, arch=arch, device="cpu", dtype=dtype)
                     for dtype in dtypes}
        naive_paths = [image_list.root / path for path in image_list.relative_paths[:naive_images]]
        naive_embeddings(backbone, naive_paths[:1], contract)  # warm-up
        first_batch = ImageFiles(image_list.root, image_list.relative_paths[:batch_size])
        for embedder in embedders.values():  # warm-up: oneDNN builds its kernels on first use
            extract_embeddings(first_batch, embedder, batch_size=batch_size, workers=0, progress=False)
        seconds = {"naive": float("inf"), **{dtype: float("inf") for dtype in dtypes}}
        outputs: dict[str, np.ndarray] = {}
        for _ in range(rounds):
            start = time.perf_counter()
            outputs["naive"] = naive_embeddings(backbone, naive_paths, contract)
            seconds["naive"] = min(seconds["naive"], time.perf_counter() - start)
            for dtype, embedder in embedders.items():
                extraction = extract_embeddings(image_list, embedder, flip="sum", batch_size=batch_size,
                                                workers=workers, progress=False)
                seconds[dtype] = min(seconds[dtype], extraction.seconds)
                outputs[dtype] = extraction.embeddings
    flops = 2 * flops_per_forward(backbone, contract.input_size)  # the face and its mirror
    naive_rate = len(naive_paths) / seconds["naive"]
    figures: dict[str, Any] = {
        "arch": arch, "input_size": list(contract.input_size), "batch_size": batch_size, "workers": workers,
        "images": len(image_list), "naive_images": len(naive_paths), "rounds": rounds,
        "torch_threads": torch.get_num_threads(), "flops_per_image": flops,
        "naive_images_per_s": naive_rate, "pipeline": {},
    }
    for dtype in dtypes:
        rate = len(image_list) / seconds[dtype]
        peak = peak_flops_per_second(dtype)
        figures["pipeline"][dtype] = {
            "images_per_s": rate,
            "speedup_vs_naive": rate / naive_rate,
            "peak_flops_per_s": peak,
            "compute_bound_images_per_s": peak / flops,
            "fraction_of_compute_bound": rate / (peak / flops),
            "min_cosine_vs_naive": _min_cosine(outputs[dtype][: len(naive_paths)], outputs["naive"]),
        }
    return figures


def summary(figures: dict[str, Any]) -> str:
    """Human-readable lines for the CLI."""
    lines = [
        f"{figures['arch']} {figures['input_size'][0]}x{figures['input_size'][1]}, flip sum, "
        f"{figures['flops_per_image'] / 1e9:.2f} GFLOP per image (two passes), "
        f"{figures['torch_threads']} torch threads, batch {figures['batch_size']}",
        f"  naive loop (float32, 1 image, cv2.imread)   {figures['naive_images_per_s']:7.1f} images/s "
        f"({figures['naive_images']} images)",
    ]
    for dtype, entry in figures["pipeline"].items():
        lines.append(
            f"  pipeline {dtype:<9} {entry['images_per_s']:7.1f} images/s ({figures['images']} images): "
            f"{entry['speedup_vs_naive']:.2f}x naive (target {TARGET_SPEEDUP:.0f}x), "
            f"{entry['fraction_of_compute_bound']:.0%} of compute-bound {entry['compute_bound_images_per_s']:.1f} "
            f"images/s at {entry['peak_flops_per_s'] / 1e9:.0f} GFLOP/s (target {TARGET_FRACTION:.0%}); "
            f"min cosine vs naive {entry['min_cosine_vs_naive']:.5f}"
        )
    return "\n".join(lines)
