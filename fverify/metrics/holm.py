"""Holm's step-down correction of p-values for several comparisons made together."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values, in the order given (Holm 1979, "A simple sequentially rejective
    multiple test procedure", Scand. J. Statist. 6:65-70).

    With the m p-values sorted ascending, p_(1) <= ... <= p_(m), the adjusted value of p_(i) is
    ``max over j <= i of min(1, (m - j + 1) * p_(j))``. Rejecting where the adjusted value is
    below alpha is Holm's procedure at family-wise error rate alpha; with one p-value nothing
    changes.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("p-values must be a 1-d sequence of numbers in [0, 1]")
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted
