"""A tiny RecordIO writer for tests, written from the format's documentation (dmlc-core
recordio.h, mxnet recordio.py, insightface face2rec2.py), independent of fverify's reader."""
import struct
from pathlib import Path

MAGIC_LE = b"\x0a\x23\xd7\xce"  # 0xced7230a, little-endian


def frame(payload: bytes) -> bytes:
    """One record as dmlc-core writes it: split wherever the magic number sits at a 4-aligned
    position of the payload (flags 1 first, 2 middle, 3 last; 0 whole), each part
    ``magic | (flag << 29 | length) | data``, zero-padded to 4 bytes at the end."""
    cuts = [i for i in range(0, len(payload) - 3, 4) if payload[i:i + 4] == MAGIC_LE]
    pieces = []
    start = 0
    for number, cut in enumerate(cuts):
        pieces.append((1 if number == 0 else 2, payload[start:cut]))
        start = cut + 4
    pieces.append((3 if cuts else 0, payload[start:]))
    out = b""
    for flag, data in pieces:
        out += MAGIC_LE + struct.pack("<I", (flag << 29) | len(data)) + data
    return out + b"\0" * (-len(out) % 4)


def image_record(label, image: bytes, record_id: int = 0) -> bytes:
    """IRHeader (flag, label, id, id2) + label list when ``label`` is a list + image bytes."""
    if isinstance(label, (list, tuple)):
        return struct.pack("<IfQQ", len(label), 0.0, record_id, 0) + struct.pack(
            f"<{len(label)}f", *label) + image
    return struct.pack("<IfQQ", 0, float(label), record_id, 0) + image


def write_rec(rec_path: Path, records: list[tuple[int, bytes]]) -> list[int]:
    """Write ``(key, record data)`` in order to ``rec_path`` and its ``.idx``; returns offsets."""
    blob, offsets = b"", []
    for _, data in records:
        offsets.append(len(blob))
        blob += frame(data)
    rec_path.write_bytes(blob)
    rec_path.with_suffix(".idx").write_text(
        "".join(f"{key}\t{offset}\n" for (key, _), offset in zip(records, offsets)))
    return offsets


def write_insightface_rec(rec_path: Path, images_by_identity: list[list[bytes]]) -> list[int]:
    """An insightface training file in face2rec2.py's order: keys 1..n the images (label list
    [label, 0] as face2rec2 writes them), then key 0 the header record (labels [first identity
    key, end]), then one identity record per identity (labels [start, end))."""
    images, ranges, key = [], [], 1
    for label, blobs in enumerate(images_by_identity):
        ranges.append((key, key + len(blobs)))
        for blob in blobs:
            images.append((key, image_record([float(label), 0.0], blob, key)))
            key += 1
    first = key
    header = (0, image_record([float(first), float(first + len(ranges))], b""))
    identities = [(first + i, image_record([float(a), float(b)], b"", first + i))
                  for i, (a, b) in enumerate(ranges)]
    return write_rec(rec_path, [*images, header, *identities])
