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

    ``fold_rule`` says in a short phrase where the folds came from (a header's blocks, a fold
    column, a rule); results and ``--validate`` show it. ``fold_fix`` is the advice given when
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

    @property
    def num_pairs(self) -> int:
        return len(self.labels)

    @property
    def num_folds(self) -> int:
        return int(self.folds.max()) + 1 if len(self.folds) else 0

