"""Read the MTCNN weight files the ``mtcnn`` package ships, without running pickled code.

The files (``mtcnn/assets/weights/{pnet,rnet,onet}.lz4``) are lz4 frames holding a joblib
pickle: a list of ``joblib.numpy_pickle.NumpyArrayWrapper`` records, each followed in the
stream by one padding-length byte, that many padding bytes and the raw little-endian float32
array. The arrays are in Keras ``set_weights`` order (HWIO conv kernels, (in, out) dense
kernels). The ``mtcnn`` package's modules import TensorFlow, so the files are found through
package metadata and read here by a small interpreter of exactly the pickle opcodes they use:
it admits three globals (the wrapper, ``numpy.ndarray``, ``numpy.dtype``), float32 dtypes only,
and bounds every array by the bytes actually left in the file.
"""
from __future__ import annotations

import importlib.metadata
import struct
from pathlib import Path

import numpy as np

from fverify.errors import FverifyError, at
from fverify.hashing import file_digest

NETWORKS = ("pnet", "rnet", "onet")

_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_ALLOWED_GLOBALS = {_WRAPPER, ("numpy", "ndarray"), ("numpy", "dtype")}
_FLOAT32_DTYPE_ARGS = ("f4", False, True)
_MARK = object()


class _Global:
    def __init__(self, module: str, name: str):
        self.key = (module, name)


class _Float32Dtype:
    """``numpy.dtype('f4')``; its BUILD state must say little-endian."""


class _Wrapper:
    """A ``NumpyArrayWrapper`` whose state arrives by BUILD; then its array follows."""


def weight_file(network: str) -> Path:
    """Path of ``<network>.lz4`` inside the installed ``mtcnn`` distribution (not imported)."""
    try:
        dist = importlib.metadata.distribution("mtcnn")
    except importlib.metadata.PackageNotFoundError:
        raise FverifyError("the MTCNN weights are not installed (package 'mtcnn' is missing)",
                           fix="pip install 'fverify[align]' (TensorFlow is not needed)") from None
    wanted = f"mtcnn/assets/weights/{network}.lz4"
    for file in dist.files or ():
        if str(file).replace("\\", "/") == wanted:
            return Path(dist.locate_file(file))
    raise FverifyError(f"the installed 'mtcnn' {dist.version} has no {wanted}",
                       fix="pip install --force-reinstall --no-deps 'mtcnn>=1.0'")


def load_network_weights(network: str) -> list[np.ndarray]:
    """The float32 arrays of one MTCNN network (``pnet``, ``rnet`` or ``onet``), Keras order."""
    if network not in NETWORKS:
        raise FverifyError(f"unknown MTCNN network {network!r}", fix=f"use one of {NETWORKS}")
    return read_weight_file(weight_file(network))


def read_weight_file(path: str | Path) -> list[np.ndarray]:
    """Decompress and decode one weight file; any content outside the expected form is refused."""
    import lz4.frame

    path = Path(path)
    try:
        payload = lz4.frame.decompress(path.read_bytes())
    except OSError as exc:
        raise FverifyError(f"cannot read MTCNN weights: {exc}", where=at(path)) from None
    except RuntimeError as exc:
        raise FverifyError(f"not an lz4 frame: {exc}", where=at(path),
                           fix="reinstall the 'mtcnn' package") from None
    try:
        result = _Interpreter(payload).run()
    except (IndexError, struct.error, ValueError, KeyError, TypeError) as exc:
        raise FverifyError(f"not an MTCNN weight pickle: {exc}", where=at(path),
                           fix="reinstall the 'mtcnn' package") from None
    if not isinstance(result, list) or not all(isinstance(a, np.ndarray) for a in result):
        raise FverifyError("the pickle does not hold a list of arrays", where=at(path))
    return result


