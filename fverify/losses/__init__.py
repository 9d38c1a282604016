"""Loss heads (one module each) and the Hard-Mining wrapper, with the registry that builds a
head by name from a training config."""
from __future__ import annotations

import inspect

from fverify.errors import FverifyError
from fverify.losses.amm import AMMSoftmaxHead
from fverify.losses.arcface import ArcFaceHead
from fverify.losses.base import Head, HeadOutput
from fverify.losses.cosface import CosFaceHead
from fverify.losses.hard_mining import HardMining, HardMiningRecord
from fverify.losses.npt import NPTHead
from fverify.losses.softmax import SoftmaxHead
from fverify.losses.sphereface import SphereFaceHead

HEADS: dict[str, type[Head]] = {
    "softmax": SoftmaxHead,
    "sphereface": SphereFaceHead,
    "arcface": ArcFaceHead,
    "cosface": CosFaceHead,
    "npt": NPTHead,
    "amm": AMMSoftmaxHead,
}


def head_options(name: str) -> dict[str, object]:
    """The keyword settings head ``name`` accepts, with their defaults."""
    parameters = inspect.signature(HEADS[name]).parameters.values()
    return {p.name: p.default for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def build_head(name: str, num_classes: int, embedding_dim: int, **options: object) -> Head:
    """Head ``name`` (a key of :data:`HEADS`) with ``options`` overriding its defaults."""
    if name not in HEADS:
        raise FverifyError(f"unknown loss head {name!r}",
                           fix=f"choose one of: {', '.join(HEADS)}")
    accepted = head_options(name)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        listed = ", ".join(f"{key}={value!r}" for key, value in accepted.items()) or "none"
        raise FverifyError(f"loss head {name!r} has no setting {', '.join(unknown)}",
                           fix=f"its settings (with defaults) are: {listed}")
    return HEADS[name](num_classes, embedding_dim, **options)


__all__ = ["HEADS", "AMMSoftmaxHead", "ArcFaceHead", "CosFaceHead", "HardMining",
           "HardMiningRecord", "Head", "HeadOutput", "NPTHead", "SoftmaxHead", "SphereFaceHead",
           "build_head", "head_options"]
