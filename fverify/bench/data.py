"""``fverify bench data``: images/s the training datasets deliver from insightface RecordIO and
from an image folder holding the same JPEGs, against JPEG decoding alone, in the same run.

- decode only: ``decode_image`` on the JPEG bytes already in memory, one process: the floor
  any reader of these files pays.
- one process: ``dataset[i]`` for every sample (read, unpack, decode, tensor).
- DataLoader: batches of ``batch_size`` in shuffled order from ``workers`` worker processes
  (persistent, timed after a warm-up epoch), what the trainer sees in steady state.

The files are written just before they are read, so they are in the page cache: this measures
the reader and the decoder, not the disk. Each path keeps its best of ``rounds`` rounds,
alternating, so the least disturbed round on a shared machine counts.
"""
from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from fverify.data.images import decode_image
from fverify.data.recordio import write_training_recordio
from fverify.data.synth import write_lfw_images
from fverify.data.training import ImageFolderSet, RecordIOSet, TrainingSet


def _epoch(dataset: TrainingSet, batch_size: int, workers: int, seed: int) -> Callable[[], None]:
    """A function running one shuffled epoch of a persistent DataLoader over ``dataset``."""
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
        persistent_workers=workers > 0, generator=torch.Generator().manual_seed(seed))

    def epoch() -> None:
        for _ in loader:
            pass

    epoch()  # warm-up: starts the workers
    return epoch


def run(images: int = 1024, batch_size: int = 64, workers: Sequence[int] = (2,), rounds: int = 2,
        seed: int = 0) -> dict[str, Any]:
    """Measure; rates in images/s, ``overhead`` as plain ratios. ``identical`` says whether the
    RecordIO and folder datasets yielded the same pixels and labels (they hold the same JPEGs)."""
    with tempfile.TemporaryDirectory(prefix="fverify-bench-data-") as folder:
        files = write_lfw_images(Path(folder) / "faces", images, seed=seed)
        blobs = [(files.root / path).read_bytes() for path in files.relative_paths]
        by_identity: dict[str, list[bytes]] = defaultdict(list)
        for path, blob in zip(files.relative_paths, blobs):
            by_identity[path.split("/")[0]].append(blob)
        faces = Path(folder) / "train"  # the same images as one folder per identity
        for path, blob in zip(files.relative_paths, blobs):
            (faces / path).parent.mkdir(parents=True, exist_ok=True)
            (faces / path).write_bytes(blob)
        write_training_recordio(Path(folder) / "train.rec", (by_identity[name] for name in sorted(by_identity)))
        datasets = {"recordio": RecordIOSet(Path(folder) / "train.rec", (112, 112)),
                    "folder": ImageFolderSet(faces, (112, 112))}
        identical = all(
            torch.equal(datasets["recordio"][i][0], datasets["folder"][i][0])
            and datasets["recordio"][i][1] == datasets["folder"][i][1] for i in range(len(blobs)))

        def decode_only() -> None:
            for blob in blobs:
                decode_image(blob, "bench")

        def one_process(dataset: TrainingSet) -> Callable[[], None]:
            def read_all() -> None:
                for index in range(len(dataset)):
                    dataset[index]
            return read_all

        timed: dict[str, Callable[[], None]] = {"decode only": decode_only}
        for kind, dataset in datasets.items():
            timed[f"{kind}, 1 process"] = one_process(dataset)
            for count in workers:
                timed[f"{kind}, DataLoader {count} workers"] = _epoch(dataset, batch_size, count, seed)
        best = {name: float("inf") for name in timed}
        for _ in range(rounds):
            for name, work in timed.items():
                start = time.perf_counter()
                work()
                best[name] = min(best[name], time.perf_counter() - start)
    floor = len(blobs) / best["decode only"]
    return {
        "images": len(blobs), "image_size": [112, 112], "jpeg_bytes_mean": sum(map(len, blobs)) / len(blobs),
        "batch_size": batch_size, "workers": list(workers), "rounds": rounds, "identical": identical,
        "torch_threads": torch.get_num_threads(),
        "images_per_s": {name: len(blobs) / seconds for name, seconds in best.items()},
        "fraction_of_decode_only": {name: len(blobs) / seconds / floor for name, seconds in best.items()},
    }


def summary(figures: dict[str, Any]) -> str:
    """Human-readable lines for the CLI."""
    lines = [f"{figures['images']} synthetic 112x112 face JPEGs ({figures['jpeg_bytes_mean'] / 1024:.1f} KiB "
             f"mean), batch {figures['batch_size']}, files in the page cache; RecordIO and folder "
             f"yield identical samples: {'yes' if figures['identical'] else 'NO'}"]
    for name, rate in figures["images_per_s"].items():
        lines.append(f"  {name:<32} {rate:8.0f} images/s  "
                     f"({figures['fraction_of_decode_only'][name]:.2f}x decode only)")
    return "\n".join(lines)
