"""The learning-rate schedule: a step decay by epoch (the HM paper: lr 0.01, x0.1 after epochs
8, 12 and 16).

The rate is a pure function of the epoch, so a resumed run, in any world size, recomputes it
instead of restoring a scheduler object; the checkpoint still records it for readers.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence


def learning_rate(epoch: int, base_lr: float, milestones: Sequence[int], gamma: float) -> float:
    """Learning rate during ``epoch`` (1-based): ``base_lr * gamma ** k``, k = the number of
    milestones (1-based epochs) already passed, i.e. strictly below ``epoch``."""
    return base_lr * gamma ** bisect_right(sorted(milestones), epoch - 1)


def schedule_state(epoch: int, base_lr: float, milestones: Sequence[int], gamma: float) -> dict:
    """What a checkpoint records of the schedule (plain values)."""
    return {"kind": "multistep-by-epoch", "epoch": epoch, "base_lr": base_lr,
            "milestones": list(milestones), "gamma": gamma,
            "lr": learning_rate(epoch, base_lr, milestones, gamma)}
