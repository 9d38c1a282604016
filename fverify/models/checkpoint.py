"""fverify checkpoints and bare state dicts: save atomically, load without running code.

A checkpoint is a ``torch.save`` dict (DESIGN.md): ``format``, ``arch``, ``embedding_dim``,
``input_size``, ``color``, ``mean``, ``std``, ``state_dict``; training checkpoints add
their own keys (head, optimizer, ...), which loading for evaluation ignores. Files are read
with ``torch.load(weights_only=True)``: a file that needs arbitrary classes or code to
unpickle is refused, never run.
"""
from __future__ import annotations

import mmap
import os
import pickle
import pickletools
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fverify.atomic import atomic_open
from fverify.errors import FverifyError
from fverify.models.preprocessing import Preprocessing
from fverify.models.registry import BACKBONES, backbone_spec

CHECKPOINT_FORMAT = "fverify.checkpoint/1"
# arcface_torch's training checkpoints (checkpoint_gpu_<rank>.pt) keep the backbone here.
ARCFACE_TORCH_BACKBONE_KEY = "state_dict_backbone"
MAX_LISTED_KEYS = 5


def save_checkpoint(path: str | os.PathLike[str], backbone: nn.Module, arch: str,
                    preprocessing: Preprocessing, embedding_dim: int, **extra: Any) -> None:
    """Write an fverify checkpoint atomically. ``extra`` (training state: head, optimizer,
    epoch, ...) must itself be loadable with ``weights_only=True``: tensors, containers of
    tensors and plain Python values."""
    reserved = {"format", "arch", "embedding_dim", "state_dict", *preprocessing.to_dict()}
    clashes = reserved.intersection(extra)
    if clashes:
        raise ValueError(f"extra checkpoint keys clash with the contract: {sorted(clashes)}")
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "arch": arch,
        "embedding_dim": int(embedding_dim),
        **preprocessing.to_dict(),
        "state_dict": backbone.state_dict(),
        **extra,
    }
    with atomic_open(path, "wb") as handle:
        torch.save(checkpoint, handle)


