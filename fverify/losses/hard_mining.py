"""The Hard-Mining (HM) loss: re-weights any head's loss so easy samples count for ~nothing
and hard ones for ~alpha times their loss.

Srivastava, Murali and Dubey, "Hard-Mining Loss based Convolutional Neural Network for Face
Recognition", CVIP 2020, arXiv:1908.09747. Eq. 2:

    L_HM = alpha * L * sigmoid(A * (beta * L - B)),   alpha=1.5, beta=1.1, A=35, B=0.75

The paper's Algorithm 1 multiplies by ``beta * L`` instead of ``L`` (a factor beta more):
``form="eq2"`` follows Eq. 2, ``form="alg1"`` Algorithm 1. With A = 35 the sigmoid is a soft
step at ``L = B / beta = 0.68``: a loss of 1 or more is scaled by alpha (x1.5; x1.65 for
``alg1``) to within sigmoid(12.25) = 1 - 5e-6, a loss of 0.3 is scaled by ~1e-6.

What L is matters. ``reduction="sample"`` (default) applies the formula to each sample's
loss and then averages over the batch: that is the mining the paper describes (easy samples
~0, hard ones x alpha). ``reduction="batch"`` applies it to the batch-mean loss, the literal
reading of Eq. 1 + 2 (L there is the mean cross-entropy over the batch). Whenever that mean
exceeds 0.81 the sigmoid is above 0.99, so for the margin heads (ArcFace, CosFace, SphereFace,
AMM), whose batch-mean loss stays above 1, the batch reading is a constant x1.5 (a
learning-rate change) and mines nothing; its gradient scales every sample by the same factor.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fverify.losses.base import Head, require

FORMS = ("eq2", "alg1")


def hard_mining_weight(losses: Tensor, *, alpha: float = 1.5, beta: float = 1.1,
                       A: float = 35.0, B: float = 0.75, form: str = "eq2") -> Tensor:
    """The factor w(L) with ``L_HM = w(L) * L``: ``alpha * sigmoid(A (beta L - B))`` for
    ``eq2``, ``alpha * beta * sigmoid(A (beta L - B))`` for ``alg1`` (elementwise)."""
    check_settings(alpha=alpha, beta=beta, A=A, form=form)
    gain = alpha * beta if form == "alg1" else alpha
    # torch.sigmoid saturates cleanly to 0 or 1 for any finite argument, so large L is safe.
    return gain * torch.sigmoid(A * (beta * losses - B))


def hard_mining_loss(losses: Tensor, *, reduction: str | None = None, **settings: float | str) -> Tensor:
    """``L_HM`` of the given per-sample losses, ``settings`` as in :func:`hard_mining_weight`:
    elementwise when ``reduction`` is None, else the scalar :class:`HardMining` returns with
    that reduction (a key of :data:`REDUCTIONS`)."""
    if reduction is None:
        return hard_mining_weight(losses, **settings) * losses
    check_reduction(reduction)
    return REDUCTIONS[reduction](losses, lambda values: hard_mining_weight(values, **settings))[0]


def check_settings(*, alpha: float, beta: float, A: float, form: str) -> None:
    """Refuse an unknown ``form`` or a non-positive alpha, beta or A: a misspelt form must never
    fall back to another formula."""
    require(form in FORMS, f"unknown hard-mining form {form!r}; choose one of {', '.join(FORMS)}")
    for name, value in (("alpha", alpha), ("beta", beta), ("A", A)):
        require(value > 0, f"hard-mining {name} must be positive, got {value}")


def check_reduction(reduction: str) -> None:
    require(reduction in REDUCTIONS,
            f"unknown hard-mining reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")


def _per_sample(losses: Tensor, weight: Callable[[Tensor], Tensor]) -> tuple[Tensor, Tensor]:
    weights = weight(losses)
    return (weights * losses).mean(), weights


def _batch_mean(losses: Tensor, weight: Callable[[Tensor], Tensor]) -> tuple[Tensor, Tensor]:
    mean = losses.mean()
    batch_weight = weight(mean)
    return batch_weight * mean, batch_weight.expand_as(losses)


# name -> (per-sample losses, weight function) -> (scalar loss, per-sample weights)
REDUCTIONS: dict[str, Callable[[Tensor, Callable[[Tensor], Tensor]], tuple[Tensor, Tensor]]] = {
    "sample": _per_sample,
    "batch": _batch_mean,
}


@dataclass(frozen=True)
class HardMiningRecord:
    """The last batch seen by :class:`HardMining`, detached, for logs and hard-mining plots."""

    target_probability: Tensor
    """``(N,)`` p_y: softmax probability of the target class (see each head's definition)."""
    base_losses: Tensor
    """``(N,)`` the head's per-sample loss L before hard mining."""
    weights: Tensor
    """``(N,)`` the HM factor w: ``L_HM,i = w_i L_i`` per sample; with ``reduction="batch"``
    the single factor applied to the batch-mean loss, repeated for every sample."""
    loss: Tensor
    """``()`` the loss that was returned."""


class HardMining(nn.Module):
    """Wraps a head: ``forward(embeddings, labels)`` returns the scalar HM loss to minimise and
    keeps :attr:`last_batch`. The head's parameters are this module's parameters."""

    def __init__(self, head: Head, *, alpha: float = 1.5, beta: float = 1.1, A: float = 35.0,
                 B: float = 0.75, form: str = "eq2", reduction: str = "sample"):
        super().__init__()
        check_settings(alpha=alpha, beta=beta, A=A, form=form)
        check_reduction(reduction)
        self.head = head
        self.settings = {"alpha": alpha, "beta": beta, "A": A, "B": B, "form": form}
        self.reduction = reduction
        self.last_batch: HardMiningRecord | None = None

    def weight(self, losses: Tensor) -> Tensor:
        """The HM factor w(L) with this wrapper's settings."""
        return hard_mining_weight(losses, **self.settings)

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        output = self.head(embeddings, labels)
        with torch.autocast(embeddings.device.type, enabled=False):
            loss, weights = REDUCTIONS[self.reduction](output.losses, self.weight)
        with torch.no_grad():
            self.last_batch = HardMiningRecord(
                target_probability=self.head.target_probability(output.logits, labels),
                base_losses=output.losses.detach(),
                weights=weights.detach(),
                loss=loss.detach(),
            )
        return loss

    def extra_repr(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.settings.items())
        return f"{settings}, reduction={self.reduction!r}"
