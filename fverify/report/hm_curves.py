"""The numbers behind the hard-mining figures, every one computed by :mod:`fverify.losses`.

Three views of the Hard-Mining loss (Srivastava, Murali and Dubey, CVIP 2020,
arXiv:1908.09747):

- **likelihood** (the paper's Fig. 1): loss against the softmax probability p of the correct
  class, for cross-entropy (``-log p``) and its HM version, with the point where they cross.
- **angle**: each margin head's loss (ArcFace, CosFace, SphereFace, ...) and its HM version
  against the target angle theta_y, in degrees.
- **batch**: the HM factor each sample of one batch gets with ``reduction="sample"`` and with
  ``reduction="batch"``.

No formula is written here. Cross-entropy comes from :class:`fverify.losses.SoftmaxHead` on
two-class logits ``(log p, log(1 - p))``, whose softmax at the target is p; the margin losses
from the heads in :data:`fverify.losses.HEADS`; the HM loss from
:func:`fverify.losses.hard_mining.hard_mining_loss` with settings a
:class:`fverify.losses.HardMining` wrapper has checked; per-sample factors from that wrapper's
``last_batch``. All in float64.

Geometry of the angle and batch views: the embedding ``feature_norm * (cos theta, sin theta, 0)``
with label 0; class 0's weight is ``(1, 0, 0)``, so theta is the target angle; every other class
weight is ``(0, 0, 1)``, orthogonal to every embedding (cos theta_j = 0, which random class
centres in 512 dimensions nearly are). ``num_classes`` counts them all (default 10,575, the
identities of CASIA-WebFace, the paper's training set). ``feature_norm`` matters only to heads
without a fixed scale (softmax, SphereFace); ArcFace and CosFace use their scale s.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from fverify.errors import FverifyError

CASIA_WEBFACE_IDENTITIES = 10_575
DEFAULT_FEATURE_NORM = 64.0
DEFAULT_ANGLE_HEADS = ("softmax", "sphereface", "arcface", "cosface")
# At most this many HM settings in one figure: beyond it, colours and line styles repeat.
MAX_SETTINGS = 6


@dataclass(frozen=True)
class HMSetting:
    """One setting of the HM loss, as :class:`fverify.losses.HardMining` takes it."""

    alpha: float = 1.5
    beta: float = 1.1
    A: float = 35.0
    B: float = 0.75
    form: str = "eq2"

    def kwargs(self) -> dict[str, float | str]:
        return {"alpha": self.alpha, "beta": self.beta, "A": self.A, "B": self.B,
                "form": self.form}

    @property
    def name(self) -> str:
        """Short identifier, also the CSV column suffix: ``eq2_alpha1.5_beta1.1_A35_B0.75``."""
        return f"{self.form}_alpha{self.alpha:g}_beta{self.beta:g}_A{self.A:g}_B{self.B:g}"

    @property
    def label(self) -> str:
        """Legend text: ``HM eq2 (α=1.5, β=1.1, A=35, B=0.75)``."""
        return (f"HM {self.form} (α={self.alpha:g}, β={self.beta:g}, A={self.A:g}, "
                f"B={self.B:g})")


def hm_settings(alpha: Sequence[float] = (1.5,), beta: Sequence[float] = (1.1,),
                A: Sequence[float] = (35.0,), B: Sequence[float] = (0.75,),
                form: Sequence[str] = ("eq2",)) -> list[HMSetting]:
    """Every combination of the given values (forms vary slowest), each checked by
    :class:`fverify.losses.HardMining`; at most :data:`MAX_SETTINGS` of them."""
    settings = [HMSetting(alpha=a, beta=b, A=steep, B=step, form=f)
                for f, a, b, steep, step in itertools.product(form, alpha, beta, A, B)]
    if len(settings) > MAX_SETTINGS:
        raise FverifyError(f"{len(settings)} hard-mining settings (every combination of the "
                           f"values given) are too many for one readable figure",
                           fix=f"give at most {MAX_SETTINGS} combinations")
    if len(set(settings)) < len(settings):
        raise FverifyError("the same hard-mining setting is given twice",
                           fix="list each value once")
    for setting in settings:
        _checked_wrapper(setting)
    return settings


class Crossing(NamedTuple):
    """Where the HM and cross-entropy curves meet inside (0, 1)."""

    p: float
    loss: float
    """Both losses there (nats)."""


@dataclass(frozen=True)
class LikelihoodCurves:
    """The paper's Fig. 1: losses at each likelihood p of the correct class."""

    p: np.ndarray
    """``(n,)`` probabilities in (0, 1), increasing."""
    cross_entropy: np.ndarray
    """``(n,)`` ``-log p`` (nats), from fverify's softmax head."""
    hard_mining: dict[HMSetting, np.ndarray]
    """setting -> ``(n,)`` HM cross-entropy at each p."""
    crossings: dict[HMSetting, Crossing | None]
    """setting -> where HM and cross-entropy are equal inside (0, 1) (None when the HM loss
    stays below cross-entropy everywhere). The curves also meet at p = 1, where both are 0."""

    def columns(self) -> dict[str, np.ndarray]:
        """The plotted values as named columns (``p`` first) for a CSV."""
        return {"p": self.p, "cross_entropy": self.cross_entropy,
                **{f"hm_{s.name}": values for s, values in self.hard_mining.items()}}


