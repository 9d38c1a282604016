import pickle
import struct
import tracemalloc

import numpy as np
import pytest

from fverify.data.recordio import (
    MAGIC,
    IndexedRecordFile,
    read_index,
    read_layout,
    unpack_image_record,
)
from fverify.errors import FverifyError
from tests.data.recordio_bytes import MAGIC_LE, frame, image_record, write_insightface_rec, write_rec


def test_magic_constant_matches_the_documented_bytes():
    assert struct.pack("<I", MAGIC) == MAGIC_LE


def test_a_whole_record_is_magic_length_data_and_padding(tmp_path):
    # Hand-built from the format: magic, lrec = flag 0 | length 5, data, 3 zero bytes of padding.
    expected = MAGIC_LE + b"\x05\x00\x00\x00" + b"abcde" + b"\0\0\0"
    assert frame(b"abcde") == expected
    (tmp_path / "t.rec").write_bytes(expected + MAGIC_LE + b"\x00\x00\x00\x00")
    (tmp_path / "t.idx").write_text("7\t0\n8\t16\n")
    records = IndexedRecordFile(tmp_path / "t.rec")
    assert records.read(7) == b"abcde"
    assert records.read(8) == b""
    assert list(records.keys) == [7, 8] and list(records.offsets) == [0, 16]


def test_a_payload_holding_the_magic_number_is_read_back_from_its_parts(tmp_path):
    payload = b"ABCD" + MAGIC_LE + b"EFGH" + MAGIC_LE + b"IJ"
    framed = frame(payload)
    # Three parts: flag 1 (4 bytes), flag 2 (4 bytes), flag 3 (2 bytes + 2 padding).
    assert framed[4:8] == struct.pack("<I", 1 << 29 | 4)
    assert framed[16:20] == struct.pack("<I", 2 << 29 | 4)
    assert framed[28:32] == struct.pack("<I", 3 << 29 | 2)
    assert len(framed) == 36
    unaligned = b"xy" + MAGIC_LE + b"z"  # not 4-aligned: stays one record
    write_rec(tmp_path / "t.rec", [(0, payload), (1, unaligned), (2, MAGIC_LE)])
    records = IndexedRecordFile(tmp_path / "t.rec")
    assert records.read(0) == payload
    assert records.read(1) == unaligned
    assert records.read(2) == MAGIC_LE  # split into two empty parts


def test_image_header_with_a_scalar_label_and_with_a_label_list():
    scalar = unpack_image_record(image_record(3.0, b"JPEG", record_id=9), "mem")
    assert (scalar.flag, scalar.labels, scalar.id, scalar.image) == (0, (3.0,), 9, b"JPEG")
    listed = unpack_image_record(image_record([4.0, 1.0], b"IMG"), "mem")
    assert (listed.flag, listed.labels, listed.image) == (2, (4.0, 1.0), b"IMG")


def test_a_label_list_longer_than_the_record_is_an_error():
    data = struct.pack("<IfQQ", 1000, 0.0, 0, 0) + b"\0" * 8
    with pytest.raises(FverifyError, match="announces 1000 labels"):
        unpack_image_record(data, "mem")
    with pytest.raises(FverifyError, match="shorter than the 24-byte"):
        unpack_image_record(b"\0" * 10, "mem")


def test_insightface_header_record_gives_image_keys_and_identity_ranges(tmp_path):
    write_insightface_rec(tmp_path / "train.rec", [[b"a", b"b"], [b"c"], [b"d", b"e", b"f"]])
    layout = read_layout(IndexedRecordFile(tmp_path / "train.rec"))
    assert layout.image_keys.tolist() == [1, 2, 3, 4, 5, 6]
    assert layout.identity_ranges.tolist() == [[1, 3], [3, 4], [4, 7]]


def test_a_file_without_header_record_is_all_images(tmp_path):
    write_rec(tmp_path / "t.rec", [(0, image_record(2.0, b"x")), (1, image_record(0.0, b"y"))])
    layout = read_layout(IndexedRecordFile(tmp_path / "t.rec"))
    assert layout.image_keys.tolist() == [0, 1] and layout.identity_ranges is None


def test_identity_ranges_that_do_not_tile_the_images_are_an_error(tmp_path):
    records = [(1, image_record(0.0, b"a")), (2, image_record(0.0, b"b")),
               (0, image_record([3.0, 5.0], b"")),
               (3, image_record([1.0, 2.0], b"")), (4, image_record([3.0, 3.0], b""))]
    write_rec(tmp_path / "t.rec", records)
    with pytest.raises(FverifyError, match=r"do not tile image keys 1\.\.2 in order: identity 1 is \[3, 3\)"):
        read_layout(IndexedRecordFile(tmp_path / "t.rec"))


def test_a_header_announcing_more_records_than_the_index_holds_is_an_error(tmp_path):
    write_rec(tmp_path / "t.rec", [(0, image_record([1.0, 1e9], b""))])
    with pytest.raises(FverifyError, match="announces 1000000000 records"):
        read_layout(IndexedRecordFile(tmp_path / "t.rec"))


@pytest.fixture
def three_records(tmp_path):
    rec = tmp_path / "train.rec"
    offsets = write_rec(rec, [(0, b"first!"), (1, b"second record"), (2, b"third")])
    return rec, offsets


def corrupt(rec, offset, data):
    blob = bytearray(rec.read_bytes())
    blob[offset:offset + len(data)] = data
    rec.write_bytes(bytes(blob))


