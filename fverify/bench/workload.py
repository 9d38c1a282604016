"""Synthetic pair scores in the LFW View 2 layout, for benchmarks and the bundled example."""
from __future__ import annotations

import numpy as np

SAME_CENTRE = 0.55
DIFFERENT_CENTRE = 0.05


def lfw_shaped_pairs(num_pairs: int, num_folds: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Labels and 0-based folds laid out as LFW View 2: ``num_folds`` consecutive blocks of
    (nearly) equal size, each its first half same pairs, then its different pairs."""
    index = np.arange(num_pairs)
    folds = index * num_folds // num_pairs
    starts = np.searchsorted(folds, np.arange(num_folds))
    sizes = np.bincount(folds, minlength=num_folds)
    labels = (index - starts[folds]) < (sizes[folds] + 1) // 2
    return labels, folds


def synthetic_scores(
    labels: np.ndarray, *, model_seed: int, pair_seed: int = 0, d_prime: float = 5.0, shared: float = 0.7
) -> np.ndarray:
    """Cosine-like scores of a synthetic model, clipped to [-1, 1].

    score = centre of its class (0.55 same, 0.05 different) + spread * noise, with spread =
    0.5 / ``d_prime`` (so ``d_prime`` is the separation of the classes in spreads; 5 gives
    about 99.4% accuracy, like a good LFW model). The noise mixes a per-pair difficulty that
    every model sharing ``pair_seed`` sees (weight ``shared`` of the variance) with the
    model's own noise from ``model_seed``, so two models err on partly the same pairs, as
    real ones do.
    """
    labels = np.asarray(labels, dtype=bool)
    difficulty = np.random.default_rng(pair_seed).standard_normal(len(labels))
    own = np.random.default_rng(model_seed).standard_normal(len(labels))
    noise = np.sqrt(shared) * difficulty + np.sqrt(1 - shared) * own
    centre = np.where(labels, SAME_CENTRE, DIFFERENT_CENTRE)
    return np.clip(centre + (SAME_CENTRE - DIFFERENT_CENTRE) / d_prime * noise, -1.0, 1.0)
