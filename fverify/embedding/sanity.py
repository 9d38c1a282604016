"""The chance-level guard: verification accuracy indistinguishable from coin flipping almost
always means the model never saw faces the way it was trained to, not that it is bad."""
from __future__ import annotations

import numpy as np
from scipy.stats import binom

CONFIDENCE = 0.99
USUAL_CAUSES = (
    "colour order (RGB vs BGR: --color)",
    "normalisation (mean/std: --mean, --std; insightface models use --std 127.5)",
    "alignment (faces must be aligned and cropped to the model's input size, like its training data)",
    "wrong architecture or weights (--arch; a state dict that fits by shape but is another model)",
)


def chance_interval(n_pairs: int, same_fraction: float = 0.5,
                    confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Central ``confidence`` interval of the accuracy (fraction) of a model whose scores carry
    no information, on ``n_pairs`` pairs of which ``same_fraction`` are same pairs.

    Chance is the majority-class rate ``q = max(p, 1 - p)``, not 1/2: a threshold fitted on
    uninformative scores can call every pair the majority class and be right a fraction q of
    the time (on 10% same pairs, random scores reach about 90%), and no threshold does better
    in expectation. The number of right decisions is taken as Binomial(n_pairs, q) (exact
    quantiles, not a normal approximation); balanced sets give the fair-coin interval.
    """
    majority = max(same_fraction, 1.0 - same_fraction)
    tail = (1.0 - confidence) / 2.0
    return (binom.ppf(tail, n_pairs, majority) / n_pairs,
            binom.ppf(1.0 - tail, n_pairs, majority) / n_pairs)


def chance_level_warning(accuracy: float, labels: np.ndarray) -> str | None:
    """A warning naming the usual causes when ``accuracy`` (a fraction) on the pairs whose truth
    is ``labels`` (True = same) is at or below the upper end of the 99% chance interval of
    :func:`chance_interval`; None when it is clearly above."""
    labels = np.asarray(labels, dtype=bool)
    n_pairs = len(labels)
    same_fraction = float(np.count_nonzero(labels)) / n_pairs
    low, high = chance_interval(n_pairs, same_fraction)
    if accuracy > high:
        return None
    majority = "different" if same_fraction < 0.5 else "same"
    causes = "\n".join(f"  - {cause}" for cause in USUAL_CAUSES)
    return (
        f"accuracy {accuracy:.2%} on {n_pairs} pairs ({same_fraction:.1%} same) is what a model "
        f"that ignores its input gets (answering '{majority}' for every pair scores "
        f"{max(same_fraction, 1 - same_fraction):.2%}; 99% chance interval {low:.2%}-{high:.2%}); "
        f"the usual causes are:\n{causes}"
    )
