"""ONNX models through onnxruntime (the optional extra ``fverify[onnx]``).

The graph takes one float32 NCHW input, normalised by the preprocessing contract from
flags; a static input size in the graph is used when ``--input-size`` is not given.
"""
from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import torch

from fverify.errors import FverifyError
from fverify.models.embedder import Embedder, ModelSource, normalise_faces, parse_device
from fverify.models.preprocessing import Preprocessing, PreprocessingFlags


def import_onnxruntime() -> Any:
    """onnxruntime, or a :class:`FverifyError` saying how to install it."""
    try:
        return importlib.import_module("onnxruntime")
    except ImportError:
        raise FverifyError("ONNX models need onnxruntime, which is not installed",
                           fix="pip install 'fverify[onnx]' (or onnxruntime-gpu for CUDA)") from None


class OnnxEmbedder(Embedder):
    """An ONNX graph run by onnxruntime on CPU (or CUDA when asked and available), float32."""

    def __init__(self, source: ModelSource, flags: PreprocessingFlags, device: str = "auto"):
        ort = import_onnxruntime()
        self.device = _onnx_device(device, ort.get_available_providers())
        providers: list[Any] = ["CPUExecutionProvider"]
        if self.device.type == "cuda":
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": self.device.index or 0}))
        try:
            self.session = ort.InferenceSession(str(source.path), providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types
            raise FverifyError(f"onnxruntime cannot load this model: {error}", where=str(source.path),
                               fix="check that the file is a complete ONNX model") from None
        graph_input = self.session.get_inputs()[0]
        self.input_name = graph_input.name
        graph_size = _static_size(graph_input.shape)
        preprocessing = flags.apply(Preprocessing(input_size=graph_size) if graph_size else Preprocessing())
        self.preprocessing = preprocessing
        self.input_size = preprocessing.input_size
        self.source = source
        self._mean = torch.tensor(preprocessing.mean).view(1, 3, 1, 1)
        self._std = torch.tensor(preprocessing.std).view(1, 3, 1, 1)

    def embed(self, faces: np.ndarray) -> np.ndarray:
        x = normalise_faces(torch.from_numpy(np.ascontiguousarray(faces)), self.preprocessing.color,
                            self._mean, self._std)
        try:
            (embeddings, *_) = self.session.run(None, {self.input_name: x.contiguous().numpy()})
        except Exception as error:  # onnxruntime raises its own exception types
            raise FverifyError(f"the ONNX model failed on a batch of shape {list(x.shape)}: {error}",
                               where=str(self.source.path),
                               fix="export with a dynamic batch axis, or check --input-size") from None
        return np.asarray(embeddings, dtype=np.float32).reshape(len(faces), -1)

    def describe(self) -> dict[str, Any]:
        return {
            "format": self.source.format,
            "path": str(self.source.path),
            "sha256": self.source.sha256,
            "arch": None,
            "embedding_dim": None,
            "preprocessing": self.preprocessing.to_dict(),
            "device": str(self.device),
            "dtype": "float32",
        }


def _onnx_device(device: str, available: list[str]) -> torch.device:
    """:func:`parse_device` with onnxruntime's CUDA provider: ``cuda`` needs it."""
    has_cuda = "CUDAExecutionProvider" in available
    resolved = parse_device(device, cuda_available=has_cuda)
    if resolved.type == "cuda" and not has_cuda:
        raise FverifyError("--device cuda with an ONNX model needs onnxruntime's CUDA provider",
                           fix="pip install onnxruntime-gpu, or use --device cpu")
    return resolved


def _static_size(shape: list[Any]) -> tuple[int, int] | None:
    """(height, width) of an NCHW input shape when both are fixed integers."""
    if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
        return (shape[2], shape[3])
    return None