def read_weights(path: str | os.PathLike[str]) -> Any:
    """``torch.load(path, weights_only=True)`` on CPU, with refusals as :class:`FverifyError`."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if is_truncated(path):  # a global's name cut short reads as a global it refuses
            raise truncated_error(path) from None
        raise FverifyError(
            "refused to load: the file needs code or classes beyond tensors and plain values "
            f"to unpickle, and fverify never runs code from a data file ({_first_line(error)})",
            where=str(path),
            fix="re-save only the weights: torch.save(model.state_dict(), path), "
            "or export TorchScript / ONNX",
        ) from None
    except Exception as error:  # noqa: BLE001 -- a damaged file makes torch's readers raise
        # nearly anything (IndexError, struct.error, EOFError, RuntimeError, ...), all alike here.
        if is_truncated(path) or "unexpected EOF" in str(error):  # torch's word for cut storages
            raise truncated_error(path) from None
        raise FverifyError(f"cannot read this torch file: {_first_line(error)}", where=str(path),
                           fix="check that the file is complete and was written by torch.save") from None


ZIP_LOCAL_HEADER = b"PK\x03\x04"  # first bytes of a zip archive (torch.save, TorchScript)
# A legacy (non-zip) torch.save file is five pickles in a row (magic number, protocol version,
# system info, the object, the storage keys), then the raw storages.
LEGACY_PICKLES = 5
LEGACY_PICKLE_PROTO = 0x80  # their first byte: the pickle PROTO opcode (protocol >= 2)


def is_truncated(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a torch file cut short (a full disk, an interrupted copy): a zip
    archive without its end, where the directory is, or a legacy file that ends inside one of
    its pickles, found by walking their opcodes (pickletools reads them without running or
    building anything)."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            # A memory map, because its read(n) stops at the end of the file: a forged length
            # of 2**60 bytes then allocates nothing.
            if data[:len(ZIP_LOCAL_HEADER)] == ZIP_LOCAL_HEADER:
                return not zipfile.is_zipfile(handle)
            if data[:1] != bytes([LEGACY_PICKLE_PROTO]):
                return False
            try:
                for _ in range(LEGACY_PICKLES):
                    for _ in pickletools.genops(data):
                        pass
            except Exception:  # noqa: BLE001 -- genops raises ValueError or others on bad bytes
                return data.tell() >= len(data)  # it stopped because the bytes ran out
    except (OSError, ValueError):  # unreadable, or empty (an empty file cannot be mapped)
        return False
    return False


def truncated_error(path: str | os.PathLike[str]) -> FverifyError:
    return FverifyError("truncated: the torch file ends before its data does", where=str(path),
                        fix="copy or download the file again, and compare its size with the original")


def is_fverify_checkpoint(content: Any) -> bool:
    return isinstance(content, Mapping) and "format" in content and "state_dict" in content


def checkpoint_contract(content: Mapping[str, Any], where: str) -> tuple[str, int, Preprocessing]:
    """(arch, embedding_dim, preprocessing) of an fverify checkpoint dict, validated."""
    if content["format"] != CHECKPOINT_FORMAT:
        raise FverifyError(f"unsupported checkpoint format {content['format']!r}", where=where,
                           fix=f"this fverify reads {CHECKPOINT_FORMAT!r}; upgrade fverify")
    missing = [key for key in ("arch", "embedding_dim") if key not in content]
    if missing:
        raise FverifyError(f"checkpoint lacks {', '.join(missing)}", where=where,
                           fix="re-save it with fverify.models.checkpoint.save_checkpoint")
    return str(content["arch"]), int(content["embedding_dim"]), Preprocessing.from_dict(content, where)


def backbone_state_dict(content: Any, where: str) -> dict[str, torch.Tensor]:
    """The backbone weights inside a loaded file: an fverify checkpoint's ``state_dict``, an
    arcface_torch training checkpoint's ``state_dict_backbone``, or the file itself when it is
    a bare state dict (insightface's ``backbone.pth``). A ``module.`` prefix left by
    DistributedDataParallel on every key is removed."""
    if is_fverify_checkpoint(content):
        content = content["state_dict"]
    elif isinstance(content, Mapping) and ARCFACE_TORCH_BACKBONE_KEY in content:
        content = content[ARCFACE_TORCH_BACKBONE_KEY]
    if not (isinstance(content, Mapping) and content
            and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in content.items())):
        keys = list(content)[:MAX_LISTED_KEYS] if isinstance(content, Mapping) else type(content).__name__
        raise FverifyError(f"not a checkpoint or state dict of tensors (top level: {keys})", where=where,
                           fix="pass an fverify checkpoint, a backbone state_dict, TorchScript or ONNX")
    if all(key.startswith("module.") for key in content):
        return {key[len("module."):]: value for key, value in content.items()}
    return dict(content)


def build_backbone(arch: str, state_dict: Mapping[str, torch.Tensor], where: str,
                   embedding_dim: int | None = None) -> nn.Module:
    """Build ``arch`` and load ``state_dict`` into it strictly, in eval mode.

    ``embedding_dim`` defaults to what the state dict's embedding layer says. Any missing,
    unexpected or wrongly shaped key is an error naming the first few of each.
    """
    spec = backbone_spec(arch)
    if embedding_dim is None:
        embedding_layer = state_dict.get(spec.embedding_key)
        embedding_dim = int(embedding_layer.shape[0]) if embedding_layer is not None else 512
    backbone = spec.build(embedding_dim)
    expected = backbone.state_dict()
    # Old files (and some exports) lack BatchNorm's step counter; it does not affect inference.
    state_dict = {**{k: v for k, v in expected.items() if k.endswith("num_batches_tracked")}, **state_dict}
    problems = _mismatches(expected, state_dict)
    if problems:
        raise FverifyError(
            f"weights do not fit {arch} (embedding_dim {embedding_dim}): {'; '.join(problems)}",
            where=where,
            fix=f"check --arch (known: {', '.join(BACKBONES)}) or that the file holds a backbone",
        )
    backbone.load_state_dict(state_dict, strict=True)
    return backbone.eval()


def _mismatches(expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor]) -> list[str]:
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [f"{k} {list(found[k].shape)} (expected {list(expected[k].shape)})"
              for k in expected if k in found and found[k].shape != expected[k].shape]
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if keys:
            more = f" and {len(keys) - MAX_LISTED_KEYS} more" if len(keys) > MAX_LISTED_KEYS else ""
            problems.append(f"{len(keys)} {label}: {', '.join(keys[:MAX_LISTED_KEYS])}{more}")
    return problems


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@dataclass(frozen=True)
class LoadedBackbone:
    """A backbone ready for inference and what its file said about it."""

    module: nn.Module
    arch: str
    embedding_dim: int
    preprocessing: Preprocessing | None  # None for a bare state dict: it carries no contract
    training: dict[str, Any] | None = None  # the "training" key of a checkpoint from fverify train


def load_checkpoint_file(path: str | os.PathLike[str], arch: str | None = None) -> LoadedBackbone:
    """The backbone in a torch file: an fverify checkpoint, or a bare state dict with ``arch``.

    For an fverify checkpoint ``arch`` must be None or agree with the checkpoint's.
    """
    where = str(Path(path))
    content = read_weights(path)
    if is_fverify_checkpoint(content):
        saved_arch, embedding_dim, preprocessing = checkpoint_contract(content, where)
        if arch is not None and arch != saved_arch:
            raise FverifyError(f"--arch {arch} contradicts the checkpoint's arch {saved_arch}", where=where,
                               fix="drop --arch: an fverify checkpoint names its architecture")
        module = build_backbone(saved_arch, backbone_state_dict(content, where), where, embedding_dim)
        training = content.get("training")
        return LoadedBackbone(module, saved_arch, embedding_dim, preprocessing,
                              dict(training) if isinstance(training, Mapping) else None)
    if arch is None:
        raise FverifyError("this is a bare state dict: its architecture is unknown", where=where,
                           fix=f"pass --arch (one of: {', '.join(BACKBONES)})")
    module = build_backbone(arch, backbone_state_dict(content, where), where)
    embedding_dim = int(module.state_dict()[backbone_spec(arch).embedding_key].shape[0])
    return LoadedBackbone(module, arch, embedding_dim, None)
