"""Seeded mutation fuzzing of fverify's file parsers: the one harness every parser's fuzz test
and the long campaign (``python -m tests.fuzz.campaign``) use.

Valid files are mutated at the byte level (bit flips, cuts, insertions, splices), at the line
level (drop, repeat, swap) and at the field level (a field replaced by a value that has broken
parsers: huge or non-ASCII numbers, ``..`` and absolute paths, invalid UTF-8, NUL, a field over
the csv module's 131,072-character limit). A parser passes when every mutant is either accepted
or refused with :class:`~fverify.errors.FverifyError`; anything else is a failure, and its
input is kept for replay.
"""
from __future__ import annotations

import random
import re
import struct
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import fverify
from fverify.errors import FverifyError

# Field values that have broken number, path and text handling somewhere.
TOKENS: tuple[bytes, ...] = (
    b"", b" ", b"0", b"1", b"-1", b"2", b"+1", b"01", b"1_0", b"1e3", b"0x10", b"\xc2\xb2",
    b"\xd9\xa3", b"\xef\xbc\x91", b"9" * 5000, str(2**63).encode(), str(2**64).encode(),
    str(-2**63 - 1).encode(), b"nan", b"inf", b"-inf", b"-1.797e308", b"1e309", b"4.9e-324",
    b"true", b"FALSE", b"yes", b"..", b"../../etc/passwd", b"/etc/passwd", b"a/../..", b"\\",
    b"\x00", b"\xff", b"\xed\xa0\x80", b"\xe2\x80\xa8", b"\r", b'"', b"'", b",", b"\t",
    b"a" * 140_000, b"x" * 300,
)
# Binary values for length and count fields: boundaries of 1, 2, 4 and 8-byte integers.
PACKED: tuple[bytes, ...] = tuple(
    struct.pack(fmt, value)
    for fmt, values in (("<B", (0, 1, 127, 255)), ("<H", (0xFFFF, 0x8000)),
                        ("<I", (0, 2**31 - 1, 2**31, 2**32 - 1, 2**24)),
                        ("<i", (-1, -2**31)), ("<Q", (2**63 - 1, 2**63, 2**64 - 1, 2**40)))
    for value in values)
_PACKAGE = Path(fverify.__file__).parent
_FIELD = re.compile(rb"[^\t\n\r, ]+")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of ``data``."""
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(_MUTATIONS)(data, rng)
    return data


def _flip_bits(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _random_byte(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]


def _cut(data: bytes, rng: random.Random) -> bytes:
    """Delete a slice (sometimes everything from a point: a truncated file)."""
    if not data:
        return data
    start = rng.randrange(len(data))
    end = len(data) if rng.random() < 0.3 else min(len(data), start + rng.randint(1, 64))
    return data[:start] + data[end:]


def _insert(data: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data) + 1)
    piece = rng.choice((rng.choice(TOKENS), rng.choice(PACKED), rng.randbytes(rng.randint(1, 16))))
    return data[:i] + piece + data[i:]


def _overwrite_packed(data: bytes, rng: random.Random) -> bytes:
    """Overwrite bytes with a boundary integer: where a length field was, it now lies."""
    piece = rng.choice(PACKED)
    i = rng.randrange(max(1, len(data) - len(piece) + 1))
    return data[:i] + piece + data[i + len(piece):]


def _splice(data: bytes, rng: random.Random) -> bytes:
    """Copy a slice of the file to another place in it."""
    if len(data) < 2:
        return data
    start = rng.randrange(len(data))
    piece = data[start:start + rng.randint(1, 256)]
    i = rng.randrange(len(data) + 1)
    return data[:i] + piece + data[i:]


def _lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    kind = rng.randrange(3)
    if kind == 0 and len(lines) > 1:
        del lines[i]
    elif kind == 1:
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def _field(data: bytes, rng: random.Random) -> bytes:
    """Replace one text field (between tabs, commas, spaces or line ends) by a token."""
    fields = list(_FIELD.finditer(data))
    if not fields:
        return _insert(data, rng)
    match = rng.choice(fields)
    return data[:match.start()] + rng.choice(TOKENS) + data[match.end():]


_MUTATIONS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    _flip_bits, _random_byte, _cut, _insert, _overwrite_packed, _splice, _lines, _field, _field,
)


@dataclass
class Target:
    """A parser under fuzz: ``prepare(workdir)`` writes what it needs (a data tree) and returns
    the valid files to mutate; ``parse(path, workdir)`` reads one file as a user's command
    would."""

    name: str
    suffix: str
    prepare: Callable[[Path], Sequence[bytes]]
    parse: Callable[[Path, Path], object]


@dataclass
class Failure:
    input: Path
    error: str  # exception type and message
    location: str  # innermost fverify frame: file:line in function

    def __str__(self) -> str:
        return f"{self.error} at {self.location} (input {self.input})"


@dataclass
class Report:
    target: str
    inputs: int = 0
    accepted: int = 0
    refused: int = 0
    failures: list[Failure] = field(default_factory=list)

    def distinct_failures(self) -> dict[tuple[str, str], Failure]:
        """The first failure of each (exception type, location)."""
        distinct: dict[tuple[str, str], Failure] = {}
        for failure in self.failures:
            distinct.setdefault((failure.error.split(":")[0], failure.location), failure)
        return distinct


def fuzz(target: Target, count: int, seed: int, workdir: Path) -> Report:
    """Parse ``count`` mutants of the target's valid files (mutant ``i`` is a function of
    ``seed`` and ``i`` only) and report what became of them."""
    workdir.mkdir(parents=True, exist_ok=True)
    valid = list(target.prepare(workdir))
    report = Report(target.name)
    path = workdir / f"input{target.suffix}"
    for index in range(count):
        rng = random.Random(f"{seed}:{target.name}:{index}")
        data = mutate(rng.choice(valid), rng)
        path.write_bytes(data)
        report.inputs += 1
        try:
            target.parse(path, workdir)
        except FverifyError:
            report.refused += 1
        except Exception as error:  # noqa: BLE001 - anything but FverifyError is the finding
            kept = workdir / "failures" / f"{target.name}-{index}{target.suffix}"
            kept.parent.mkdir(exist_ok=True)
            kept.write_bytes(data)
            report.failures.append(Failure(kept, f"{type(error).__name__}: {str(error)[:200]}",
                                           _location(error)))
        else:
            report.accepted += 1
    return report


def _location(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if Path(f.filename).is_relative_to(_PACKAGE)] or frames
    frame = own[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
