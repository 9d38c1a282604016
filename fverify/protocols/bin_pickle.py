"""The pickle inside an insightface ``.bin``, read so that the file can neither run code nor
make fverify allocate more than a small multiple of its own size.

A ``.bin`` holds bytes, lists, tuples, bools, ints and numpy bool (or integer) arrays. Guarding
``find_class`` alone is not enough: numpy's ``ndarray.__setstate__``, reached by BUILD, allocates
any shape of any dtype before looking at the data (an 84-byte file can ask for gigabytes, and an
object array with a short list crashes the process), and the C unpickler zero-fills its memo
table up to twice any index LONG_BINPUT names (8 bytes ask for gigabytes). The C unpickler
cannot be hooked there, so this module subclasses pickle's pure-Python unpickler
(``pickle._Unpickler``, the reference CPython checks the C one against) and bounds it:

- only the opcodes a ``.bin`` writer emits (protocols 0 to 5) are read; dicts, sets, floats,
  object creation, extension codes, persistent ids and out-of-band buffers are refused;
- a length field is checked against the bytes left in the file before anything is read;
- at most one opcode per :data:`BYTES_PER_OPCODE` bytes of file (plus :data:`OPCODE_ALLOWANCE`),
  so time and memory stay linear in the file's size;
- the only globals are numpy's array, dtype and scalar reconstruction and ``_codecs.encode``,
  each replaced by a stand-in that accepts only what numpy and pickle write for bool and
  integer data and charges the bytes it creates to a budget of the file's size;
- BUILD applies only to the arrays and dtypes those stand-ins made, once each.
"""
from __future__ import annotations

import math
import pickle
import pickletools
import struct
from pathlib import Path

import numpy as np

from fverify.errors import FverifyError

FIX = "use a .bin made by insightface or `fverify bin pack`"
# A .bin is mostly image bytes, a few opcodes per image: even 67-byte images (the smallest PNG)
# with Python 2's opcodes stay under one opcode per 4 bytes.
BYTES_PER_OPCODE = 4
OPCODE_ALLOWANCE = 4096
# numpy names dtypes in a pickle by these strings (``np.dtype(...).__reduce__``); a .bin's
# labels are bool, some writers' integer 0/1.
DTYPES = frozenset({"b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"})
OPCODES = frozenset(
    op[0] for op in (
        pickle.PROTO, pickle.FRAME, pickle.STOP, pickle.MARK, pickle.NONE, pickle.NEWTRUE,
        pickle.NEWFALSE, pickle.INT, pickle.BININT, pickle.BININT1, pickle.BININT2,
        pickle.LONG, pickle.LONG1, pickle.STRING, pickle.BINSTRING, pickle.SHORT_BINSTRING,
        pickle.UNICODE, pickle.BINUNICODE, pickle.SHORT_BINUNICODE, pickle.BINUNICODE8,
        pickle.BINBYTES, pickle.SHORT_BINBYTES, pickle.BINBYTES8, pickle.BYTEARRAY8, pickle.EMPTY_LIST,
        pickle.LIST, pickle.APPEND, pickle.APPENDS, pickle.EMPTY_TUPLE, pickle.TUPLE,
        pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3, pickle.GET, pickle.BINGET,
        pickle.LONG_BINGET, pickle.PUT, pickle.BINPUT, pickle.LONG_BINPUT, pickle.MEMOIZE,
        pickle.GLOBAL, pickle.STACK_GLOBAL, pickle.REDUCE, pickle.BUILD,
    ))
_OPCODE_NAMES = {ord(op.code): op.name for op in pickletools.opcodes}
# What the pure-Python unpickler raises on a malformed stream (struct.error: a short field).
_CORRUPT = (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, OverflowError, MemoryError, RecursionError, struct.error)


class NotABin(Exception):
    """Raised inside the unpickler for what a ``.bin`` cannot hold; :func:`load_pickle` turns
    it into an :class:`~fverify.errors.FverifyError` naming the file."""


