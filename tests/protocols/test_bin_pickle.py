import pickle
import tracemalloc

import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.protocols.bin_pickle import PickledArray, load_pickle
from fverify.protocols.insightface_bin import read_bin
from tests.fuzz.crafted_bins import CRAFTED, array, as_bin, binbytes, dtype, integer


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_pickles_are_refused_within_a_small_multiple_of_their_size(tmp_path, case):
    content, reason = CRAFTED[case]
    path = tmp_path / f"{case}.bin"
    path.write_bytes(content)
    tracemalloc.start()
    try:
        with pytest.raises(FverifyError, match=reason) as refused:
            read_bin(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(refused.value).startswith(f"{path}: ")
    # numpy's own reader asks for gigabytes on several of these; this one stays near the file
    assert peak < 32 * len(content) + 4 * 2**20


def test_memo_index_is_only_a_dict_entry(tmp_path):
    path = tmp_path / "memo.bin"
    path.write_bytes(CRAFTED["memo_index"][0])
    assert load_pickle(path) is None


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("labels", [
    np.array([True, False, True]),
    np.array([1, 0, 1], dtype=">i4"),
    np.array([1, 0, 1], dtype="<u8"),
    np.array([0, 1, 0], dtype=np.uint8),
])
def test_what_numpy_pickles_for_bool_and_integer_labels_is_rebuilt(tmp_path, protocol, labels):
    path = tmp_path / "labels.bin"
    path.write_bytes(pickle.dumps(([b"\xff\xd8\xff"] * 2, labels, np.bool_(True), np.int16(-3)),
                                  protocol=protocol))
    images, rebuilt, flag, number = load_pickle(path)
    assert images == [b"\xff\xd8\xff"] * 2 and flag is np.True_ and number == -3
    assert isinstance(rebuilt, PickledArray)
    assert rebuilt.array.dtype == labels.dtype and rebuilt.array.tolist() == labels.tolist()


def test_a_two_dimensional_fortran_array_keeps_its_element_order(tmp_path):
    labels = np.asfortranarray(np.array([[1, 0, 0], [0, 1, 1]], dtype=np.int8))
    path = tmp_path / "f.bin"
    path.write_bytes(pickle.dumps(labels, protocol=2))
    assert load_pickle(path).array.tolist() == [[1, 0, 0], [0, 1, 1]]


def test_array_data_is_checked_against_the_shape_before_anything_is_allocated(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(as_bin(array(3, "i2", binbytes(b"\x01\x00\x00\x00\x01"))))
    with pytest.raises(FverifyError, match=r"shape \(3,\) and 6 bytes holding 5 bytes"):
        load_pickle(path)
    path.write_bytes(as_bin(array(3, "i2", binbytes(b"\x01\x00\x00\x00\x01\x00"))) )
    assert load_pickle(path)[1].array.tolist() == [1, 0, 1]


@pytest.mark.parametrize("code", ["f8", "O8", "V8", "U1", "M8", "c16"])
def test_only_bool_and_integer_dtypes_are_admitted(tmp_path, code):
    path = tmp_path / "dtype.bin"
    path.write_bytes(b"\x80\x02" + dtype(code) + b".")
    with pytest.raises(FverifyError, match=f"numpy dtype '{code}'; a .bin's labels are bool or integer"):
        load_pickle(path)


def test_a_stand_in_cannot_be_changed_by_the_file(tmp_path):
    """BUILD on the _codecs stand-in once rewrote fverify's own helper for the whole process."""
    path = tmp_path / "build.bin"
    path.write_bytes(b"\x80\x02c_codecs\nencode\n" + integer(1) + b"b.")
    with pytest.raises(FverifyError, match="BUILD on a _Encode"):
        load_pickle(path)
    # and a later, honest file still decodes latin-1 bytes
    path.write_bytes(pickle.dumps([b"\xff\x00"], protocol=2))
    assert load_pickle(path) == [b"\xff\x00"]


def test_a_legitimate_large_file_is_within_the_opcode_budget(tmp_path):
    """Python 2's opcodes around the smallest images (67 bytes, a 1x1 PNG) stay under one opcode
    per 4 bytes: the budget never refuses a real .bin."""
    images = [b"\x89PNG\r\n\x1a\n" + bytes(59)] * 2000
    for protocol in (0, 1, 2, 4):
        path = tmp_path / f"p{protocol}.bin"
        path.write_bytes(pickle.dumps((images, [True, False] * 500), protocol=protocol))
        loaded_images, labels = load_pickle(path)
        assert loaded_images == images and labels == [True, False] * 500
