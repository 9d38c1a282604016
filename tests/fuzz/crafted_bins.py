"""Hand-made hostile ``.bin`` pickles, each with the reason fverify must refuse it for.

``tests/protocols/test_bin_pickle.py`` checks every refusal. Run as a script, this measures
each one in a fresh process (wall time and peak memory above the process after import), and for
scale the read of a legitimate 12,000-image ``.bin`` against Python's C unpickler, for
whichever fverify is importable:

    python -m tests.fuzz.crafted_bins                         # this checkout
    PYTHONPATH=/path/to/other/checkout python -m tests.fuzz.crafted_bins
"""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path


def text(value: str) -> bytes:
    """BINUNICODE ``value``."""
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def name(module: str, attribute: str) -> bytes:
    """GLOBAL ``module.attribute``."""
    return b"c" + module.encode() + b"\n" + attribute.encode() + b"\n"


def integer(value: int) -> bytes:
    """BININT ``value`` (32-bit signed)."""
    return b"J" + struct.pack("<i", value)


EMPTY_ARRAY = (name("numpy.core.multiarray", "_reconstruct") + name("numpy", "ndarray")
               + integer(0) + b"\x85" + text("b") + b"\x87R")  # _reconstruct(ndarray, (0,), 'b')


def dtype(code: str, subarray: bytes = b"N", flags: int = 0) -> bytes:
    """numpy.dtype(code) built with numpy's state (byte order '|'; flags 63 for objects)."""
    return (name("numpy", "dtype") + text(code) + b"\x89\x88\x87R"
            + b"(" + integer(3) + text("|") + subarray + b"NN" + integer(-1) + integer(-1)
            + integer(flags) + b"tb")


def array(shape: int, code: str, data: bytes, flags: int = 0) -> bytes:
    """An array of ``shape`` elements of dtype ``code`` built from ``data`` (BUILD)."""
    return (EMPTY_ARRAY + b"(" + integer(1) + integer(shape) + b"\x85" + dtype(code, flags=flags)
            + b"\x89" + data + b"tb")


