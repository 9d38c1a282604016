"""The protocol adapters by name: one table for the CLI, ``--help`` and error messages."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fverify.errors import FverifyError
from fverify.protocols.evalset import EvalSet
from fverify.protocols.insightface_bin import load_bin
from fverify.protocols.lfw import load_lfw
from fverify.protocols.pairs_csv import load_pairs
from fverify.protocols.ytf import load_ytf


@dataclass(frozen=True)
class Adapter:
    """A protocol family: ``load(**options)`` parses, locates and checks everything, and
    returns an EvalSet or raises FverifyError before any compute."""

    name: str
    summary: str
    item_kind: Literal["image", "video"]
    load: Callable[..., EvalSet]


PROTOCOLS: dict[str, Adapter] = {
    adapter.name: adapter
    for adapter in (
        Adapter("lfw", "Labeled Faces in the Wild: View 2 (10 folds, 6000 pairs) or View 1",
                "image", load_lfw),
        Adapter("ytf", "YouTube Faces: 10 splits, 5000 video pairs", "video", load_ytf),
        Adapter("bin", "insightface .bin pair set (lfw, cfp_fp, agedb_30, calfw, cplfw, ...)",
                "image", load_bin),
        Adapter("pairs", "your own pair list: CSV path1,path2,label[,fold]", "image", load_pairs),
    )
}


def get_adapter(name: str) -> Adapter:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise FverifyError(f"unknown protocol {name!r}",
                           fix=f"choose one of: {', '.join(PROTOCOLS)}") from None


def image_protocols() -> list[str]:
    """Names of the protocols whose items are single images (what a .bin can hold)."""
    return [name for name, adapter in PROTOCOLS.items() if adapter.item_kind == "image"]
