"""Sharding extraction across ``torchrun`` processes: each rank embeds one contiguous block of
the images, and an all_gather gives every rank the full array in the original order."""
from __future__ import annotations

import numpy as np


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of an initialised torch.distributed group, else (0, 1)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(n_items: int, rank: int, world: int) -> slice:
    """Rank ``rank``'s block of ``ceil(n_items / world)`` items (the last ones may be short
    or empty)."""
    block = -(-n_items // world)
    return slice(min(rank * block, n_items), min((rank + 1) * block, n_items))


def gather_rows(local: np.ndarray, n_items: int) -> np.ndarray:
    """Concatenate every rank's ``local`` block (from :func:`shard`) into ``(n_items, d)`` on
    all ranks. Blocks are padded to one size for all_gather; ranks with no items send
    nothing real but still learn ``d``."""
    import torch
    import torch.distributed as dist

    _, world = rank_and_world()
    block = -(-n_items // world)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    width = torch.tensor([local.shape[1] if len(local) else 0], device=device)
    dist.all_reduce(width, op=dist.ReduceOp.MAX)
    padded = torch.zeros((block, int(width.item())), dtype=torch.float32, device=device)
    if len(local):
        padded[: len(local)] = torch.from_numpy(local).to(device)
    blocks = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(blocks, padded)
    return torch.cat(blocks)[:n_items].cpu().numpy()


def init_from_torchrun(device: str) -> None:
    """Join the process group ``torchrun`` describes in the environment (WORLD_SIZE > 1), once:
    NCCL when this rank runs on a GPU, gloo on CPU. A plain run is left alone."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    on_gpu = device != "cpu" and torch.cuda.is_available()
    if on_gpu:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if on_gpu else "gloo")
