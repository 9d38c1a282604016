"""``fverify bench train``: training images/s of the real trainer step against the
compute-bound rate measured in the same run on this machine.

The trainer (:class:`fverify.train.loop.Trainer`, the ``arcface`` recipe: iresnet18, 112x112,
SGD) runs its own :meth:`~fverify.train.loop.Trainer.step` (flip, normalise, forward, backward,
optimiser step) on batches of ``batch_size`` images, in each dtype asked for (float32, bf16
autocast on CPU):

- data included: the trainer's own DataLoader over synthetic face JPEGs in an identity-folder
  tree, timed in its steady state. Each round starts the loader afresh (a loader kept between
  runs would decode ahead while the other path is timed) and steps its first batch before the
  clock starts: what happens once per epoch in training, not once per few steps, stays out of
  the window (forking the workers, their first batch, and the copy-on-write page copies the
  parent pays as it first writes to the heap it now shares with them: 170,000 to 200,000
  page faults in a bf16 step at batch 64, more since :mod:`fverify.train.heap` keeps the heap
  whole). The epoch then still holds at least ``steps + workers x PREFETCH_FACTOR``
  batches, so each of the window's ``steps`` batches taken sends the workers one new batch to
  read, decode and collate, and the last is sent a whole step before the clock stops: the
  window pays for decoding as many batches as it steps, whatever the prefetch queue held when
  it started; prefetching cannot hide the decode cost as long as the workers keep up (here a
  batch decodes in about 10 ms against a step of seconds; a slower decode would show up as
  data-wait instead);
- data excluded: one batch, already decoded, stepped again and again.

Compute-bound rate: the machine's matrix-multiply peak in that dtype
(:func:`fverify.bench.embed.peak_flops_per_second`, the torch threads training uses) over 3x
the forward FLOPs of an image (forward + backward: the input and weight gradients of every
convolution and linear layer cost one forward each; the stem's input gradient is not
computed, 0.3% of the total, and the head's and the optimiser's work are left out, so the
bound is slightly generous to the trainer). Paths and the peak alternate for ``rounds``
rounds and each keeps its best round, as ``bench embed`` does: on a shared machine the
fastest round is the least disturbed.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from fverify.bench.embed import flops_per_forward, peak_flops_per_second
from fverify.data.synth import write_lfw_images
from fverify.data.training import open_training_set
from fverify.errors import FverifyError
from fverify.train.config import load_config
from fverify.train.distributed import Process
from fverify.train.heap import freed_memory_kept
from fverify.train.loop import PREFETCH_FACTOR, Trainer

TARGET_FRACTION = 0.6  # issue 9: >= 60% of the compute-bound rate in each dtype, data included


def _timed(steps: int, work: Callable[[], None]) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        work()
    return time.perf_counter() - start


def batches_per_data_run(steps: int, workers: int) -> int:
    """Batches a data-included run takes from one epoch: the first, stepped before the clock
    starts, the timed ones, and those the workers still decode ahead at the end."""
    return 1 + steps + workers * PREFETCH_FACTOR


def _timed_with_data(trainer: Trainer, steps: int) -> float:
    """Seconds for ``steps`` steps fed by a DataLoader in its steady state (module docstring), at
    the trainer's position in its epoch (a new epoch when too few batches are left)."""
    needed = batches_per_data_run(steps, trainer.config.data.workers)
    if trainer.steps_per_epoch - trainer.step_in_epoch < needed:
        trainer.step_in_epoch = 0
    batches = trainer.batches()
    trainer.step(*next(batches))
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step(*next(batches))
    seconds = time.perf_counter() - start
    del batches  # stops the workers before anything else is timed
    trainer.step_in_epoch += 1 + steps
    return seconds


