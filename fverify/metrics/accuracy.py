"""Mean k-fold accuracy and the two spreads papers quote for it, each labelled."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STD_LABEL = "std over folds, ddof=0 (what insightface prints)"
SE_LABEL = "standard error std(ddof=1)/sqrt(k) (the LFW official spread)"


@dataclass(frozen=True, eq=False)
class AccuracySummary:
    """Held-out accuracy of each fold (fractions in [0, 1]) and its summary.

    ``std`` is the population standard deviation over folds (``ddof=0``), as insightface
    prints it; ``se`` is the standard error of the mean, ``std(ddof=1) / sqrt(k)``, as the LFW
    results page defines it. For 10 folds ``std`` is about 3x ``se``. With a single tested
    fold (a fixed train/test split) there is no spread over folds: both are None.
    """

    folds: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.mean(self.folds))

    @property
    def std(self) -> float | None:
        return float(np.std(self.folds, ddof=0)) if len(self.folds) > 1 else None

    @property
    def se(self) -> float | None:
        if len(self.folds) < 2:
            return None
        return float(np.std(self.folds, ddof=1) / np.sqrt(len(self.folds)))