def likelihood_curves(settings: Sequence[HMSetting], points: int = 199) -> LikelihoodCurves:
    """Cross-entropy and HM cross-entropy at ``points`` evenly spaced p strictly inside (0, 1)
    (199 points: p = 0.005, 0.010, ..., 0.995), and each setting's crossing point."""
    if points < 2:
        raise FverifyError(f"at least 2 points are needed for a curve, got {points}",
                           fix="give --points 2 or more")
    p = np.linspace(0.0, 1.0, points + 2)[1:-1]
    cross_entropy = cross_entropy_of_likelihood(p)
    return LikelihoodCurves(
        p=p, cross_entropy=cross_entropy,
        hard_mining={s: hard_mining_of(cross_entropy, s) for s in settings},
        crossings={s: _crossing(s) for s in settings},
    )


def _crossing(setting: HMSetting) -> Crossing | None:
    p = crossing_likelihood(setting)
    return None if p is None else Crossing(p, float(cross_entropy_of_likelihood(np.array([p]))[0]))


def cross_entropy_of_likelihood(p: np.ndarray) -> np.ndarray:
    """``-log p`` as fverify's softmax head computes it: two classes, identity weights, no bias,
    embedding ``(log p, log(1 - p))`` so the logits' softmax at the target (class 0) is p.
    ``p`` must lie strictly inside (0, 1)."""
    import torch

    from fverify.losses import SoftmaxHead

    p = np.asarray(p, dtype=np.float64)
    head = SoftmaxHead(2, 2).double()
    with torch.no_grad():
        head.weight.copy_(torch.eye(2, dtype=torch.float64))
        head.bias.zero_()
        embeddings = torch.from_numpy(np.stack([np.log(p), np.log1p(-p)], axis=1))
        output = head(embeddings, torch.zeros(len(p), dtype=torch.int64))
    return output.losses.numpy()


def hard_mining_of(losses: np.ndarray, setting: HMSetting) -> np.ndarray:
    """HM loss of each base loss, by :func:`fverify.losses.hard_mining.hard_mining_loss`."""
    import torch

    from fverify.losses.hard_mining import hard_mining_loss

    values = torch.from_numpy(np.asarray(losses, dtype=np.float64))
    return hard_mining_loss(values, **setting.kwargs()).numpy()


def hard_mining_factor(losses: np.ndarray, setting: HMSetting) -> np.ndarray:
    """The HM factor w(L) with ``L_HM = w L``, by the wrapper's :meth:`HardMining.weight`."""
    import torch

    values = torch.from_numpy(np.asarray(losses, dtype=np.float64))
    return _checked_wrapper(setting).weight(values).numpy()


def crossing_likelihood(setting: HMSetting) -> float | None:
    """The p in (0, 1) where HM cross-entropy equals cross-entropy, solved numerically (Brent's
    method on their difference, both from fverify.losses), or None when there is none.

    The HM factor rises monotonically with the loss, so the curves cross at most once inside
    (0, 1): harder samples (smaller p) get more than cross-entropy, easier ones less."""
    from scipy.optimize import brentq

    def excess(p: float) -> float:
        loss = cross_entropy_of_likelihood(np.array([p]))
        return float(hard_mining_of(loss, setting)[0] - loss[0])

    # On [1e-12, 1 - 1e-9] the losses run from 27.6 down to 1e-9: wide enough for any setting
    # whose soft step lies at a loss a sample can have.
    low, high = 1e-12, 1.0 - 1e-9
    if not excess(low) > 0 > excess(high):
        return None
    return float(brentq(excess, low, high, xtol=1e-14, rtol=1e-12))


