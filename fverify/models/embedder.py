"""One interface over every model format: aligned faces in, embeddings out.

An :class:`Embedder` maps a batch of aligned faces, ``uint8`` ``(N, H, W, 3)`` RGB, to
``float32`` ``(N, d)`` embeddings (not L2-normalised) and describes itself for the
RunResult. Extraction (batching, flip test, cache, sharding) is model-agnostic and lives
in :mod:`fverify.embedding`.
"""
from __future__ import annotations

import abc
import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fverify.errors import FverifyError
from fverify.hashing import file_digest
from fverify.models.dtype import resolve_dtype
from fverify.models.preprocessing import Preprocessing

# On CPU the model runs on at most this many images at once, whatever the batch size: the
# activations of 8 faces (112x112x64 floats, 3 MB each) stay in cache; larger forward
# batches measured ~25% slower on a 2-core EPYC (float32 and bf16, `fverify bench embed`).
CPU_FORWARD_CHUNK = 8
DEVICES_HELP = "'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'"


@dataclass(frozen=True)
class ModelSource:
    """Where a model came from: the recorded identity of its file."""

    format: str  # "fverify-checkpoint", "state-dict", "torchscript", "onnx" or "python"
    path: Path
    sha256: str

    @classmethod
    def of_file(cls, format: str, path: str | os.PathLike[str]) -> ModelSource:
        return cls(format, Path(path), file_sha256(path))


class Embedder(abc.ABC):
    """Aligned uint8 RGB faces ``(N, H, W, 3)`` -> float32 embeddings ``(N, d)``."""

    input_size: tuple[int, int]  # (height, width) in pixels that embed() accepts

    @abc.abstractmethod
    def embed(self, faces: np.ndarray) -> np.ndarray:
        """Embeddings of ``faces`` (uint8, ``(N, H, W, 3)``, RGB, H x W = input_size)."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-ready record for the RunResult: format, path, sha256, arch, preprocessing,
        device, dtype (None where a setting does not apply)."""

    def cache_identity(self) -> dict[str, Any] | None:
        """What determines the numbers (for the embedding cache), or None when fverify cannot
        know it. The path is left out: moving a model file keeps its cache."""
        identity = {k: v for k, v in self.describe().items() if k not in ("path", "training")}
        identity["device"] = torch.device(identity["device"]).type if identity.get("device") else None
        return identity


class TorchEmbedder(Embedder):
    """An eager backbone or a TorchScript module, run with ``inference_mode``, channels_last
    memory and autocast in ``dtype`` (bf16 on CPU, fp16 AMP on CUDA) unless float32."""

    def __init__(self, module: nn.Module, preprocessing: Preprocessing, source: ModelSource,
                 arch: str | None = None, embedding_dim: int | None = None,
                 device: str = "auto", dtype: str = "auto", training: dict[str, Any] | None = None):
        self.device = resolve_device(device)
        self.training = training  # how fverify train made the model (None: not from fverify train)
        self.dtype = resolve_dtype(dtype, self.device.type)
        self.preprocessing = preprocessing
        self.input_size = preprocessing.input_size
        self.source = source
        self.arch = arch
        self.embedding_dim = embedding_dim
        # An eager backbone is copied (folded), so a caller's training model keeps its mode.
        module = module.eval() if isinstance(module, torch.jit.ScriptModule) else fold_batch_norms(module)
        self.module = module.to(self.device, memory_format=torch.channels_last)
        self._mean = torch.tensor(preprocessing.mean, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(preprocessing.std, device=self.device).view(1, 3, 1, 1)

    def embed(self, faces: np.ndarray) -> np.ndarray:
        chunk = CPU_FORWARD_CHUNK if self.device.type == "cpu" else max(len(faces), 1)
        return np.concatenate([self._forward(faces[start:start + chunk]) for start in range(0, len(faces), chunk)])

    def _forward(self, faces: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(faces)).to(self.device, non_blocking=True)
        x = normalise_faces(x, self.preprocessing.color, self._mean, self._std)
        low_precision = self.dtype != "float32"
        with torch.inference_mode(), torch.autocast(self.device.type, getattr(torch, self.dtype),
                                                    enabled=low_precision):
            embeddings = self.module(x)
        return embeddings.float().cpu().numpy()

    def describe(self) -> dict[str, Any]:
        return {
            "format": self.source.format,
            "path": str(self.source.path),
            "sha256": self.source.sha256,
            "arch": self.arch,
            "embedding_dim": self.embedding_dim,
            "preprocessing": self.preprocessing.to_dict(),
            "device": str(self.device),
            "dtype": self.dtype,
            "training": self.training,
        }


def normalise_faces(faces: torch.Tensor, color: str, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, H, W, 3)`` RGB -> float32 ``(N, 3, H, W)`` model input ``(x - mean) / std``
    in ``color`` order. The result is an NCHW view of NHWC memory, i.e. channels_last."""
    if color == "BGR":
        faces = faces.flip(-1)
    return (faces.permute(0, 3, 1, 2).float() - mean) / std


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """A copy of ``module`` (in eval mode) in which each BatchNorm that only follows a
    convolution or linear layer is folded into that layer's weights: the same function up to
    float rounding, with fewer passes over memory."""
    from torch.fx import symbolic_trace
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    graph_module = symbolic_trace(copy.deepcopy(module).eval())
    modules = dict(graph_module.named_modules())
    for node in list(graph_module.graph.nodes):
        producer = node.args[0] if node.op == "call_module" and node.args else None
        if not (isinstance(modules.get(node.target), nn.modules.batchnorm._BatchNorm)
                and isinstance(producer, torch.fx.Node) and producer.op == "call_module"
                and len(producer.users) == 1):
            continue
        layer, norm = modules[producer.target], modules[node.target]
        if isinstance(layer, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
            folded = fuse_conv_bn_eval(layer, norm)
        elif isinstance(layer, nn.Linear) and isinstance(norm, nn.BatchNorm1d):
            folded = fuse_linear_bn_eval(layer, norm)
        else:
            continue
        _set_submodule(graph_module, producer.target, folded)
        node.replace_all_uses_with(producer)
        graph_module.graph.erase_node(node)
    graph_module.graph.lint()
    graph_module.delete_all_unused_submodules()
    graph_module.recompile()
    return graph_module


def _set_submodule(root: nn.Module, target: str, module: nn.Module) -> None:
    parent, _, name = target.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, name, module)


def parse_device(device: str, *, cuda_available: bool) -> torch.device:
    """The device ``--device`` names, one rule for every runtime (torch, onnxruntime).

    ``auto`` is this process's GPU (``LOCAL_RANK`` under torchrun, else GPU 0) when the runtime
    can use CUDA (``cuda_available``), else the CPU; ``cpu``, ``cuda`` and ``cuda:N`` are taken
    as given, anything else is refused. An explicit CUDA device the runtime cannot use is left
    to the caller, because what to install differs per runtime.
    """
    if device == "auto":
        if not cuda_available:
            return torch.device("cpu")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        raise FverifyError(f"unknown device {device!r}", fix=f"use {DEVICES_HELP}")
    return resolved


def resolve_device(device: str) -> torch.device:
    """The torch device for ``--device`` (:func:`parse_device` with torch's CUDA)."""
    resolved = parse_device(device, cuda_available=torch.cuda.is_available())
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise FverifyError(f"device {device!r} requested but this torch sees no CUDA GPU",
                           fix="use --device cpu, or install a CUDA build of torch")
    return resolved


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes: the model hash every result records."""
    return file_digest(path, "sha256")
