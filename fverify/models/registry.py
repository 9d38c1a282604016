"""The backbone registry: architecture name -> constructor, listed by ``--help`` and errors.

This module does not import torch (the CLI builds its parsers from it); a constructor's
module is imported when a backbone is built.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fverify.errors import FverifyError

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class BackboneSpec:
    """How to build one architecture and what it expects."""

    module: str  # module that defines the constructor, imported on first build
    constructor: str  # function ``(embedding_dim: int) -> nn.Module``
    embedding_key: str  # state-dict entry whose first dimension is the embedding size
    summary: str  # size and compute (FLOPs = 2 x multiply-adds per 112x112 image)

    def build(self, embedding_dim: int = 512) -> nn.Module:
        return getattr(importlib.import_module(self.module), self.constructor)(embedding_dim)


_IRESNET = "fverify.models.iresnet"
BACKBONES: dict[str, BackboneSpec] = {
    "iresnet18": BackboneSpec(_IRESNET, "iresnet18", "features.weight",
                              "24M parameters, 5.2 GFLOPs; the ResNet18 of the HM paper"),
    "iresnet34": BackboneSpec(_IRESNET, "iresnet34", "features.weight",
                              "34M parameters, 8.9 GFLOPs"),
    "iresnet50": BackboneSpec(_IRESNET, "iresnet50", "features.weight",
                              "44M parameters, 12.6 GFLOPs"),
    "iresnet100": BackboneSpec(_IRESNET, "iresnet100", "features.weight",
                               "65M parameters, 24.2 GFLOPs"),
    "mobilefacenet": BackboneSpec("fverify.models.mobilefacenet", "mobilefacenet",
                                  "features.layers.3.weight",
                                  "insightface mbf: 2.1M parameters, 0.9 GFLOPs"),
    "tinycnn": BackboneSpec("fverify.models.tinycnn", "tinycnn", "features.weight",
                            "tests and demos: 0.1M parameters, 0.02 GFLOPs, no batch norm"),
}


def backbone_spec(arch: str) -> BackboneSpec:
    """The registered spec of ``arch``; an unknown name is an error listing the known ones."""
    try:
        return BACKBONES[arch]
    except KeyError:
        raise FverifyError(
            f"unknown architecture {arch!r}",
            fix=f"use one of: {', '.join(BACKBONES)}",
        ) from None
