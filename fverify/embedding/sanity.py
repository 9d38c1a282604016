"""The chance-level guard: verification accuracy indistinguishable from coin flipping almost
always means the model never saw faces the way it was trained to, not that it is bad."""
from __future__ import annotations

from scipy.stats import binom

CONFIDENCE = 0.99
USUAL_CAUSES = (
    "colour order (RGB vs BGR: --color)",
    "normalisation (mean/std: --mean, --std; insightface models use --std 127.5)",
    "alignment (faces must be aligned and cropped to the model's input size, like its training data)",
    "wrong architecture or weights (--arch; a state dict that fits by shape but is another model)",
)


def chance_interval(n_pairs: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Central ``confidence`` interval of the accuracy (fraction) of a model whose scores carry
    no information on a balanced pair set: each decision is then a fair coin, so the number
    of right decisions is Binomial(n_pairs, 1/2) (exact quantiles, not a normal approximation)."""
    tail = (1.0 - confidence) / 2.0
    return binom.ppf(tail, n_pairs, 0.5) / n_pairs, binom.ppf(1.0 - tail, n_pairs, 0.5) / n_pairs


def chance_level_warning(accuracy: float, n_pairs: int) -> str | None:
    """A warning naming the usual causes when ``accuracy`` (a fraction) is at or below the upper
    end of the 99% chance interval for ``n_pairs`` pairs; None when it is clearly above."""
    low, high = chance_interval(n_pairs)
    if accuracy > high:
        return None
    causes = "\n".join(f"  - {cause}" for cause in USUAL_CAUSES)
    return (
        f"accuracy {accuracy:.2%} on {n_pairs} pairs is what a model that ignores its input gets "
        f"(99% chance interval {low:.2%}-{high:.2%}); the usual causes are:\n{causes}"
    )