@dataclass(frozen=True)
class AngleCurves:
    """Each head's loss and HM loss against the target angle."""

    angle_deg: np.ndarray
    """``(n,)`` target angle theta_y, degrees."""
    losses: dict[str, np.ndarray]
    """head name -> ``(n,)`` the head's per-sample loss at each angle."""
    hard_mining: dict[tuple[str, HMSetting], np.ndarray]
    """(head, setting) -> ``(n,)`` the HM loss at each angle."""
    factors: dict[tuple[str, HMSetting], np.ndarray]
    """(head, setting) -> ``(n,)`` the HM factor w = L_HM / L at each angle."""
    num_classes: int
    feature_norm: float

    def columns(self) -> dict[str, np.ndarray]:
        """The plotted values as named columns (``theta_deg`` first) for a CSV."""
        columns: dict[str, np.ndarray] = {"theta_deg": self.angle_deg}
        for head, values in self.losses.items():
            columns[head] = values
            for (name, setting), hm in self.hard_mining.items():
                if name == head:
                    columns[f"hm_{head}_{setting.name}"] = hm
                    columns[f"w_{head}_{setting.name}"] = self.factors[name, setting]
        return columns


def angle_curves(heads: Sequence[str], settings: Sequence[HMSetting], *, step_deg: float = 0.5,
                 num_classes: int = CASIA_WEBFACE_IDENTITIES,
                 feature_norm: float = DEFAULT_FEATURE_NORM) -> AngleCurves:
    """Losses of ``heads`` (names in :data:`fverify.losses.HEADS`, default settings) at target
    angles 0, step, ..., 180 degrees, in the geometry of the module docstring, and their HM
    versions for each setting."""
    if not 0 < step_deg <= 90:
        raise FverifyError(f"angle step must be in (0, 90] degrees, got {step_deg}",
                           fix="give a step such as 0.5")
    angle_deg = np.linspace(0.0, 180.0, int(round(180.0 / step_deg)) + 1)
    losses = {head: probe_losses(head, angle_deg, num_classes=num_classes,
                                 feature_norm=feature_norm) for head in heads}
    return AngleCurves(
        angle_deg=angle_deg, losses=losses,
        hard_mining={(h, s): hard_mining_of(losses[h], s) for h in heads for s in settings},
        factors={(h, s): hard_mining_factor(losses[h], s) for h in heads for s in settings},
        num_classes=num_classes, feature_norm=feature_norm,
    )


@dataclass(frozen=True)
class BatchWeights:
    """HM factors of the samples of one batch under both reductions."""

    head: str
    angle_deg: np.ndarray
    """``(N,)`` each sample's target angle, degrees."""
    base_losses: np.ndarray
    """``(N,)`` each sample's loss under the head."""
    sample: dict[HMSetting, np.ndarray]
    """setting -> ``(N,)`` factor w_i with ``reduction="sample"`` (``L_HM,i = w_i L_i``)."""
    batch: dict[HMSetting, float]
    """setting -> the one factor ``reduction="batch"`` applies to the batch-mean loss."""

    @property
    def mean_loss(self) -> float:
        return float(self.base_losses.mean())

    def columns(self) -> dict[str, np.ndarray]:
        """One row per sample, named columns, for a CSV."""
        n = len(self.angle_deg)
        columns: dict[str, np.ndarray] = {"sample": np.arange(n), "theta_deg": self.angle_deg,
                                          "base_loss": self.base_losses}
        for setting, weights in self.sample.items():
            columns[f"w_sample_{setting.name}"] = weights
            columns[f"w_batch_{setting.name}"] = np.full(n, self.batch[setting])
        return columns