def test_bad_magic_names_file_key_and_offset(three_records):
    rec, offsets = three_records
    corrupt(rec, offsets[1], b"\xde\xad\xbe\xef")
    records = IndexedRecordFile(rec)
    assert records.read(0) == b"first!"
    with pytest.raises(FverifyError, match=rf"train.rec\[key 1 @ offset {offsets[1]}.*bad magic number 0xefbeadde"):
        records.read(1)


def test_a_length_past_the_end_of_the_file_allocates_nothing(three_records):
    rec, offsets = three_records
    corrupt(rec, offsets[2] + 4, struct.pack("<I", (1 << 29) - 1))  # a 512 MiB length
    records = IndexedRecordFile(rec)
    tracemalloc.start()
    with pytest.raises(FverifyError, match=rf"key 2 @ offset {offsets[2]}.*length 536870911 runs past the end"):
        records.read(2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20


def test_records_beyond_the_size_limit_are_refused(three_records):
    rec, _ = three_records
    with pytest.raises(FverifyError, match="longer than 8 bytes"):
        IndexedRecordFile(rec, max_record_bytes=8).read(1)


def test_a_truncated_file_is_an_error(three_records):
    rec, offsets = three_records
    rec.write_bytes(rec.read_bytes()[:offsets[2] + 10])
    with pytest.raises(FverifyError, match="key 2 .*runs past the end of the file"):
        IndexedRecordFile(rec).read(2)
    rec.write_bytes(rec.read_bytes()[:offsets[2] + 3])
    with pytest.raises(FverifyError, match=r"train.idx:3: 1 index entries point past the end"):
        IndexedRecordFile(rec)


def test_a_broken_part_sequence_is_an_error(tmp_path):
    rec = tmp_path / "t.rec"
    # A first part (flag 1) followed by a whole record (flag 0) instead of a middle/last part.
    rec.write_bytes(MAGIC_LE + struct.pack("<I", 1 << 29 | 4) + b"ABCD" + frame(b"next"))
    (tmp_path / "t.idx").write_text("0\t0\n")
    with pytest.raises(FverifyError, match="continuation flag 0 where 2 or 3 was expected"):
        IndexedRecordFile(rec).read(0)
    rec.write_bytes(MAGIC_LE + struct.pack("<I", 5 << 29 | 4) + b"ABCD")
    with pytest.raises(FverifyError, match="continuation flag 5 where 0 or 1"):
        IndexedRecordFile(rec).read(0)


def test_index_errors_name_the_line(tmp_path):
    (tmp_path / "t.rec").write_bytes(frame(b"x"))
    idx = tmp_path / "t.idx"
    idx.write_text("0\t0\n1 0\n")
    with pytest.raises(FverifyError, match=r"t.idx:2: expected 'key<TAB>offset'"):
        read_index(idx)
    idx.write_text("0\t0\n0\t0\n")
    with pytest.raises(FverifyError, match=r"t.idx:1: key 0 appears 2 times"):
        read_index(idx)
    idx.unlink()
    with pytest.raises(FverifyError, match="RecordIO index not found"):
        IndexedRecordFile(tmp_path / "t.rec")


def test_a_pickled_reader_opens_its_own_file(three_records):
    rec, _ = three_records
    records = IndexedRecordFile(rec)
    assert records.read(1) == b"second record"
    clone = pickle.loads(pickle.dumps(records))
    assert clone._fd is None
    assert clone.read(2) == b"third" and records.read(0) == b"first!"


def test_fuzzed_files_raise_only_fverify_errors(tmp_path):
    """Seeded mutations of a valid file (header record, multi-part record, images): opening and
    reading every record either works or raises FverifyError, never anything else."""
    from fverify.data.training import RecordIOSet

    rng = np.random.default_rng(0)
    rec = tmp_path / "train.rec"
    identities = [[b"\xff\xd8" + MAGIC_LE + bytes(rng.integers(0, 256, 30, dtype=np.uint8))
                   for _ in range(2)] for _ in range(3)]
    write_insightface_rec(rec, identities)
    original, original_idx = rec.read_bytes(), rec.with_suffix(".idx").read_text()
    outcomes = {"opened": 0, "refused": 0}
    for _ in range(300):
        blob = bytearray(original)
        for _ in range(rng.integers(1, 4)):
            if not blob:
                break
            position = int(rng.integers(0, len(blob)))
            kind = rng.integers(0, 3)
            if kind == 0:
                blob[position] = int(rng.integers(0, 256))
            elif kind == 1:
                blob[position:position + 4] = struct.pack("<I", int(rng.integers(0, 1 << 32)))
            else:
                del blob[position:]
        rec.write_bytes(bytes(blob))
        idx = original_idx
        if rng.random() < 0.2:
            idx = idx.replace("\t", "\t1", 1) if rng.random() < 0.5 else idx[: int(rng.integers(0, len(idx)))]
        rec.with_suffix(".idx").write_text(idx)
        try:
            records = IndexedRecordFile(rec, max_record_bytes=1 << 16)
            for key in records.keys:
                try:
                    records.read_image_record(key)
                except FverifyError:
                    pass
            dataset = RecordIOSet(rec, (8, 8))
        except FverifyError:
            outcomes["refused"] += 1
            continue
        outcomes["opened"] += 1
        for index in range(len(dataset)):
            image, label, _ = dataset[index]  # never raises: a bad image is label -1
            assert label == -1 and not image.any()  # the payloads are not decodable images
    assert min(outcomes.values()) > 10  # both paths were exercised
