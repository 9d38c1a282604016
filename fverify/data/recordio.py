"""insightface's MXNet RecordIO training files (``train.rec`` + ``train.idx``), read without mxnet.

Format (dmlc-core ``include/dmlc/recordio.h``, mxnet ``python/mxnet/recordio.py``, insightface
``src/data/face2rec2.py``), all integers little-endian:

- ``.idx``: a text file, one line ``key<TAB>byte offset`` per record.
- ``.rec``: records, each ``magic (uint32 0xced7230a) | lrec (uint32) | data | zero padding to a
  multiple of 4 bytes``. ``lrec``'s upper 3 bits are a continuation flag, its lower 29 bits the
  data length. A payload in which the magic number occurs at a 4-aligned position is split
  there into parts (flag 1 = first, 2 = middle, 3 = last; 0 = a whole record); the reader
  joins the parts with the magic number between them.
- a record's data is an image record: ``IRHeader`` (flag uint32, label float32, id uint64,
  id2 uint64), then, when flag > 0, a list of ``flag`` float32 labels (the scalar label is then
  unused), then the encoded image (JPEG in faces_webface_112x112 / faces_emore).
- insightface's files start with a header record (key 0, no image): labels ``[a, b]``, where
  keys ``1 .. a-1`` are images and keys ``a .. b-1`` are identity records, one per identity in
  label order, each with labels ``[start, end)``: the image keys of that identity.

:func:`write_training_recordio` writes this layout (e.g. to pack an aligned image folder).

Everything read from the file is checked before it is trusted: a bad magic number, a record
running past the end of the file, a length beyond ``max_record_bytes`` or a label list longer
than its record is an :class:`FverifyError` naming the file, the record key and the byte offset,
and no length field can make the reader allocate more than ``max_record_bytes``.
"""
from __future__ import annotations

import math
import os
import struct
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fverify.atomic import atomic_open
from fverify.errors import FverifyError, at

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_BITS = 29
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1
# Continuation flags of a record part (dmlc-core): a whole record, or first/middle/last part.
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3
_IR_HEADER = struct.Struct("<IfQQ")
# A 112x112 face JPEG is ~6 KiB; 64 MiB leaves room for any real image, yet a corrupt length
# field cannot make a DataLoader worker allocate gigabytes.
DEFAULT_MAX_RECORD_BYTES = 64 << 20


@dataclass(frozen=True)
class ImageRecord:
    """One unpacked image record: ``labels`` is the label list when ``flag`` > 0, else the
    one scalar label; ``image`` the encoded image bytes (empty for header/identity records)."""

    flag: int
    labels: tuple[float, ...]
    id: int
    id2: int
    image: bytes


def unpack_image_record(data: bytes, where: str) -> ImageRecord:
    """Split a record's data into its ``IRHeader``, label list and image bytes."""
    if len(data) < _IR_HEADER.size:
        raise FverifyError(f"record of {len(data)} bytes is shorter than the {_IR_HEADER.size}-byte "
                           "image header (flag, label, id, id2)", where=where,
                           fix="the file is corrupt: re-download or re-pack it")
    flag, label, record_id, id2 = _IR_HEADER.unpack_from(data)
    if flag == 0:
        return ImageRecord(0, (float(label),), record_id, id2, data[_IR_HEADER.size:])
    end = _IR_HEADER.size + 4 * flag
    if end > len(data):
        raise FverifyError(f"the header announces {flag} labels ({4 * flag} bytes) but the record "
                           f"holds only {len(data) - _IR_HEADER.size} bytes after its header",
                           where=where, fix="the file is corrupt: re-download or re-pack it")
    labels = np.frombuffer(data, dtype="<f4", count=flag, offset=_IR_HEADER.size)
    return ImageRecord(flag, tuple(float(v) for v in labels), record_id, id2, data[end:])