def realistic_batch_angles(size: int = 64, mean_deg: float = 55.0, std_deg: float = 10.0,
                           seed: int = 0) -> np.ndarray:
    """Target angles (degrees) of a batch in mid-training: normal around ``mean_deg``, clipped
    to [0, 180], seeded. The defaults (batch 64, the paper's) put the ArcFace batch on both sides
    of the HM step, as a batch is once the easy samples have been learnt."""
    if size < 1 or std_deg < 0:
        raise FverifyError(f"a batch needs size >= 1 and std >= 0, got {size} and {std_deg}",
                           fix="change --batch-size or --angle-std")
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(mean_deg, std_deg, size), 0.0, 180.0)


def batch_weights(head: str, settings: Sequence[HMSetting], angle_deg: np.ndarray, *,
                  num_classes: int = CASIA_WEBFACE_IDENTITIES,
                  feature_norm: float = DEFAULT_FEATURE_NORM) -> BatchWeights:
    """Run one batch (target angles ``angle_deg``) through ``HardMining(head, reduction=...)``
    for both reductions and each setting, and read the factors from ``last_batch``."""
    import torch

    from fverify.losses import HardMining

    probe, embeddings, labels = _probe(head, angle_deg, num_classes, feature_norm)
    sample: dict[HMSetting, np.ndarray] = {}
    batch: dict[HMSetting, float] = {}
    base_losses = None
    for setting in settings:
        for reduction in ("sample", "batch"):
            wrapper = HardMining(probe, **setting.kwargs(), reduction=reduction)
            with torch.no_grad():
                wrapper(embeddings, labels)
            record = wrapper.last_batch
            base_losses = record.base_losses.numpy()
            if reduction == "sample":
                sample[setting] = record.weights.numpy().copy()
            else:
                batch[setting] = float(record.weights[0])
    if base_losses is None:
        base_losses = probe(embeddings, labels).losses.detach().numpy()
    return BatchWeights(head=head, angle_deg=np.asarray(angle_deg, dtype=np.float64),
                        base_losses=base_losses, sample=sample, batch=batch)


def probe_losses(head: str, angle_deg: np.ndarray, *, num_classes: int = CASIA_WEBFACE_IDENTITIES,
                 feature_norm: float = DEFAULT_FEATURE_NORM) -> np.ndarray:
    """``(n,)`` per-sample loss of ``head`` at each target angle (degrees), in the geometry of
    the module docstring."""
    import torch

    probe, embeddings, labels = _probe(head, angle_deg, num_classes, feature_norm)
    with torch.no_grad():
        return probe(embeddings, labels).losses.numpy()


def _probe(head: str, angle_deg: np.ndarray, num_classes: int, feature_norm: float):
    """The head (eval mode, float64, weights set), embeddings and labels of the geometry."""
    import torch

    from fverify.losses import build_head

    if num_classes < 2 or not feature_norm > 0:
        raise FverifyError(f"need at least 2 classes and a positive feature norm, got "
                           f"{num_classes} and {feature_norm}",
                           fix="change --classes or --feature-norm")
    built = build_head(head, num_classes, 3).double().eval()
    with torch.no_grad():
        built.weight.zero_()
        built.weight[0, 0] = 1.0
        built.weight[1:, 2] = 1.0
        for parameter_name, parameter in built.named_parameters():
            if parameter_name != "weight":  # the softmax head's bias: no class favoured
                parameter.zero_()
    SETTLED.get(head, lambda _: None)(built)
    theta = torch.from_numpy(np.deg2rad(np.asarray(angle_deg, dtype=np.float64)))
    embeddings = feature_norm * torch.stack(
        [torch.cos(theta), torch.sin(theta), torch.zeros_like(theta)], dim=1)
    return built, embeddings, torch.zeros(len(theta), dtype=torch.int64)


def _end_of_annealing(head) -> None:
    # SphereFace's lambda decays with training iterations from `base` (1000: nearly a plain
    # softmax) to `lambda_min`; a head that has trained long sits at lambda_min, so show that.
    head.iteration.fill_(10**12)


# Heads whose loss depends on training progress, and how to put them at the end of training.
SETTLED: dict[str, Callable[[object], None]] = {"sphereface": _end_of_annealing}


def _checked_wrapper(setting: HMSetting):
    """A HardMining wrapper over a throw-away head: its constructor checks the setting."""
    from fverify.losses import HardMining, SoftmaxHead

    return HardMining(SoftmaxHead(2, 1), **setting.kwargs())