def load_pickle(path: str | Path) -> object:
    """The object pickled in ``path``, within the limits above.

    Python-2 pickles hold image bytes as ``str``: as insightface does, a UnicodeDecodeError
    makes a second attempt with ``encoding="bytes"``; text that is invalid even then (a
    BINUNICODE string is UTF-8 whatever the encoding) is an error.
    """
    path = Path(path)
    try:
        return _load(path, encoding="ASCII")
    except UnicodeDecodeError:
        pass
    try:
        return _load(path, encoding="bytes")
    except UnicodeDecodeError as error:
        raise FverifyError(f"not a readable .bin (corrupt pickle: text that is not UTF-8: "
                           f"{error.reason} at byte {error.start} of a string)",
                           where=str(path), fix="download or copy the file again") from None


def _load(path: Path, encoding: str) -> object:
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(0)
            return _BinUnpickler(handle, size, encoding).load()
    except OSError as error:
        raise FverifyError(f"cannot read .bin: {error.strerror}", where=str(path),
                           fix="check the path") from None
    except NotABin as error:
        raise FverifyError(f"not a plain insightface .bin: {error}", where=str(path),
                           fix=FIX) from None
    except UnicodeDecodeError:
        raise  # the caller retries or reports it
    except _CORRUPT as error:
        reason = str(error) or type(error).__name__
        raise FverifyError(f"not a readable .bin (truncated or corrupt pickle: {reason})",
                           where=str(path), fix="download or copy the file again") from None


class _Budget:
    """What one file may still make the unpickler do: opcodes to run, bytes the stand-ins
    may create."""

    __slots__ = ("opcodes", "bytes")

    def __init__(self, size: int):
        self.opcodes = OPCODE_ALLOWANCE + size // BYTES_PER_OPCODE
        self.bytes = size

    def charge(self, nbytes: int, what: str) -> None:
        if nbytes > self.bytes:
            raise NotABin(f"{what} of {nbytes} bytes would exceed what the file holds")
        self.bytes -= nbytes


class _BoundedFile:
    """The file as the unpickler sees it: a read longer than the bytes left is refused before
    anything is allocated for it (a length field can claim up to 2**64 bytes)."""

    def __init__(self, handle, size: int):
        self._handle = handle
        self._left = size

    def read(self, n: int) -> bytes:
        if n > self._left:
            raise pickle.UnpicklingError(f"a length field asks for {n} bytes where "
                                         f"{self._left} remain")
        data = self._handle.read(n)
        self._left -= len(data)
        return data

    def readline(self) -> bytes:
        line = self._handle.readline()
        self._left -= len(line)
        return line


def _counted(load):
    def counted(unpickler: _BinUnpickler) -> None:
        budget = unpickler.budget
        budget.opcodes -= 1
        if budget.opcodes < 0:
            raise NotABin(f"more than one pickle opcode per {BYTES_PER_OPCODE} bytes")
        load(unpickler)
    return counted


def _build(unpickler: _BinUnpickler) -> None:
    """BUILD, on the arrays and dtypes the stand-ins made only: on anything else it would set
    attributes or call a ``__setstate__`` fverify does not control."""
    stack = unpickler.stack
    target = stack[-2] if len(stack) > 1 else None
    if not isinstance(target, (PickledArray, PickledDtype)):
        raise NotABin(f"BUILD on a {type(target).__name__}; only numpy arrays and dtypes are built")
    pickle._Unpickler.load_build(unpickler)


def _bytearray8(unpickler: _BinUnpickler) -> None:
    """BYTEARRAY8 (protocol 5 arrays' data), read before it is allocated: pickle's own loader
    zero-fills a bytearray of the claimed length first."""
    size, = struct.unpack("<Q", unpickler.read(8))
    data = unpickler.read(size)
    if len(data) != size:
        raise pickle.UnpicklingError("pickle data was truncated")
    unpickler.append(bytearray(data))


_OWN_LOADS = {pickle.BUILD[0]: _build, pickle.BYTEARRAY8[0]: _bytearray8}


