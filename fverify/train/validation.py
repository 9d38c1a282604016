"""Validation after each epoch: the epoch's checkpoint verified on a protocol by the same run
path as ``fverify lfw|ytf|bin|pairs --model`` (:func:`fverify.verification.verify`), into
``RUN/validation/epoch-<N>/`` (result.json, scores.csv, roc.png).

The protocol's files and every image are checked when the run starts, before any training.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fverify.protocols.evalset import EvalSet
from fverify.train.config import ValidationConfig


def _lfw(settings: ValidationConfig) -> EvalSet:
    from fverify.protocols.lfw import load_lfw

    return load_lfw(settings.data, pairs=[settings.pairs] if settings.pairs else None)


def _ytf(settings: ValidationConfig) -> EvalSet:
    from fverify.protocols.ytf import load_ytf

    return load_ytf(settings.data, splits=settings.pairs or None)


def _bin(settings: ValidationConfig) -> EvalSet:
    from fverify.protocols.insightface_bin import load_bin

    return load_bin(settings.data)


def _pairs(settings: ValidationConfig) -> EvalSet:
    from fverify.protocols.pairs_csv import load_pairs

    return load_pairs(settings.data, settings.pairs)


# validation.protocol -> the protocol's own loader (the ones the CLI commands call)
PROTOCOL_LOADERS: dict[str, Callable[[ValidationConfig], EvalSet]] = {
    "lfw": _lfw, "ytf": _ytf, "bin": _bin, "pairs": _pairs,
}


def load_validation_set(settings: ValidationConfig) -> EvalSet | None:
    """The validation EvalSet, every file checked; None when validation is off."""
    if settings.protocol == "none":
        return None
    return PROTOCOL_LOADERS[settings.protocol](settings)


def validate_checkpoint(evalset: EvalSet, checkpoint: Path, out: Path, settings: ValidationConfig,
                        device: str, dtype: str) -> dict[str, Any] | None:
    """Verify ``checkpoint`` on ``evalset``; the ``validation`` object of the epoch record
    (fractions), or None on torchrun ranks other than 0 (which help embed)."""
    from fverify.models.loading import load_embedder
    from fverify.verification import ExtractionSettings, verify

    if out.exists():  # a previous attempt at this epoch, completed before a kill: redo it
        shutil.rmtree(out)
    embedder = load_embedder(str(checkpoint), device=device, dtype=dtype)
    done = verify(evalset, embedder, out, extraction=ExtractionSettings(
        flip=settings.flip, batch_size=settings.batch_size, workers=0, progress=False))
    if done is None:
        return None
    metrics = done.result["metrics"]
    return {"protocol": done.result["protocol"]["name"], "accuracy": metrics["accuracy"]["mean"],
            "se": metrics["accuracy"]["se"], "std": metrics["accuracy"]["std"],
            "auc": metrics["auc"], "eer": metrics["eer"], "num_pairs": metrics["num_pairs"],
            "result": str(out / "result.json")}
