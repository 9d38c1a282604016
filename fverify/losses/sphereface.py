"""SphereFace / A-Softmax: a multiplicative angular margin, with the lambda annealing that
makes it train.

Liu et al., "SphereFace: Deep Hypersphere Embedding for Face Recognition", CVPR 2017,
Sec. 3 (A-Softmax loss): class weights are normalised, there is no bias, logits are
``||x|| cos(theta_j)``, and the target's ``cos(theta_y)`` is replaced by

    psi(theta) = (-1)^k cos(m theta) - 2k,   k = floor(m theta / pi),   theta in [0, pi]

(m = 4 by default), which is continuous and decreasing on [0, pi]. ``cos(m theta)`` is the
Chebyshev polynomial ``T_m(cos theta)``, so neither its value nor its gradient needs ``acos``
(``k`` is piecewise constant and computed without gradient).

Trained as written, A-Softmax does not converge; the authors' Caffe layer
(``margin_inner_product_layer``) blends in the plain logit with a weight lambda that decays
with the iteration count:

    target logit = ||x|| (lambda cos(theta_y) + psi(theta_y)) / (1 + lambda)
    lambda = max(lambda_min, base (1 + gamma iter)^(-power))

with the Caffe defaults base = 1000, gamma = 0.12, power = 1, lambda_min = 5. As in that
layer, the counter ``iteration`` (a buffer, so it is saved in ``state_dict`` and restored on
resume) is increased by one at the start of every forward pass in training mode, before
lambda is computed: the first training batch uses iter = 1. In eval mode the counter does not
move and lambda is that of the last training batch (``base`` if there was none). So call
``head.eval()`` for validation passes, and count one forward per optimiser step (gradient
accumulation over n micro-batches anneals n times faster; ``fverify train`` sets the counter
from its optimiser step before each micro-batch instead). ``base = lambda_min = 0`` gives the
pure A-Softmax of the paper's equations.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from fverify.losses.base import (Head, HeadOutput, cross_entropy_output, replace_target, require,
                                 target_values)


def chebyshev_cos_multiple(cosines: Tensor, m: int) -> Tensor:
    """``cos(m theta)`` from ``cos(theta)`` by the Chebyshev recurrence
    ``T_{n+1} = 2 c T_n - T_{n-1}``, m >= 1 (a polynomial: its gradient is finite everywhere)."""
    previous, current = torch.ones_like(cosines), cosines
    for _ in range(m - 1):
        previous, current = current, 2.0 * cosines * current - previous
    return current


def sphereface_psi(cosines: Tensor, m: int) -> Tensor:
    """A-Softmax ``psi(theta) = (-1)^k cos(m theta) - 2k``, ``k = floor(m theta / pi)``, from
    ``cos(theta)`` (theta in radians, [0, pi])."""
    with torch.no_grad():
        angles = torch.acos(cosines.clamp(-1.0, 1.0))
        # theta = pi exactly would give k = m; psi is continuous there, so k = m - 1 is the same.
        k = torch.floor(angles * (m / math.pi)).clamp(0, m - 1)
        sign = 1.0 - 2.0 * torch.remainder(k, 2.0)
    return sign * chebyshev_cos_multiple(cosines, m) - 2.0 * k


def annealing_lambda(iteration: Tensor | float, base: float, gamma: float, power: float,
                     lambda_min: float) -> Tensor:
    """SphereFace's blending weight ``max(lambda_min, base (1 + gamma iter)^(-power))``."""
    iteration = torch.as_tensor(iteration, dtype=torch.float64)
    return (base * (1.0 + gamma * iteration) ** (-power)).clamp_min(lambda_min)


class SphereFaceHead(Head):
    """A-Softmax with integer angular ``margin`` m (multiplicative) and lambda annealing."""

    def __init__(self, num_classes: int, embedding_dim: int, *, margin: int = 4,
                 base: float = 1000.0, gamma: float = 0.12, power: float = 1.0,
                 lambda_min: float = 5.0):
        super().__init__(num_classes, embedding_dim)
        require(isinstance(margin, int) and margin >= 1,
                f"SphereFace margin is a whole number >= 1 (the angle multiplier), got {margin}")
        for name, value in (("base", base), ("gamma", gamma), ("power", power),
                            ("lambda_min", lambda_min)):
            require(value >= 0, f"SphereFace {name} must be non-negative, got {value}")
        self.margin = margin
        self.base, self.gamma, self.power, self.lambda_min = base, gamma, power, lambda_min
        self.register_buffer("iteration", torch.zeros((), dtype=torch.int64))

    @property
    def current_lambda(self) -> float:
        """Lambda at the current value of the iteration counter."""
        return float(self._lambda(torch.float64))

    def _lambda(self, dtype: torch.dtype) -> Tensor:
        return annealing_lambda(self.iteration, self.base, self.gamma, self.power,
                                self.lambda_min).to(dtype)

    def compute(self, embeddings: Tensor, labels: Tensor) -> HeadOutput:
        if self.training:
            with torch.no_grad():
                self.iteration += 1
        blend = self._lambda(embeddings.dtype)
        cosines = self.cosines(embeddings)
        target_cos = target_values(cosines, labels)
        target = (blend * target_cos + sphereface_psi(target_cos, self.margin)) / (1.0 + blend)
        norms = torch.linalg.vector_norm(embeddings, dim=1, keepdim=True)
        return cross_entropy_output(norms * replace_target(cosines, labels, target), labels)
