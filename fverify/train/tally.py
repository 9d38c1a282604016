"""Running sums behind the metrics log: losses, counts and the hard-mining record of an
interval or an epoch, summed over processes when read.

A tally is local to a process until :meth:`Tally.reduced` sums it over all processes (a
collective call: every process calls it at the same step). Checkpoints store the reduced
tally, restored on rank 0 only, so a resumed run in any world size continues the same sums.
"""
from __future__ import annotations

import numpy as np
import torch

from fverify.embedding.distributed import rank_and_world
from fverify.losses import HardMiningRecord

# p_y histogram: 20 equal bins on [0, 1] (the last one closed)
P_Y_BINS = [round(0.05 * i, 2) for i in range(21)]
HARD_BELOW = 0.5  # a sample is hard when its target probability p_y is below this
WEIGHT_QUANTILES = ("0.05", "0.25", "0.5", "0.75", "0.95")
TIME_SUMS = ("wait_s", "step_s")  # seconds, summed over processes
SUMS = ("loss_sum", "base_loss_sum", "samples", "decode_failures", "images", "wait_s", "step_s",
        "hard", "easy_loss_sum", "hard_loss_sum")


class Tally:
    """Sums of an interval or an epoch; the HM record keeps every weight for the quantiles."""

    def __init__(self) -> None:
        self.sums = {name: 0.0 for name in SUMS}
        self.histogram = np.zeros(len(P_Y_BINS) - 1, dtype=np.int64)
        self.weights: list[np.ndarray] = []

    def add_batch(self, loss: float, record: HardMiningRecord) -> None:
        """One (micro-)batch: ``loss`` the mean optimised loss over its samples."""
        p_y = record.target_probability.float().cpu().numpy()
        base = record.base_losses.float().cpu().numpy()
        count = len(p_y)
        hard = p_y < HARD_BELOW
        self.sums["loss_sum"] += loss * count
        self.sums["base_loss_sum"] += float(base.sum())
        self.sums["samples"] += count
        self.sums["hard"] += int(hard.sum())
        self.sums["hard_loss_sum"] += float(base[hard].sum())
        self.sums["easy_loss_sum"] += float(base[~hard].sum())
        self.histogram += np.histogram(np.clip(p_y, 0.0, 1.0), bins=P_Y_BINS)[0]
        self.weights.append(record.weights.float().cpu().numpy())

    def add(self, name: str, value: float) -> None:
        self.sums[name] += value

    def reduced(self) -> "Tally":
        """The tally summed over all processes (collective under torchrun)."""
        _, world = rank_and_world()
        weights = np.concatenate(self.weights) if self.weights else np.zeros(0, np.float32)
        if world == 1:
            total = Tally()
            total.sums, total.histogram, total.weights = dict(self.sums), self.histogram.copy(), [weights]
            return total
        import torch.distributed as dist

        packed = torch.tensor([self.sums[n] for n in SUMS] + self.histogram.tolist(), dtype=torch.float64)
        device = _collective_device()
        packed = packed.to(device)
        dist.all_reduce(packed)
        gathered: list = [None] * world
        dist.all_gather_object(gathered, weights)
        total = Tally()
        values = packed.cpu().tolist()
        total.sums = dict(zip(SUMS, values[:len(SUMS)]))
        total.histogram = np.array(values[len(SUMS):], dtype=np.int64)
        total.weights = [np.concatenate(gathered)]
        return total

    def state(self) -> dict:
        """Plain values and tensors for a checkpoint (call on a reduced tally)."""
        weights = np.concatenate(self.weights) if self.weights else np.zeros(0, np.float32)
        return {"sums": dict(self.sums), "histogram": torch.from_numpy(self.histogram.copy()),
                "weights": torch.from_numpy(weights.astype(np.float32))}

    @classmethod
    def from_state(cls, state: dict, *, saved_world: int = 1, world: int = 1) -> "Tally":
        """The tally a checkpoint of ``saved_world`` processes holds, continued by ``world``:
        the seconds (summed over processes, then divided by the process count for a rate)
        are rescaled to the new count, so the interval that spans the resume reports the
        same seconds per process."""
        tally = cls()
        tally.sums.update(state["sums"])
        for name in TIME_SUMS:
            tally.sums[name] *= world / saved_world
        tally.histogram = state["histogram"].numpy().astype(np.int64)
        tally.weights = [state["weights"].numpy()]
        return tally

    def mean(self, name: str) -> float | None:
        samples = self.sums["samples"]
        return self.sums[name] / samples if samples else None

    def hard_mining_record(self, settings: dict, active: bool) -> dict:
        """The ``hard_mining`` object of an epoch record (metrics.jsonl schema)."""
        weights = np.concatenate(self.weights) if self.weights else np.zeros(0, np.float32)
        samples = int(self.sums["samples"])
        hard = int(self.sums["hard"])
        easy = samples - hard
        quantiles = (np.quantile(weights, [float(q) for q in WEIGHT_QUANTILES])
                     if len(weights) else [None] * len(WEIGHT_QUANTILES))
        return {
            "active": active,
            **settings,
            "bins": P_Y_BINS,
            "p_y_histogram": [int(c) for c in self.histogram],
            "num_samples": samples,
            "hard_fraction": hard / samples if samples else None,
            "weight_mean": float(weights.mean()) if len(weights) else None,
            "weight_quantiles": {q: (float(v) if v is not None else None)
                                 for q, v in zip(WEIGHT_QUANTILES, quantiles)},
            "base_loss_easy_mean": self.sums["easy_loss_sum"] / easy if easy else None,
            "base_loss_hard_mean": self.sums["hard_loss_sum"] / hard if hard else None,
        }


def _collective_device() -> torch.device:
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