class _Interpreter:
    """Runs the pickle opcodes these files use; everything else raises ``ValueError``."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.stack: list = []
        self.memo: dict[int, object] = {}

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated at byte {self.pos} (wanted {n} more)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def pop_mark(self) -> list:
        items = []
        while (item := self.stack.pop()) is not _MARK:
            items.append(item)
        return items[::-1]

    def run(self):
        ops = {
            0x80: lambda: self.take(1),                          # PROTO
            0x95: lambda: self.take(8),                          # FRAME (framing is transparent)
            0x5D: lambda: self.stack.append([]),                 # EMPTY_LIST
            0x7D: lambda: self.stack.append({}),                 # EMPTY_DICT
            0x29: lambda: self.stack.append(()),                 # EMPTY_TUPLE
            0x94: lambda: self.memo.__setitem__(len(self.memo), self.stack[-1]),  # MEMOIZE
            0x28: lambda: self.stack.append(_MARK),              # MARK
            0x8C: lambda: self.stack.append(self.take(self.take(1)[0]).decode()),  # SHORT_BINUNICODE
            0x58: lambda: self.stack.append(self.take(struct.unpack("<I", self.take(4))[0]).decode()),
            0x4B: lambda: self.stack.append(self.take(1)[0]),    # BININT1
            0x4D: lambda: self.stack.append(struct.unpack("<H", self.take(2))[0]),  # BININT2
            0x4A: lambda: self.stack.append(struct.unpack("<i", self.take(4))[0]),  # BININT
            0x4E: lambda: self.stack.append(None),               # NONE
            0x88: lambda: self.stack.append(True),               # NEWTRUE
            0x89: lambda: self.stack.append(False),              # NEWFALSE
            0x74: lambda: self.stack.append(tuple(self.pop_mark())),  # TUPLE
            0x85: lambda: self.stack.append((self.stack.pop(),)),     # TUPLE1
            0x86: lambda: self.stack.append(tuple(self.popn(2))),     # TUPLE2
            0x87: lambda: self.stack.append(tuple(self.popn(3))),     # TUPLE3
            0x68: lambda: self.stack.append(self.memo[self.take(1)[0]]),  # BINGET
            0x6A: lambda: self.stack.append(self.memo[struct.unpack("<I", self.take(4))[0]]),
            0x93: self.stack_global,
            0x81: self.newobj,
            0x52: self.reduce,
            0x62: self.build,
            0x75: self.setitems,
            0x65: self.appends,
            0x61: self.append,
        }
        while True:
            opcode = self.take(1)[0]
            if opcode == 0x2E:                                   # STOP
                if len(self.stack) != 1 or self.pos != len(self.data):
                    raise ValueError("trailing data after STOP")
                return self.stack[0]
            if opcode not in ops:
                raise ValueError(f"opcode 0x{opcode:02x} at byte {self.pos - 1} is not admitted")
            ops[opcode]()

    def popn(self, n: int) -> list:
        items = self.stack[-n:]
        del self.stack[-n:]
        if len(items) != n or _MARK in items:
            raise ValueError("stack underflow")
        return items

    def stack_global(self) -> None:
        module, name = self.popn(2)
        if (module, name) not in _ALLOWED_GLOBALS:
            raise ValueError(f"global {module}.{name} is not admitted")
        self.stack.append(_Global(module, name))

    def newobj(self) -> None:
        cls, args = self.popn(2)
        if not (isinstance(cls, _Global) and cls.key == _WRAPPER and args == ()):
            raise ValueError("only NumpyArrayWrapper() may be constructed")
        self.stack.append(_Wrapper())

    def reduce(self) -> None:
        func, args = self.popn(2)
        if not (isinstance(func, _Global) and func.key == ("numpy", "dtype")
                and args == _FLOAT32_DTYPE_ARGS):
            raise ValueError(f"only numpy.dtype{_FLOAT32_DTYPE_ARGS} may be called, not {args}")
        self.stack.append(_Float32Dtype())

    def setitems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if not isinstance(target, dict) or len(items) % 2:
            raise ValueError("SETITEMS needs a dict and key/value pairs")
        target.update(zip(items[::2], items[1::2]))

    def appends(self) -> None:
        items = self.pop_mark()
        if not isinstance(self.stack[-1], list):
            raise ValueError("APPENDS needs a list")
        self.stack[-1].extend(items)

    def append(self) -> None:
        item = self.stack.pop()
        if not isinstance(self.stack[-1], list):
            raise ValueError("APPEND needs a list")
        self.stack[-1].append(item)

    def build(self) -> None:
        state = self.stack.pop()
        target = self.stack[-1]
        if isinstance(target, _Float32Dtype):
            # (version, byteorder, subarray, names, fields, elsize, alignment, flags)
            if not (isinstance(state, tuple) and len(state) >= 2 and state[1] in ("<", "|")):
                raise ValueError(f"dtype state {state!r} is not little-endian float32")
            return
        if not isinstance(target, _Wrapper):
            raise ValueError("BUILD on an object that is not admitted")
        self.stack[-1] = self.read_array(state)

    def read_array(self, state: dict) -> np.ndarray:
        if not isinstance(state, dict):
            raise ValueError("array wrapper state is not a dict")
        shape, dtype = state.get("shape"), state.get("dtype")
        subclass = state.get("subclass")
        if not (isinstance(subclass, _Global) and subclass.key == ("numpy", "ndarray")):
            raise ValueError("only plain numpy.ndarray arrays are admitted")
        if not isinstance(dtype, _Float32Dtype) or state.get("order") != "C":
            raise ValueError("only C-ordered float32 arrays are admitted")
        if not (isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape)):
            raise ValueError(f"bad array shape {shape!r}")
        count = 1
        for dim in shape:
            count *= dim
            # The bound: an array can never be larger than the bytes the file still holds.
            if count * 4 > len(self.data) - self.pos:
                raise ValueError(f"array of shape {shape} is larger than the file")
        if state.get("numpy_array_alignment_bytes") is not None:
            self.take(self.take(1)[0])
        return np.frombuffer(self.take(count * 4), dtype="<f4").reshape(shape).copy()


def weights_sha256() -> dict[str, str]:
    """SHA-256 of each network's weight file: recorded with alignments and part of their cache
    keys, so crops made with other weights are never taken for these."""
    return {network: file_digest(weight_file(network), "sha256") for network in NETWORKS}