def run(arch: str = "iresnet18", batch_size: int = 64, steps: int = 3, images: int | None = None,
        dtypes: Sequence[str] = ("float32", "bfloat16"), workers: int = 2, rounds: int = 2,
        seed: int = 0) -> dict[str, Any]:
    """Measure; rates in images/s, fractions as plain ratios, and the settings. ``images``:
    the synthetic training set's size, by default the fewest a data-included run needs."""
    needed = batch_size * batches_per_data_run(steps, workers)
    if images is None:
        images = needed
    if images < needed:
        raise FverifyError(f"--images {images} is too few for a steady-state data-included run: "
                           f"it takes {needed // batch_size} batches of {batch_size} from one epoch "
                           f"(1 before the clock, {steps} timed, {workers} workers x "
                           f"{PREFETCH_FACTOR} decoded ahead)", fix=f"give --images {needed} or more")
    process = Process(0, 1, torch.device("cpu"))
    load_before = os.getloadavg()[0]
    # CPU training keeps freed memory while it runs (Trainer.run); so do these steps
    with tempfile.TemporaryDirectory(prefix="fverify-bench-train-") as folder, freed_memory_kept():
        faces = Path(folder) / "faces"
        write_lfw_images(faces, images, seed=seed)
        dataset = open_training_set("folder", str(faces))
        trainers = {}
        for dtype in dtypes:
            config = load_config("arcface", [f"data.path={faces}", f"model.arch={arch}",
                                             f"optim.batch_size={batch_size}", f"data.workers={workers}",
                                             f"engine.precision={dtype}", "engine.device=cpu",
                                             "engine.progress=false", f"engine.seed={seed}"])
            trainer = Trainer(config, Path(folder) / f"run-{dtype}", dataset, process, lambda line: None)
            fixed = next(trainer.batches())
            trainer.step(*fixed)  # warm-up: oneDNN builds its kernels on first use
            trainers[dtype] = (trainer, fixed)
        seconds = {(dtype, data): float("inf") for dtype in dtypes for data in ("included", "excluded")}
        peaks = dict.fromkeys(dtypes, 0.0)
        for _ in range(rounds):
            for dtype, (trainer, fixed) in trainers.items():
                seconds[dtype, "included"] = min(seconds[dtype, "included"], _timed_with_data(trainer, steps))
                seconds[dtype, "excluded"] = min(seconds[dtype, "excluded"],
                                                 _timed(steps, lambda: trainer.step(*fixed)))
                peaks[dtype] = max(peaks[dtype], peak_flops_per_second(dtype))
        input_size = tuple(dataset.input_size)
        flops = 3 * flops_per_forward(trainers[dtypes[0]][0].model.backbone.eval(), input_size)
    figures: dict[str, Any] = {
        "arch": arch, "input_size": list(input_size), "batch_size": batch_size, "steps": steps,
        "rounds": rounds, "workers": workers, "images": len(dataset), "classes": dataset.num_classes,
        "torch_threads": torch.get_num_threads(), "training_flops_per_image": flops, "dtypes": {},
        # other work on the machine slows every path: the 1-minute load average before and after
        "cpu_count": os.cpu_count(), "load_average": [load_before, os.getloadavg()[0]],
    }
    for dtype in dtypes:
        bound = peaks[dtype] / flops
        entry = {"peak_flops_per_s": peaks[dtype], "compute_bound_images_per_s": bound}
        for data in ("included", "excluded"):
            rate = steps * batch_size / seconds[dtype, data]
            entry[f"data_{data}_images_per_s"] = rate
            entry[f"data_{data}_fraction_of_compute_bound"] = rate / bound
        figures["dtypes"][dtype] = entry
    return figures


def summary(figures: dict[str, Any]) -> str:
    """Human-readable lines for the CLI."""
    lines = [f"{figures['arch']} {figures['input_size'][0]}x{figures['input_size'][1]} training, "
             f"batch {figures['batch_size']}, forward + backward + SGD step, "
             f"{figures['training_flops_per_image'] / 1e9:.2f} GFLOP per image (3x forward), "
             f"{figures['torch_threads']} torch threads, {figures['workers']} data workers, "
             f"best of {figures['rounds']} rounds of {figures['steps']} steps",
             f"  load average {figures['load_average'][0]:.1f} before, {figures['load_average'][1]:.1f} after, "
             f"on {figures['cpu_count']} CPUs (other work slows every path)"]
    for dtype, entry in figures["dtypes"].items():
        lines.append(f"  {dtype:<9} compute-bound {entry['compute_bound_images_per_s']:6.1f} images/s "
                     f"at {entry['peak_flops_per_s'] / 1e9:.0f} GFLOP/s")
        for data in ("included", "excluded"):
            lines.append(f"    data {data:<9} {entry[f'data_{data}_images_per_s']:6.1f} images/s = "
                         f"{entry[f'data_{data}_fraction_of_compute_bound']:.0%} of compute-bound"
                         + (f" (target {TARGET_FRACTION:.0%})" if data == "included" else ""))
    return "\n".join(lines)
