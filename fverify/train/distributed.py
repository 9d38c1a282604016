"""Processes: one code path for one CPU, one GPU and ``torchrun --nproc-per-node N``.

Under torchrun each process trains on ``batch_size / N`` images of every global batch, on its
own GPU (``cuda:LOCAL_RANK``) or on CPU with gloo; DDP averages the gradients. Which images
form global batch s does not depend on N: the epoch's order is torch's DistributedSampler
permutation seeded with ``seed + epoch``, rank r taking positions r, r + N, ..., so batch s is
always positions ``[s B, (s + 1) B)`` of the same permutation. That is what lets a checkpoint
written by N processes resume under M.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DistributedSampler

from fverify.embedding.distributed import init_from_torchrun, rank_and_world
from fverify.errors import FverifyError
from fverify.models.embedder import resolve_device


@dataclass(frozen=True)
class Process:
    """This process's place in the run."""

    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def start_process(device: str) -> Process:
    """Join torchrun's process group when there is one, and pick this process's device."""
    init_from_torchrun(device)
    rank, world = rank_and_world()
    return Process(rank, world, resolve_device(device))


def local_batch_size(batch_size: int, accumulation: int, world: int) -> int:
    """Images per process per optimiser step; the global batch must split evenly."""
    if batch_size % (world * accumulation):
        raise FverifyError(
            f"optim.batch_size {batch_size} does not split into {world} processes x "
            f"{accumulation} micro-batches",
            fix="make optim.batch_size a multiple of (processes x optim.accumulation)")
    return batch_size // world


def epoch_indices(num_samples: int, seed: int, epoch: int, process: Process) -> np.ndarray:
    """This process's dataset indices for ``epoch``, in order (DistributedSampler, shuffled with
    ``seed + epoch``, the tail that does not fill every process dropped)."""
    sampler = DistributedSampler(range(num_samples), num_replicas=process.world, rank=process.rank,
                                 shuffle=True, seed=seed, drop_last=True)
    sampler.set_epoch(epoch)
    return np.fromiter(sampler, dtype=np.int64)


def all_sum(values: list[float], process: Process) -> list[float]:
    """Element-wise sum over all processes (the values themselves in a single process).

    The values are the host's (counts, flags) and are summed on the host: under NCCL over a
    gloo group of the same processes, since an NCCL sum read back would wait for all the work
    queued on the GPU (the trainer sums counts every step)."""
    if process.world == 1:
        return list(values)
    import torch.distributed as dist

    packed = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(packed, group=_host_group())
    return packed.tolist()


_host: list[Any] = [None, None]  # the default group the gloo twin was made for, and the twin


def _host_group() -> Any:
    """A gloo group of all processes when the default group is NCCL, else None (the default).
    Made on the first :func:`all_sum` under each default group (a collective call, so by every
    process at once): a process group made again after one was destroyed gets a new twin."""
    import torch.distributed as dist

    world = dist.group.WORLD
    if _host[0] is not world:
        _host[:] = [world, dist.new_group(backend="gloo") if dist.get_backend() == "nccl" else None]
    return _host[1]


def broadcast_object(value: Any, process: Process, *, timeout: datetime.timedelta | None = None) -> Any:
    """Rank 0's ``value`` (picklable) on every process. ``timeout``: how long the others may
    wait for it, when rank 0 has long work to do first (the default group's timeout is 10
    minutes under NCCL, after which its watchdog aborts the job); the broadcast then runs in a
    gloo group of its own, created and destroyed here by every process."""
    if process.world == 1:
        return value
    import torch.distributed as dist

    holder = [value]
    group = dist.new_group(backend="gloo", timeout=timeout) if timeout is not None else None
    dist.broadcast_object_list(holder, src=0, group=group)
    if group is not None:
        dist.destroy_process_group(group)
    return holder[0]


def barrier(process: Process) -> None:
    if process.world > 1:
        import torch.distributed as dist

        dist.barrier()
