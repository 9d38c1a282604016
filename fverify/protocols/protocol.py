"""The one Protocol type every adapter (LFW, YTF, .bin, pairs CSV) produces."""
from __future__ import annotations

from dataclasses import KW_ONLY, InitVar, dataclass
from typing import Literal

import numpy as np

from fverify.protocols.folds import check_folds


@dataclass(frozen=True, eq=False)
class Protocol:
    """A verification protocol: the items to embed, the pairs to compare, the truth, the folds.

    ``items`` are keys relative to the data root: image paths (``Name/Name_0001.jpg``) when
    ``item_kind == "image"``, video keys (``Name/3``) when ``"video"``. ``pairs[i]`` holds two
    indices into ``items``; ``labels[i]`` is True for a same-identity pair; ``folds[i]`` is the
    0-based fold of pair ``i`` as the protocol file defines it. Pair ``i`` is the ``i``-th pair
    in file order, which is also its ``pair_id`` in score files.

    ``test_fold`` is None for k-fold cross-validation (each fold tested at a threshold fitted
    on the others); a fold id makes the protocol a fixed split that fits on all other folds
    and reports on that fold alone (LFW View 1: fit on DevTrain, report on DevTest).

    ``fold_rule`` says in a short phrase where the folds came from (a header's blocks, a fold
    column, a rule) and, for a fixed split, which fold is reported; results and ``--validate``
    show it. ``fold_fix`` is the advice given when
    the folds are unusable (fewer than 2, a fold without both classes): what to do depends on
    where they came from, which only the adapter knows.
    """

    name: str
    items: tuple[str, ...]
    pairs: np.ndarray
    labels: np.ndarray
    folds: np.ndarray
    source: str
    source_md5: str
    item_kind: Literal["image", "video"] = "image"
    _: KW_ONLY
    fold_rule: str
    fold_fix: InitVar[str]
    test_fold: int | None = None

    def __post_init__(self, fold_fix: str) -> None:
        n = len(self.labels)
        if self.pairs.shape != (n, 2) or self.folds.shape != (n,):
            raise ValueError(
                f"protocol {self.name}: pairs {self.pairs.shape}, labels ({n},) and folds "
                f"{self.folds.shape} must describe the same pairs"
            )
        if n and (self.pairs.min() < 0 or self.pairs.max() >= len(self.items)):
            raise ValueError(f"protocol {self.name}: a pair refers to an item that does not exist")
        check_folds(self.labels, self.folds, where=self.source or self.name, fix=fold_fix)
        if self.test_fold is not None and not 0 <= self.test_fold < self.num_folds:
            raise ValueError(f"protocol {self.name}: test fold {self.test_fold} does not exist")

    @property
    def num_pairs(self) -> int:
        return len(self.labels)

    @property
    def num_folds(self) -> int:
        return int(self.folds.max()) + 1 if len(self.folds) else 0

