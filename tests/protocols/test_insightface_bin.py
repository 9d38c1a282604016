import os
import pickle
import struct

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.model_selection import KFold

from fverify.data.images import encode_image
from fverify.errors import FverifyError
from fverify.protocols.evalset import EvalSet
from fverify.protocols.folds import stratified_folds
from fverify.protocols.insightface_bin import (block_order, consecutive_folds, load_bin, read_bin,
                                               write_bin)
from fverify.protocols.lfw import load_lfw
from fverify.protocols.pairs_csv import load_pairs

JPEG = encode_image(np.full((8, 8, 3), 120, dtype=np.uint8), "jpg")
PNG = encode_image(np.full((8, 8, 3), 60, dtype=np.uint8), "png")


def save(tmp_path, obj, protocol=4, name="set.bin"):
    path = tmp_path / name
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


def twenty_pairs():
    return [JPEG, PNG] * 20, [True, False] * 10


class Payload:
    """Unpickling this runs a shell command: what a malicious .bin would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_bin_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    images, issame = twenty_pairs()
    path = save(tmp_path, (images[:-1] + [Payload(marker)], issame))
    with pytest.raises(FverifyError, match=r"refusing to load (posix|os|nt)\.system"):
        read_bin(path)
    assert not marker.exists()
    # the payload is live: a naive pickle.load would have run it
    pickle.loads(path.read_bytes())
    assert marker.exists()


def test_other_globals_and_codecs_are_refused(tmp_path):
    path = tmp_path / "eval.bin"
    path.write_bytes(b"\x80\x02cbuiltins\neval\nX\x0b\x00\x00\x00print('hi')\x85R.")
    with pytest.raises(FverifyError, match="refusing to load builtins.eval"):
        read_bin(path)
    # _codecs.encode is admitted only to rebuild latin-1 bytes
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x05\x00\x00\x00rot13\x86R.")
    with pytest.raises(FverifyError, match="codec 'rot13'"):
        read_bin(path)


def test_truncated_bin_is_a_clear_error(tmp_path):
    data = pickle.dumps(twenty_pairs(), protocol=4)
    path = tmp_path / "cut.bin"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FverifyError, match=r"cut.bin: not a readable .bin \(truncated or corrupt"):
        read_bin(path)
    with pytest.raises(FverifyError, match="cannot read .bin"):
        read_bin(tmp_path / "absent.bin")


@pytest.mark.parametrize("content, message", [
    ({"images": []}, "not a plain insightface .bin: pickle opcode EMPTY_DICT has no place"),
    ("images", "expected a pair .images, issame., found a str"),
    ((b"x", b"y", b"z"), "found a tuple of 3"),
    (([JPEG, "text"], [True]), r"images must be a list of bytes, found a list of 2 \(bytes, str\)"),
    (([JPEG, PNG], ["yes"]), "issame must be a list of bools"),
    (([JPEG, PNG], np.array([2])), r"numpy array of int64 .* only a 1-D array of bools \(or of 0 and 1\)"),
    (([JPEG, PNG, JPEG], [True]), "3 images for 1 pairs"),
    (([], []), "0 images for 0 pairs"),
    (([JPEG, b"GIF89a"], [True]), r"1 of 2 images are not JPEG or PNG bytes \(e.g. images \[1\]\)"),
])
def test_wrong_structure_is_refused(tmp_path, content, message):
    with pytest.raises(FverifyError, match=message):
        read_bin(save(tmp_path, content))


def test_numpy_bool_array_under_either_numpy_module_path(tmp_path):
    images, issame = twenty_pairs()
    data = pickle.dumps((images, np.array(issame)), protocol=2)  # protocol 2 also uses _codecs
    for module in (b"numpy._core.multiarray", b"numpy.core.multiarray"):
        other = b"numpy.core.multiarray" if module == b"numpy._core.multiarray" else b"numpy._core.multiarray"
        path = tmp_path / "arr.bin"
        path.write_bytes(data.replace(other, module))
        loaded_images, labels = read_bin(path)
        assert loaded_images == images and labels.tolist() == issame
    # numpy bool scalars inside a list are fine as well
    labels = read_bin(save(tmp_path, (images, [np.bool_(v) for v in issame])))[1]
    assert labels.tolist() == issame


def python2_pickle(images, issame):
    """(list of str, list of bool) as Python 2's pickle protocol 2 writes them: the JPEG bytes
    are BINSTRINGs, which Python 3 decodes as ASCII text by default."""
    out = [b"\x80\x02(]("]
    for blob in images:
        out.append(b"T" + struct.pack("<I", len(blob)) + blob)
    out.append(b"e](" + b"".join(b"\x88" if v else b"\x89" for v in issame) + b"et.")
    return b"".join(out)


def test_python2_bin_is_read_with_bytes_encoding(tmp_path):
    images, issame = twenty_pairs()
    path = tmp_path / "py2.bin"
    path.write_bytes(python2_pickle(images, issame))
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(path.read_bytes())  # the failure insightface retries after
    loaded_images, labels = read_bin(path)
    assert loaded_images == images and labels.tolist() == issame


@pytest.mark.parametrize("num_pairs", [6000, 20, 13, 10])
def test_consecutive_folds_match_an_unshuffled_kfold(num_pairs):
    expected = np.empty(num_pairs, dtype=np.int64)
    for fold, (_, test) in enumerate(KFold(n_splits=10, shuffle=False).split(np.zeros(num_pairs))):
        expected[test] = fold
    np.testing.assert_array_equal(consecutive_folds(num_pairs), expected)


def test_load_bin_protocol(tmp_path):
    evalset = load_bin(save(tmp_path, twenty_pairs(), name="agedb_30.bin"))
    protocol = evalset.protocol
    assert protocol.name == "agedb_30.bin" and protocol.num_pairs == 20
    assert protocol.pairs[3].tolist() == [6, 7] and protocol.folds.tolist() == list(np.repeat(range(10), 2))
    assert protocol.fold_rule == "10 consecutive blocks (insightface .bin, as an unshuffled 10-fold split)"
    assert evalset.images.describe(1) == "agedb_30.bin[image 1]"
    assert evalset.images[1].shape == (8, 8, 3)


def test_pack_then_load_roundtrip(tmp_path, synth_lfw):
    source = load_lfw(synth_lfw, pairs=[synth_lfw / "pairs.txt"])
    out = tmp_path / "packed" / "synth_lfw.bin"
    # 3 folds of 10 pairs are not 10 consecutive blocks: pairs are reordered
    assert "are not the 10 consecutive blocks" in write_bin(source, out)[0]
    packed = load_bin(out)
    order, _ = block_order(source.protocol.labels)
    np.testing.assert_array_equal(packed.protocol.labels, source.protocol.labels[order])
    first, second = source.protocol.pairs[order[7]]
    assert packed.images.blobs[14] == (synth_lfw / source.protocol.items[first]).read_bytes()
    assert packed.images.blobs[15] == (synth_lfw / source.protocol.items[second]).read_bytes()
    # what insightface's own loader does: plain pickle.load, then unpack two lists
    bins, issame_list = pickle.loads(out.read_bytes())
    assert isinstance(bins, list) and all(type(b) is bytes for b in bins)
    assert isinstance(issame_list, list) and all(type(v) is bool for v in issame_list)
    # packing the packed set again gives the same file
    assert write_bin(packed, tmp_path / "again.bin") == []
    assert (tmp_path / "again.bin").read_bytes() == out.read_bytes()


def bmp_pairs_csv(tmp_path, rows):
    for name in ("a", "b", "c", "d"):
        cv2.imwrite(str(tmp_path / f"{name}.bmp"), np.full((4, 4, 3), 9, dtype=np.uint8))
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    return load_pairs(tmp_path, tmp_path / "pairs.csv")


def test_pack_keeps_ten_equal_folds_in_fold_order_and_reencodes_other_formats(tmp_path):
    # fold 9 first in the file: written in fold order, so the 10 blocks are the 10 folds
    rows = [f"{x}.bmp,{y}.bmp,{label},{fold}" for fold in (10, *range(1, 10))
            for x, y, label in (("a", "b", 1), ("c", "d", 0))]
    evalset = bmp_pairs_csv(tmp_path, rows)
    assert write_bin(evalset, tmp_path / "out.bin") == []
    packed = load_bin(tmp_path / "out.bin")
    order = np.argsort(evalset.protocol.folds, kind="stable")
    np.testing.assert_array_equal(packed.protocol.folds, evalset.protocol.folds[order])
    assert packed.protocol.labels.tolist() == [True, False] * 10
    assert all(blob.startswith(b"\x89PNG") for blob in packed.images.blobs)


def test_pack_refuses_what_cannot_make_ten_valid_blocks(tmp_path):
    rows = [f"{x}.bmp,{y}.bmp,{label},{fold}" for fold in (0, 1) for x, y, label in
            (("a", "b", 1), ("c", "d", 0))] + ["a.bmp,c.bmp,0,1"] * 9
    evalset = bmp_pairs_csv(tmp_path, rows)
    with pytest.raises(FverifyError, match=r"out.bin \(as 10 consecutive blocks\): 10 folds each "
                       r"holding both classes need at least 10 same and 10 different pairs; "
                       r"found 2 and 11"):
        write_bin(evalset, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()


def test_video_protocols_cannot_be_packed(tmp_path, synth_ytf):
    from fverify.protocols.ytf import load_ytf
    with pytest.raises(FverifyError, match="video protocol"):
        write_bin(load_ytf(synth_ytf, splits=synth_ytf / "splits.txt"), tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_evalset_contract_holds_for_bins(tmp_path):
    evalset = load_bin(save(tmp_path, twenty_pairs()))
    assert isinstance(evalset, EvalSet) and evalset.image_item is None
    assert evalset.data_root == str(tmp_path / "set.bin")


def test_python2_bin_with_a_numpy_bool_array(tmp_path):
    # numpy 1 under Python 2: numpy.core path, dtype arguments and raw data as BINSTRINGs
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
             b"(K\x01K\x02\x85cnumpy\ndtype\nU\x02b1K\x00K\x01\x87R"
             b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x02\x01\x00tb")
    blob = b"T" + struct.pack("<I", len(JPEG)) + JPEG
    path = tmp_path / "py2np.bin"
    path.write_bytes(b"\x80\x02(](" + blob * 4 + b"e" + array + b"t.")
    images, labels = read_bin(path)
    assert images == [JPEG] * 4 and labels.tolist() == [True, False]


@given(st.lists(st.booleans(), min_size=20, max_size=400))
def test_block_order_puts_both_classes_in_every_block_in_file_order(labels):
    labels = np.array(labels)
    if min(labels.sum(), (~labels).sum()) < 10:
        labels = np.r_[labels, [True] * 10, [False] * 10]
    order, same = block_order(labels)
    assert sorted(order.tolist()) == list(range(len(labels)))
    for value in (True, False):  # each class keeps its file order
        assert np.all(np.diff(order[labels[order] == value]) > 0)
    blocks = consecutive_folds(len(labels))
    np.testing.assert_array_equal(np.bincount(blocks, weights=labels[order]), same)
    sizes = np.bincount(blocks)
    assert np.all((same >= 1) & (same <= sizes - 1))
    # as even as can be: within 1 of each block's proportional share
    assert np.all(np.abs(same - sizes * labels.sum() / len(labels)) < 1)


# 13 same and 27 different pairs (1 = same) in an order where stratified folds misfit the blocks
UNLUCKY_FOR_STRATIFIED = "1010011001100000000100110000100110100000"


def test_block_order_of_13_same_and_27_different():
    labels = np.array([c == "1" for c in UNLUCKY_FOR_STRATIFIED])
    # ordering by the stratified fold rule instead leaves blocks 4 and 6 without a same pair
    stratified = labels[np.argsort(stratified_folds(labels), kind="stable")]
    assert np.bincount(consecutive_folds(40), weights=stratified).tolist() == [1, 2, 2, 2, 0, 2, 0, 1, 2, 1]
    order, same = block_order(labels)
    # shares of 1.3 each: 1 per block, the 3 left over to the first blocks
    assert same.tolist() == [2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    # block 3: the next same pair (19) and the next 3 different ones, in file order
    assert order[:16].tolist() == [*range(15), 19]


def test_pack_reorders_13_same_27_different_and_says_so_truly(tmp_path):
    rows = [f"a.bmp,b.bmp,1,{i % 2}" if same == "1" else f"c.bmp,d.bmp,0,{i % 2}"
            for i, same in enumerate(UNLUCKY_FOR_STRATIFIED)]
    evalset = bmp_pairs_csv(tmp_path, rows)
    [warning] = write_bin(evalset, tmp_path / "out.bin")
    packed = load_bin(tmp_path / "out.bin").protocol  # every block has both classes, or this raises
    same = np.bincount(packed.folds, weights=packed.labels).astype(int).tolist()
    sizes = np.bincount(packed.folds).tolist()
    assert f"blocks of {sizes} pairs holding {same} same pairs" in warning
    assert "2 folds of sizes [20, 20]" in warning
