"""``--model path/to/file.py:function``: any Python callable as the model.

The callable receives aligned faces as uint8 ``(N, H, W, 3)`` RGB numpy arrays and returns
``(N, d)`` embeddings (numpy, or anything ``np.asarray`` takes, torch tensors included), so
models from any framework can be evaluated. The file is the user's own code and is imported
(run) for that purpose; it does its own preprocessing. Its embeddings are never cached:
fverify cannot know what else (weights, other modules) the callable depends on.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

from fverify.errors import FverifyError
from fverify.models.embedder import Embedder, ModelSource

_SPEC = re.compile(r"^(?P<path>.+\.py):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


def parse_python_spec(model: str) -> tuple[Path, str] | None:
    """``"dir/file.py:function"`` -> (path, function name); None for any other model string."""
    match = _SPEC.match(model)
    return (Path(match["path"]), match["name"]) if match else None


def import_callable(path: Path, name: str) -> Callable[[np.ndarray], Any]:
    """Import ``path`` as a fresh module and return its attribute ``name``, which must be callable."""
    if not path.is_file():
        raise FverifyError("no such Python file", where=str(path), fix="check the path before ':'")
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise FverifyError(f"cannot read the Python file: {error.strerror or error}", where=str(path),
                           fix="check that it is readable by you (permissions)") from None
    module_name = f"fverify_user_model_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None  # a .py file always has a source loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling inside user code need this
    spec.loader.exec_module(module)
    function = getattr(module, name, None)
    if not callable(function):
        raise FverifyError(f"{name!r} is not a callable defined in this file", where=str(path),
                           fix="name a function (or callable object) defined at the file's top level")
    return function


class CallableEmbedder(Embedder):
    """A Python callable: uint8 ``(N, H, W, 3)`` RGB faces -> ``(N, d)`` embeddings."""

    def __init__(self, function: Callable[[np.ndarray], Any], source: ModelSource, name: str,
                 input_size: tuple[int, int] = (112, 112)):
        self.function = function
        self.source = source
        self.name = name
        self.input_size = input_size

    def embed(self, faces: np.ndarray) -> np.ndarray:
        result = self.function(faces)
        if hasattr(result, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
            result = result.detach().cpu().numpy()
        embeddings = np.asarray(result, dtype=np.float32)
        if embeddings.ndim != 2 or len(embeddings) != len(faces):
            raise FverifyError(
                f"{self.name} returned shape {embeddings.shape} for {len(faces)} faces",
                where=str(self.source.path), fix="return one embedding row per face: shape (N, d)",
            )
        if not np.isfinite(embeddings).all():
            raise FverifyError(f"{self.name} returned NaN or infinite embeddings", where=str(self.source.path),
                               fix="check the model's weights and its preprocessing")
        return embeddings

    def describe(self) -> dict[str, Any]:
        return {
            "format": self.source.format,
            "path": f"{self.source.path}:{self.name}",
            "sha256": self.source.sha256,
            "arch": None,
            "embedding_dim": None,
            "preprocessing": {"input_size": list(self.input_size), "color": "RGB", "mean": None, "std": None},
            "device": None,
            "dtype": None,
        }

    def cache_identity(self) -> None:
        return None