def binbytes(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data


def as_bin(labels: bytes) -> bytes:
    """A protocol-2 ``(images, labels)`` pickle whose labels are the given pickle fragment."""
    return (b"\x80\x02](" + binbytes(b"\xff\xd8\xff\xe0") + binbytes(b"\xff\xd8\xff\xe0") + b"e"
            + labels + b"\x86.")


# name -> (file content, regex the refusal message must match)
CRAFTED: dict[str, tuple[bytes, str]] = {
    # numpy's ndarray.__setstate__ allocates 2**28 object slots (2 GB), then crashes on the
    # empty list
    "object_array": (as_bin(array(2**28, "O8", b"]", flags=63)), r"numpy dtype 'O8'"),
    "bool_array_larger_than_its_data": (
        as_bin(array(2**31 - 1, "b1", binbytes(b"\x01"))),
        r"shape \(2147483647,\) and 2147483647 bytes holding 1 bytes"),
    "reconstruct_with_a_shape": (
        as_bin(name("numpy.core.multiarray", "_reconstruct") + name("numpy", "ndarray")
               + integer(2**28) + b"\x85" + text("O") + b"\x87R"),
        r"_reconstruct with arguments numpy never writes"),
    "subarray_dtype": (
        as_bin(EMPTY_ARRAY + b"(" + integer(1) + integer(1) + b"\x85"
               + dtype("b1", subarray=dtype("b1") + b"(" + integer(2**30) + b"t\x86")
               + b"\x89" + binbytes(b"\x01") + b"tb"),
        r"numpy dtype state other than a plain bool or integer's"),
    # the C unpickler zero-fills its memo table up to twice this index: 1 GB from 8 bytes
    "memo_index": (b"\x80\x04Nr" + struct.pack("<I", 2**26) + b".", r"found a NoneType"),
    "binbytes8_of_2_63": (b"\x80\x04\x8e" + struct.pack("<Q", 2**63) + b".",
                          r"BINBYTES8 exceeds system's maximum size"),
    "binunicode8_of_2_40": (b"\x80\x04\x8d" + struct.pack("<Q", 2**40) + b"abc.",
                            r"a length field asks for 1099511627776 bytes where 4 remain"),
    "bytearray8": (b"\x80\x05\x96" + struct.pack("<Q", 2**40) + b"abc.",
                   r"a length field asks for 1099511627776 bytes where 4 remain"),
    "binunicode_not_utf8": (b"\x80\x04X\x02\x00\x00\x00\xff\xfe.", r"text that is not UTF-8"),
    "global_not_utf8": (b"\x80\x02cnumpy\xff\ndtype\n.", r"text that is not UTF-8"),
    "build_on_a_list": (b"\x80\x02]Nb.", r"BUILD on a list"),
    "build_on_a_stand_in": (b"\x80\x02" + name("_codecs", "encode") + b")b.",
                            r"BUILD on a _Encode"),
    "array_built_twice": (
        as_bin(EMPTY_ARRAY + b"(" + integer(1) + integer(1) + b"\x85" + dtype("b1") + b"\x89"
               + binbytes(b"\x01") + b"tq\x07bh\x07b"),
        r"a numpy array built twice"),
    "ndarray_newobj": (b"\x80\x02" + name("numpy", "ndarray") + integer(2**28) + b"\x85\x81.",
                       r"pickle opcode NEWOBJ has no place"),
    "builtins_eval": (b"\x80\x02" + name("builtins", "eval") + text("print(1)") + b"\x85R.",
                      r"refusing to load builtins.eval"),
    # each opcode makes an object: a flood of them is refused at one opcode per 4 bytes
    "empty_list_flood": (b"\x80\x02" + b"]" * 200_000 + b".", r"more than one pickle opcode per 4 bytes"),
    "mark_flood": (b"\x80\x02" + b"(" * 200_000 + b".", r"more than one pickle opcode per 4 bytes"),
    # _codecs.encode called again and again on one memoized 64 KB string
    "encode_repeated": (
        b"\x80\x02" + name("_codecs", "encode") + b"q\x00" + text("x" * 65536) + text("latin1")
        + b"\x86q\x01R" + b"h\x00h\x01R" * 1000 + b".",
        r"a byte string of 65536 bytes would exceed what the file holds"),
    "int_of_5000_digits": (b"I" + b"9" * 5000 + b"\n.", r"not a readable .bin \(truncated or corrupt pickle: .*digits"),
}


_MEASURE = """
import resource, sys, time
from fverify.errors import FverifyError
from fverify.protocols.insightface_bin import read_bin
def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
before = peak_kb()
start = time.perf_counter()
try:
    read_bin(sys.argv[1])
    outcome = "accepted"
except FverifyError as error:
    outcome = "FverifyError"
except BaseException as error:
    outcome = type(error).__name__
print(outcome, time.perf_counter() - start, (peak_kb() - before) / 1024)
"""


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for case, (content, _) in CRAFTED.items():
            path = Path(folder) / f"{case}.bin"
            path.write_bytes(content)
            done = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, cwd=folder,
                                  text=True, timeout=600)
            fields = done.stdout.split()
            if done.returncode or len(fields) != 3:
                rows.append({"case": case, "bytes": len(content), "outcome": f"exit {done.returncode}",
                             "seconds": None, "peak_mb": None})
                continue
            rows.append({"case": case, "bytes": len(content), "outcome": fields[0],
                         "seconds": round(float(fields[1]), 4), "peak_mb": round(float(fields[2]), 1)})
    for row in rows:
        print(json.dumps(row))
    print(json.dumps(_legitimate_read()))


def _legitimate_read() -> dict:
    """Seconds to read a 12,000-image .bin (3-8 KB JPEG-headed images, protocol 4) with
    fverify's reader and with ``pickle.load``, best of 3 each."""
    import pickle
    import time

    import numpy as np

    from fverify.protocols.insightface_bin import read_bin
    rng = np.random.default_rng(0)
    images = [b"\xff\xd8\xff" + rng.bytes(int(rng.integers(3000, 8000))) for _ in range(12000)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "legit.bin"
        path.write_bytes(pickle.dumps((images, [True, False] * 3000), protocol=4))
        timings = {}
        for name, read in (("read_bin", read_bin), ("pickle.load", lambda p: pickle.loads(p.read_bytes()))):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                read(path)
                best = min(best, time.perf_counter() - start)
            timings[name] = round(best, 3)
        return {"legitimate_bin_mb": round(path.stat().st_size / 1e6, 1), "seconds": timings}


if __name__ == "__main__":
    main()