class _Dispatch(dict):
    def __missing__(self, code: int):
        raise NotABin(f"pickle opcode {_OPCODE_NAMES.get(code, hex(code))} has no place in a .bin")


class _BinUnpickler(pickle._Unpickler):
    dispatch = _Dispatch({code: _counted(_OWN_LOADS.get(code) or pickle._Unpickler.dispatch[code])
                          for code in OPCODES})

    def __init__(self, handle, size: int, encoding: str):
        super().__init__(_BoundedFile(handle, size), encoding=encoding)
        self.budget = _Budget(size)
        self.globals = {key: stand_in(self.budget) for key, stand_in in _GLOBALS.items()}

    def find_class(self, module: str, name: str):
        try:
            return self.globals[(module, name)]
        except KeyError:
            raise NotABin(f"refusing to load {module}.{name} (a .bin may hold only bytes, lists, "
                          "tuples, bools, ints and numpy bool or integer arrays; fverify never "
                          "runs code from a file)") from None

    def persistent_load(self, pid):
        raise NotABin("a persistent id")


def _as_bytes(value) -> bytes | None:
    """Raw data as numpy pickles it: bytes, or under Python 2 a latin-1 ``str``."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            return None
    return None


def _as_text(value) -> str | None:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


class _StandIn:
    """A callable a ``.bin`` may name in place of a numpy or codecs global. Slots and no
    ``__setstate__``: nothing in the file can change it."""

    __slots__ = ("budget",)

    def __init__(self, budget: _Budget):
        self.budget = budget


class _ArrayType(_StandIn):
    """``numpy.ndarray``, which a ``.bin`` names only as ``_reconstruct``'s first argument; the
    class itself is never handed out (calling it would allocate any shape)."""

    __slots__ = ()


class _Reconstruct(_StandIn):
    """``numpy.core.multiarray._reconstruct``: numpy's ``ndarray.__reduce__`` always writes
    ``(ndarray, (0,), b'b')``; shape, dtype and data come with BUILD."""

    __slots__ = ()

    def __call__(self, subtype, shape, typecode) -> PickledArray:
        if not isinstance(subtype, _ArrayType) or shape != (0,) or _as_text(typecode) != "b":
            raise NotABin("numpy _reconstruct with arguments numpy never writes")
        return PickledArray(self.budget)


class _Dtype(_StandIn):
    """``numpy.dtype``, for the bool and integer types only."""

    __slots__ = ()

    def __call__(self, name, align=False, copy=False) -> PickledDtype:
        text = _as_text(name)
        if text not in DTYPES:
            shown = repr(text[:20]) if text is not None else f"a {type(name).__name__}"
            raise NotABin(f"numpy dtype {shown}; a .bin's labels are bool or integer")
        return PickledDtype(np.dtype(text))


class _Scalar(_StandIn):
    """``numpy.core.multiarray.scalar``: one bool or integer from its bytes."""

    __slots__ = ()

    def __call__(self, dtype, data=None):
        raw = _as_bytes(data)
        if not isinstance(dtype, PickledDtype) or raw is None or len(raw) != dtype.value.itemsize:
            raise NotABin("a numpy scalar that is not one bool or integer")
        return np.frombuffer(raw, dtype=dtype.value)[0]


class _Encode(_StandIn):
    """``_codecs.encode``, which pickles of bytes at protocol <= 2 call to rebuild bytes from
    latin-1 text; any other codec is refused."""

    __slots__ = ()

    def __call__(self, text, encoding="utf-8") -> bytes:
        codec = encoding.lower().replace("-", "").replace("_", "") if isinstance(encoding, str) else None
        if codec != "latin1" or not isinstance(text, str):
            shown = repr(encoding[:20]) if isinstance(encoding, str) else type(encoding).__name__
            raise NotABin(f"the pickle asks for codec {shown}; only latin-1 byte strings are "
                          "admitted")
        self.budget.charge(len(text), "a byte string")
        raw = _as_bytes(text)
        if raw is None:
            raise NotABin("a byte string with characters beyond latin-1")
        return raw


class PickledDtype:
    """A bool or integer dtype as numpy pickles it; BUILD sets its byte order, once."""

    __slots__ = ("value", "built")

    def __init__(self, value: np.dtype):
        self.value = value
        self.built = False

    def __setstate__(self, state) -> None:
        # numpy writes (3, byteorder, subarray, names, fields, elsize, alignment, flags), and
        # a ninth item, metadata, at version 4; sub-arrays and fields are not labels.
        if self.built:
            raise NotABin("a numpy dtype built twice")
        if (not isinstance(state, tuple) or len(state) not in (8, 9)
                or state[0] not in (3, 4) or any(v is not None for v in state[2:5] + state[8:])):
            raise NotABin("a numpy dtype state other than a plain bool or integer's")
        order = _as_text(state[1])
        if order not in ("<", ">", "|", "="):
            raise NotABin("a numpy dtype with an unknown byte order")
        self.value = self.value.newbyteorder(order) if order in "<>" else self.value
        self.built = True


class PickledArray:
    """A numpy array as a ``.bin`` pickles it, made from data bytes the file holds by BUILD
    (protocols 0 to 4) or by ``_frombuffer`` (protocol 5). ``array`` is None until then."""

    __slots__ = ("budget", "array")

    def __init__(self, budget: _Budget, array: np.ndarray | None = None):
        self.budget = budget
        self.array = array

    def __setstate__(self, state) -> None:
        # numpy writes (version 1, shape, dtype, is_fortran, data); old numpy left out version.
        if self.array is not None:
            raise NotABin("a numpy array built twice")
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4 or state[2] not in (True, False):
            raise NotABin("a numpy array state other than numpy writes")
        shape, dtype, fortran, data = state
        self.array = _array(self.budget, shape, dtype, "F" if fortran else "C", data)


def _array(budget: _Budget, shape, dtype, order: str, data) -> np.ndarray:
    """The array of ``shape`` and ``dtype`` in ``data``: its size is checked against the data
    the file gave before anything is allocated."""
    raw = bytes(data) if isinstance(data, bytearray) else _as_bytes(data)
    if (not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape)
            or not isinstance(dtype, PickledDtype) or raw is None):
        raise NotABin("a numpy array other than bool or integer data in bytes")
    needed = math.prod(shape) * dtype.value.itemsize
    if needed != len(raw):
        raise NotABin(f"a numpy array of shape {shape[:4]}{'...' if len(shape) > 4 else ''} "
                      f"and {needed} bytes holding {len(raw)} bytes of data")
    budget.charge(len(raw), "a numpy array")
    return np.frombuffer(raw, dtype=dtype.value).reshape(shape, order=order).copy(order="C")


class _FromBuffer(_StandIn):
    """``numpy.core.numeric._frombuffer``, which protocol 5 pickles of arrays call with the
    data (in-band), dtype, shape and order."""

    __slots__ = ()

    def __call__(self, data, dtype, shape, order) -> PickledArray:
        if not isinstance(data, (bytes, bytearray)) or _as_text(order) not in ("C", "F"):
            raise NotABin("numpy _frombuffer with arguments numpy never writes")
        return PickledArray(self.budget, _array(self.budget, shape, dtype, _as_text(order), data))


# The globals a .bin may name, under both numpy module paths (numpy 1 pickles name
# numpy.core, numpy 2 numpy._core).
_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _Reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _Reconstruct,
    ("numpy.core.multiarray", "scalar"): _Scalar,
    ("numpy._core.multiarray", "scalar"): _Scalar,
    ("numpy.core.numeric", "_frombuffer"): _FromBuffer,
    ("numpy._core.numeric", "_frombuffer"): _FromBuffer,
    ("numpy", "ndarray"): _ArrayType,
    ("numpy", "dtype"): _Dtype,
    ("_codecs", "encode"): _Encode,
}
