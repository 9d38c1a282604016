"""The one Protocol type every adapter (LFW, YTF, .bin, pairs CSV) produces."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from fverify.errors import FverifyError


@dataclass(frozen=True, eq=False)
class Protocol:
    """A verification protocol: the items to embed, the pairs to compare, the truth, the folds.

    ``items`` are keys relative to the data root: image paths (``Name/Name_0001.jpg``) when
    ``item_kind == "image"``, video keys (``Name/3``) when ``"video"``. ``pairs[i]`` holds two
    indices into ``items``; ``labels[i]`` is True for a same-identity pair; ``folds[i]`` is the
    0-based fold of pair ``i`` as the protocol file defines it. Pair ``i`` is the ``i``-th pair
    in file order, which is also its ``pair_id`` in score files.
    """

    name: str
    items: tuple[str, ...]
    pairs: np.ndarray
    labels: np.ndarray
    folds: np.ndarray
    source: str
    source_md5: str
    item_kind: Literal["image", "video"] = "image"

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.pairs.shape != (n, 2) or self.folds.shape != (n,):
            raise ValueError(
                f"protocol {self.name}: pairs {self.pairs.shape}, labels ({n},) and folds "
                f"{self.folds.shape} must describe the same pairs"
            )
        if n and (self.pairs.min() < 0 or self.pairs.max() >= len(self.items)):
            raise ValueError(f"protocol {self.name}: a pair refers to an item that does not exist")
        check_folds(self.labels, self.folds, where=self.source or self.name)

    @property
    def num_pairs(self) -> int:
        return len(self.labels)

    @property
    def num_folds(self) -> int:
        return int(self.folds.max()) + 1 if len(self.folds) else 0


def check_folds(labels: np.ndarray, folds: np.ndarray, *, where: str) -> None:
    """Refuse fold ids that are not 0..k-1 or a fold without both positive and negative pairs.

    Without both classes in every fold the held-out accuracy and the threshold search of that
    fold mean nothing, so this is an error, never a silent skip.
    """
    if not len(folds):
        raise FverifyError("there are no pairs", where=where, fix="check that the file lists pairs")
    present = np.unique(folds)
    if present[0] != 0 or present[-1] != len(present) - 1:
        raise FverifyError(
            f"fold ids must be 0..k-1 with none missing; found {present.tolist()[:12]}",
            where=where,
            fix="number the folds consecutively",
        )
    positives = np.bincount(folds, weights=labels.astype(float), minlength=len(present))
    totals = np.bincount(folds, minlength=len(present))
    for fold, (pos, total) in enumerate(zip(positives, totals)):
        if pos == 0 or pos == total:
            kind = "positive (same)" if pos == 0 else "negative (different)"
            raise FverifyError(
                f"fold {fold} has no {kind} pairs ({int(total)} pairs in it)",
                where=where,
                fix="every fold needs both same and different pairs; fix the fold column or "
                "drop it to get a stratified split",
            )
