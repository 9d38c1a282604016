"""Training checkpoints: one file for all processes, written atomically by rank 0, read with
``weights_only=True``.

A training checkpoint is an fverify evaluation checkpoint (``fverify.models.checkpoint``:
backbone and preprocessing contract, so ``fverify lfw --model`` takes it too) plus the whole
training state: head, optimiser, schedule, AMP scaler, position (epoch, step within the epoch,
global step), every RNG state, the running metric sums, the resolved config, the world size and
the fverify version. Files are ``RUN/checkpoints/step-<global step>.pt``; the newest K stay
(a run resumed from an older one moves the newer ones aside first: ``loop.continue_lineage``).
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fverify.errors import FverifyError
from fverify.models.checkpoint import read_weights

CHECKPOINTS_DIR = "checkpoints"
_NAME = re.compile(r"^step-(\d+)\.pt$")
TRAINING_KEYS = ("head", "optimizer", "scheduler", "scaler", "position", "rng", "config",
                 "training", "fverify_version", "world_size", "tallies")


def checkpoint_path(run_dir: Path, global_step: int) -> Path:
    return run_dir / CHECKPOINTS_DIR / f"step-{global_step:09d}.pt"


def checkpoint_step(path: Path) -> int:
    """The global step in a checkpoint's file name."""
    return int(_NAME.match(path.name).group(1))


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The run's training checkpoints, oldest first."""
    folder = run_dir / CHECKPOINTS_DIR
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [path for _, path in sorted(found)]


def latest_checkpoint(run_dir: Path) -> Path:
    found = list_checkpoints(run_dir)
    if not found:
        raise FverifyError("no training checkpoint to resume from",
                           where=str(run_dir / CHECKPOINTS_DIR),
                           fix="give --resume CKPT, or --out the folder of the run to resume")
    return found[-1]


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` training checkpoints."""
    for path in list_checkpoints(run_dir)[:-keep]:
        path.unlink(missing_ok=True)


def rng_state() -> dict[str, Any]:
    """Every random generator's state, as tensors and plain values (``weights_only``-safe)."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
                  "position": int(position), "has_gauss": int(has_gauss), "cached": float(cached)},
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32),
                         numpy_state["position"], numpy_state["has_gauss"], numpy_state["cached"]))
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss"]))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def read_training_checkpoint(path: str | Path) -> dict[str, Any]:
    """A training checkpoint's content, checked to hold the training state."""
    where = str(path)
    if not Path(path).is_file():
        raise FverifyError("no such checkpoint file", where=where,
                           fix="give an existing RUN/checkpoints/step-*.pt")
    content = read_weights(path)
    missing = [key for key in TRAINING_KEYS if not isinstance(content, dict) or key not in content]
    if missing:
        raise FverifyError(f"not an fverify training checkpoint (lacks {', '.join(missing)})",
                           where=where, fix="resume from a file in RUN/checkpoints/")
    return content