def read_index(idx_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse a ``.idx`` file into ``(keys, offsets)`` (int64, in file order); a malformed line
    or a repeated key is an error naming ``file:line``."""
    path = Path(idx_path)
    try:
        # numpy's C parser: ~1 s for faces_emore's 5.8 million lines, where a Python loop takes
        # several; anything it refuses goes through the loop, which names the line at fault.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an empty file is an empty index
            table = np.loadtxt(path, dtype=np.int64, delimiter="\t", ndmin=2, encoding="ascii",
                               comments=None)
        if table.shape[1] != 2:
            raise ValueError("not two columns")
        keys, offsets = table[:, 0].copy(), table[:, 1].copy()
    except (ValueError, UnicodeDecodeError):
        keys, offsets = _read_index_lines(path)
    except OSError as error:
        raise FverifyError(f"cannot read the RecordIO index: {error.strerror}", where=str(path),
                           fix="give the train.idx written with train.rec") from None
    bad = np.flatnonzero(offsets < 0)
    if bad.size:
        raise FverifyError(f"negative byte offset {int(offsets[bad[0]])}", where=_line_of(path, bad[0]),
                           fix="the index is corrupt: re-download it")
    order = np.argsort(keys, kind="stable")
    repeated = np.flatnonzero(np.diff(keys[order]) == 0)
    if repeated.size:
        first = int(order[repeated[0]])
        raise FverifyError(f"key {int(keys[first])} appears more than once", where=_line_of(path, first),
                           fix="the index is corrupt: re-download it")
    return keys, offsets


def _read_index_lines(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise FverifyError(f"cannot read the RecordIO index: {error}", where=str(path),
                           fix="give the train.idx written with train.rec") from None
    keys, offsets = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            key, offset = (int(field) for field in line.split("\t"))
        except ValueError:
            raise FverifyError(f"expected 'key<TAB>offset' (two integers), got {line[:60]!r}",
                               where=at(path, number), fix="give the train.idx written with "
                               "train.rec; mxnet writes it beside the .rec") from None
        keys.append(key)
        offsets.append(offset)
    return np.array(keys, dtype=np.int64), np.array(offsets, dtype=np.int64)


def _line_of(path: Path, entry: int) -> str:
    """``file:line`` of the ``entry``-th (0-based) non-blank line, for an error message."""
    count = -1
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        count += bool(line.strip())
        if count == entry:
            return at(path, number)
    return str(path)


class IndexedRecordFile:
    """Random access to the records of a ``.rec`` file through its ``.idx``.

    The file is opened on first use in each process (and reopened after a fork), so one object
    can be handed to DataLoader workers. Reads use ``os.pread`` (no shared file position).
    """

    def __init__(self, rec_path: str | Path, idx_path: str | Path | None = None, *,
                 max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES):
        self.rec_path = Path(rec_path)
        self.idx_path = Path(idx_path) if idx_path is not None else self.rec_path.with_suffix(".idx")
        self.max_record_bytes = max_record_bytes
        if not self.rec_path.is_file():
            raise FverifyError("RecordIO file not found", where=str(self.rec_path),
                               fix="give the path of train.rec (train.idx beside it)")
        if not self.idx_path.is_file():
            raise FverifyError(f"RecordIO index not found beside {self.rec_path.name}",
                               where=str(self.idx_path),
                               fix="put the train.idx that came with the .rec beside it")
        self.size = self.rec_path.stat().st_size
        self.keys, self.offsets = read_index(self.idx_path)
        # Sorted keys and their rows, not a dict: a dict of millions of ints would be copied
        # into every forked DataLoader worker as reference counts change.
        self._order = np.argsort(self.keys, kind="stable")
        self._sorted_keys = self.keys[self._order]
        beyond = np.flatnonzero(self.offsets + 8 > self.size)
        if beyond.size:
            i = int(beyond[0])
            raise FverifyError(
                f"{beyond.size} index entries point past the end of {self.rec_path.name} "
                f"({self.size} bytes), first: key {int(self.keys[i])} at offset {int(self.offsets[i])}",
                where=at(self.idx_path, i + 1), fix="the .rec is truncated or belongs to another "
                "index: re-download both files")
        self._fd: int | None = None
        self._pid: int | None = None

    def _row(self, key: int) -> int | None:
        """Row of ``key`` in the index, or None."""
        i = int(np.searchsorted(self._sorted_keys, key))
        return int(self._order[i]) if i < len(self._sorted_keys) and self._sorted_keys[i] == key else None

    def __contains__(self, key: int) -> bool:
        return self._row(key) is not None

    def __len__(self) -> int:
        return len(self.keys)

    def where(self, key: int) -> str:
        """``train.rec[key K @ offset O]``, for messages."""
        row = self._row(key)
        offset = self.offsets[row] if row is not None else "?"
        return f"{self.rec_path}[key {int(key)} @ offset {offset}]"

    def read(self, key: int) -> bytes:
        """The data of record ``key`` (parts joined), checked against the file's size and
        ``max_record_bytes`` before anything is allocated."""
        row = self._row(key)
        if row is None:
            raise FverifyError(f"key {int(key)} is not in the index {self.idx_path.name}",
                               where=str(self.rec_path), fix="the index and the .rec do not match")
        start = int(self.offsets[row])
        parts: list[bytes] = []
        total, position, expected = 0, start, (_WHOLE, _FIRST)
        while True:
            where = f"{self.rec_path}[key {int(key)} @ offset {start}, part at {position}]"
            head = self._pread(8, position, where)
            if len(head) < 8:
                raise FverifyError("record header truncated by the end of the file", where=where,
                                   fix="the .rec is truncated: re-download it")
            magic, lrec = struct.unpack("<II", head)
            if magic != MAGIC:
                raise FverifyError(f"bad magic number 0x{magic:08x} (RecordIO records start with "
                                   f"0x{MAGIC:08x})", where=where,
                                   fix="the file is corrupt or the index points into the wrong file")
            flag, length = lrec >> _LENGTH_BITS, lrec & _LENGTH_MASK
            if flag not in expected:
                raise FverifyError(f"continuation flag {flag} where {' or '.join(map(str, expected))} "
                                   "was expected", where=where, fix="the file is corrupt: re-download it")
            if position + 8 + length > self.size:
                raise FverifyError(f"record length {length} runs past the end of the file "
                                   f"({self.size} bytes)", where=where,
                                   fix="the .rec is truncated or corrupt: re-download it")
            total += length + (4 if parts else 0)
            if total > self.max_record_bytes:
                raise FverifyError(f"record longer than {self.max_record_bytes} bytes", where=where,
                                   fix="the file is corrupt (no face image is this large), or raise "
                                   "max_record_bytes")
            if parts:
                parts.append(_MAGIC_BYTES)  # the writer split the payload at this magic number
            data = self._pread(length, position + 8, where)
            if len(data) < length:  # the file shrank since it was opened
                raise FverifyError(f"record truncated: {len(data)} of {length} bytes", where=where,
                                   fix="the .rec changed while being read: re-download it")
            parts.append(data)
            if flag in (_WHOLE, _LAST):
                return b"".join(parts)
            position += 8 + ((length + 3) & ~3)
            expected = (_MIDDLE, _LAST)

    def read_image_record(self, key: int) -> ImageRecord:
        return unpack_image_record(self.read(key), self.where(key))

    def _pread(self, length: int, offset: int, where: str) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer only at the end of the file)."""
        try:
            if self._pid != os.getpid():  # first use in this process, or a forked worker
                self._fd, self._pid = os.open(self.rec_path, os.O_RDONLY), os.getpid()
            return os.pread(self._fd, length, offset)
        except OSError as error:
            raise FverifyError(f"cannot read: {error.strerror}", where=where,
                               fix="check the disk and the file's permissions") from None

    def __getstate__(self) -> dict:
        # An open descriptor belongs to one process; a pickled copy opens its own.
        return {**self.__dict__, "_fd": None, "_pid": None}

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None and self._pid == os.getpid():
            os.close(self._fd)


@dataclass(frozen=True)
class RecordLayout:
    """Which keys are images and, from insightface's header record, each identity's keys.

    ``identity_ranges`` is ``(num_identities, 2)`` int64 ``[start, end)`` image keys in label
    order, or None for a file without a header record (labels then come from each record).
    """

    image_keys: np.ndarray
    identity_ranges: np.ndarray | None


def read_layout(records: IndexedRecordFile) -> RecordLayout:
    """Find insightface's header record (key 0, no image, labels ``[a, b]``) and its identity
    records; without one, every key is an image, in index order."""
    header = records.read_image_record(0) if 0 in records else None
    if header is None or header.image or header.flag < 2:
        return RecordLayout(records.keys.copy(), None)
    first, end = _as_key(header.labels[0]), _as_key(header.labels[1])
    where = records.where(0)
    if first is None or end is None or not 1 <= first <= end:
        raise FverifyError(f"header record labels {list(header.labels[:2])} are not "
                           "identity-record keys 1 <= a <= b", where=where,
                           fix="the file is corrupt: re-download it")
    if end > len(records):  # keys 0 .. end-1 cannot all be in an index with fewer entries
        raise FverifyError(f"the header record announces {end} records but "
                           f"{records.idx_path.name} lists {len(records)}", where=where,
                           fix="the index and the .rec do not match: re-download both")
    image_keys = np.arange(1, first, dtype=np.int64)
    wanted = np.arange(1, end, dtype=np.int64)
    missing = wanted[~np.isin(wanted, records.keys)]
    if missing.size:
        raise FverifyError(f"the header record announces image keys 1..{first - 1} and identity "
                           f"keys {first}..{end - 1}, but {missing.size} are not in "
                           f"{records.idx_path.name} (first: {missing[:5].tolist()})", where=where,
                           fix="the index and the .rec do not match: re-download both")
    ranges = np.empty((end - first, 2), dtype=np.int64)
    for row, key in enumerate(range(first, end)):
        record = records.read_image_record(key)
        values = [_as_key(v) for v in record.labels[:2]]
        if record.flag < 2 or None in values:
            raise FverifyError(f"identity record {row} has labels {list(record.labels)}, expected "
                               "[start, end) image keys", where=records.where(key),
                               fix="the file is corrupt: re-download it")
        ranges[row] = values
    _check_ranges_cover(ranges, first, records.where(first))
    return RecordLayout(image_keys, ranges)


def _as_key(value: float) -> int | None:
    """A label that stands for a record key (a whole number >= 0), or None."""
    return int(value) if math.isfinite(value) and value == int(value) and value >= 0 else None


def _check_ranges_cover(ranges: np.ndarray, first: int, where: str) -> None:
    """Identity ranges must tile the image keys ``1 .. first-1`` in order, each non-empty."""
    if not len(ranges):
        raise FverifyError("the header record lists no identities", where=where,
                           fix="the file is corrupt: re-download it")
    starts, ends = ranges[:, 0], ranges[:, 1]
    bad = np.flatnonzero((ends <= starts) | (starts != np.concatenate([[1], ends[:-1]])))
    if bad.size or ends[-1] != first:
        row = int(bad[0]) if bad.size else len(ranges) - 1
        raise FverifyError(f"identity ranges do not tile image keys 1..{first - 1} in order: "
                           f"identity {row} is [{int(starts[row])}, {int(ends[row])})", where=where,
                           fix="the file is corrupt: re-download it")


def pack_image_record(labels: float | Sequence[float], image: bytes, record_id: int = 0) -> bytes:
    """``IRHeader`` + labels + image bytes: a scalar label goes in the header (flag 0), a
    sequence after it (flag = its length), as mxnet's ``recordio.pack`` does."""
    if isinstance(labels, Sequence):
        values = np.asarray(labels, dtype="<f4")
        return _IR_HEADER.pack(len(values), 0.0, record_id, 0) + values.tobytes() + image
    return _IR_HEADER.pack(0, float(labels), record_id, 0) + image


def frame_record(data: bytes) -> bytes:
    """``data`` framed as dmlc-core writes a record: cut into parts wherever the magic number
    sits at a 4-aligned position (the reader puts it back), each part ``magic | lrec | bytes``,
    then zero padding to a multiple of 4."""
    if len(data) > _LENGTH_MASK:
        raise FverifyError(f"a RecordIO record holds at most {_LENGTH_MASK} bytes, not {len(data)}",
                           fix="store smaller images")
    cuts = [i for i in range(0, len(data) - 3, 4) if data[i:i + 4] == _MAGIC_BYTES]
    bounds = [-4, *cuts, len(data)]
    flags = [_WHOLE] if not cuts else [_FIRST] + [_MIDDLE] * (len(cuts) - 1) + [_LAST]
    out = bytearray()
    for flag, begin, end in zip(flags, bounds[:-1], bounds[1:]):
        part = data[begin + 4:end]
        out += struct.pack("<II", MAGIC, flag << _LENGTH_BITS | len(part)) + part
    return bytes(out + b"\0" * (-len(out) % 4))


def write_training_recordio(rec_path: str | Path, identities: Iterable[Iterable[bytes]]) -> dict[str, int]:
    """Write ``rec_path`` and the ``.idx`` beside it in insightface's layout: the encoded images
    of identity 0, 1, ... as keys 1..n (scalar label = the identity's position), then the
    header record (key 0) and one identity record per identity. Each file is written
    atomically. Returns the counts written (identities, images)."""
    rec_path = Path(rec_path)
    index_lines: list[str] = []
    ranges: list[tuple[int, int]] = []
    with atomic_open(rec_path, "wb") as rec:
        def put(key: int, data: bytes) -> None:
            index_lines.append(f"{key}\t{rec.tell()}\n")
            rec.write(frame_record(data))

        key = 1
        for label, images in enumerate(identities):
            start = key
            for image in images:
                put(key, pack_image_record(float(label), image, key))
                key += 1
            if key == start:
                raise FverifyError(f"identity {label} has no images", where=str(rec_path),
                                   fix="give every identity at least one image")
            ranges.append((start, key))
        first = key
        put(0, pack_image_record([float(first), float(first + len(ranges))], b""))
        for number, (start, end) in enumerate(ranges):
            put(first + number, pack_image_record([float(start), float(end)], b"", first + number))
    with atomic_open(rec_path.with_suffix(".idx"), "w", encoding="ascii") as idx:
        idx.writelines(index_lines)
    return {"identities": len(ranges), "images": first - 1}
