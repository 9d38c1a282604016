"""``--model``: turn a model file (or ``file.py:function``) into an :class:`Embedder`.

The format is read from the file's content, never from its name: a zip archive is a
``torch.save`` file or (with ``constants.pkl`` inside) TorchScript, a legacy ``torch.save``
file starts with a pickle opcode, and an ONNX file starts with its ``ir_version`` field.
"""
from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable

import torch

from fverify.errors import FverifyError
from fverify.models.checkpoint import (LEGACY_PICKLE_PROTO, ZIP_LOCAL_HEADER, load_checkpoint_file,
                                       truncated_error)
from fverify.models.embedder import Embedder, ModelSource, TorchEmbedder
from fverify.models.preprocessing import Preprocessing, PreprocessingFlags
from fverify.models.python_model import CallableEmbedder, import_callable, parse_python_spec

ONNX_IR_VERSION_TAG = 0x08  # protobuf tag of ModelProto field 1 (ir_version), varint


def load_embedder(model: str, *, arch: str | None = None, flags: PreprocessingFlags = PreprocessingFlags(),
                  device: str = "auto", dtype: str = "auto") -> Embedder:
    """The Embedder for ``model``: an fverify checkpoint, a bare state dict (with ``arch``),
    TorchScript, ONNX, or ``path/to/file.py:function``.

    ``flags`` override the model's preprocessing contract; ``device`` and ``dtype`` are
    ``auto`` or explicit (see :func:`fverify.models.dtype.resolve_dtype`).
    """
    python_spec = parse_python_spec(model)
    if python_spec is not None:
        return _load_python(*python_spec, arch=arch, flags=flags, device=device, dtype=dtype)
    path = Path(model)
    if not path.is_file():
        raise FverifyError("no such model file", where=str(path),
                           fix="pass a checkpoint, state dict, TorchScript or ONNX file, or file.py:function")
    return LOADERS[detect_format(path)](path, arch=arch, flags=flags, device=device, dtype=dtype)


def detect_format(path: Path) -> str:
    """``torch``, ``torchscript`` or ``onnx``, from the file's first bytes / zip directory."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(ZIP_LOCAL_HEADER))
            names = _zip_member_names(handle, path) if zipfile.is_zipfile(handle) else None
    except OSError as error:
        raise FverifyError(f"cannot read the model file: {error.strerror or error}", where=str(path),
                           fix="check that the file is readable by you (permissions) and not a folder") from None
    if names is not None:
        # torch's own test: a TorchScript archive holds <name>/constants.pkl.
        return "torchscript" if "constants.pkl" in names else "torch"
    if not head:
        raise FverifyError("the model file is empty (0 bytes)", where=str(path),
                           fix="copy or download it again")
    if head == ZIP_LOCAL_HEADER:  # a zip without its end, where the directory is: cut short
        raise truncated_error(path)
    if head[0] == LEGACY_PICKLE_PROTO:
        return "torch"
    if head[0] == ONNX_IR_VERSION_TAG:
        return "onnx"
    raise FverifyError("unrecognised model file (not torch.save, TorchScript or ONNX)", where=str(path),
                       fix="pass an fverify checkpoint, a state dict, TorchScript, ONNX, or file.py:function")


def _zip_member_names(handle: BinaryIO, path: Path) -> set[str]:
    """The member names of a zip archive without their first folder (``archive/data.pkl`` ->
    ``data.pkl``)."""
    try:
        with zipfile.ZipFile(handle) as archive:
            return {name.split("/", 1)[-1] for name in archive.namelist()}
    except Exception as error:  # noqa: BLE001 -- zipfile raises many types on a corrupt directory
        # (BadZipFile, UnicodeDecodeError, NotImplementedError, ...); each means the same here.
        raise FverifyError(f"corrupt zip archive: its directory cannot be read ({type(error).__name__}: "
                           f"{error})", where=str(path),
                           fix="copy or download the file again; re-save it with torch.save") from None


def _load_torch(path: Path, *, arch: str | None, flags: PreprocessingFlags, device: str, dtype: str) -> Embedder:
    loaded = load_checkpoint_file(path, arch)
    contract = loaded.preprocessing
    source = ModelSource.of_file("state-dict" if contract is None else "fverify-checkpoint", path)
    return TorchEmbedder(loaded.module, flags.apply(contract or Preprocessing()), source, arch=loaded.arch,
                         embedding_dim=loaded.embedding_dim, device=device, dtype=dtype,
                         training=loaded.training)


def _load_torchscript(path: Path, *, arch: str | None, flags: PreprocessingFlags, device: str,
                      dtype: str) -> Embedder:
    _refuse_arch(arch, "TorchScript")
    try:
        with warnings.catch_warnings():
            # torch >= 2.10 deprecates TorchScript in favour of torch.export; files made
            # with it are still what many users have, and load the same.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location="cpu")
    except RuntimeError as error:
        raise FverifyError(f"cannot load TorchScript: {str(error).strip().splitlines()[0]}",
                           where=str(path), fix="re-export it with torch.jit.save") from None
    return TorchEmbedder(module, flags.apply(Preprocessing()), ModelSource.of_file("torchscript", path),
                         device=device, dtype=dtype)


def _load_onnx(path: Path, *, arch: str | None, flags: PreprocessingFlags, device: str, dtype: str) -> Embedder:
    from fverify.models.onnx import OnnxEmbedder

    _refuse_arch(arch, "ONNX")
    if dtype not in ("auto", "float32"):
        raise FverifyError(f"ONNX models run in the graph's own precision; --dtype {dtype} does not apply",
                           fix="drop --dtype (export a half-precision graph to run one)")
    return OnnxEmbedder(ModelSource.of_file("onnx", path), flags, device=device)


def _load_python(path: Path, name: str, *, arch: str | None, flags: PreprocessingFlags, device: str,
                 dtype: str) -> Embedder:
    _refuse_arch(arch, "a Python callable")
    ignored = [f"--{flag}" for flag in ("color", "mean", "std") if getattr(flags, flag) is not None]
    ignored += [f"--{flag}" for flag, value in (("device", device), ("dtype", dtype)) if value != "auto"]
    if ignored:
        raise FverifyError(f"{', '.join(ignored)} do not apply to a Python callable: it gets uint8 RGB faces "
                           "and does its own preprocessing, device and precision",
                           fix=f"drop {', '.join(ignored)}")
    function = import_callable(path, name)
    return CallableEmbedder(function, ModelSource.of_file("python", path), name,
                            input_size=flags.input_size or Preprocessing().input_size)


def _refuse_arch(arch: str | None, what: str) -> None:
    if arch is not None:
        raise FverifyError(f"--arch applies to bare state dicts, not to {what}", fix="drop --arch")


LOADERS: dict[str, Callable[..., Embedder]] = {
    "torch": _load_torch,
    "torchscript": _load_torchscript,
    "onnx": _load_onnx,
}
