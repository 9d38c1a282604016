import shutil

import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.protocols.lfw import TESTED_FILE, VIEWS, load_lfw, parse_pairs, to_protocol
from fverify.protocols.official import official_path


def official(view):
    return parse_pairs([official_path(name) for name in VIEWS[view]], sources=VIEWS[view])


def test_view2_has_the_published_counts():
    protocol = to_protocol(official("2"), "lfw")
    assert protocol.num_pairs == 6000 and protocol.num_folds == 10
    assert len(protocol.items) == 7701
    assert len({item.split("/")[0] for item in protocol.items}) == 4281
    assert protocol.source == "lfw/pairs.txt"
    assert protocol.source_md5 == "9f1ba174e4e1c508ff7cdf10ac338a7d"
    # each fold: 300 matched lines then 300 mismatched, in file order
    expected = np.tile(np.r_[np.ones(300, bool), np.zeros(300, bool)], 10)
    np.testing.assert_array_equal(protocol.labels, expected)
    np.testing.assert_array_equal(protocol.folds, np.repeat(np.arange(10), 600))
    assert protocol.fold_rule == "one fold per header block (pairs.txt: 10 blocks of 600 pairs)"
    # the first pair is the first line: "Abel_Pacheco 1 4"
    assert [protocol.items[i] for i in protocol.pairs[0]] == [
        "Abel_Pacheco/Abel_Pacheco_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0004.jpg"]


def test_view2_folds_share_no_person():
    protocol = to_protocol(official("2"), "lfw")
    people = [set() for _ in range(10)]
    for (a, b), fold in zip(protocol.pairs, protocol.folds):
        people[fold] |= {protocol.items[a].split("/")[0], protocol.items[b].split("/")[0]}
    assert sum(len(p) for p in people) == len(set().union(*people)) == 4281


def test_view1_files_parse_as_two_folds():
    lines = official("1")
    assert len(lines.labels) == 3200
    assert np.bincount(lines.folds).tolist() == [2200, 1000]
    assert np.bincount(lines.folds, weights=lines.labels).tolist() == [1100, 500]
    assert lines.sources == ("lfw/pairsDevTrain.txt", "lfw/pairsDevTest.txt")
    assert lines.fold_rule == ("one fold per header block (pairsDevTrain.txt: 1 block of 2200 "
                               "pairs; pairsDevTest.txt: 1 block of 1000 pairs)")


def test_view1_is_a_fixed_split_fit_on_devtrain_reported_on_devtest():
    protocol = to_protocol(official("1"), "lfw-view1", tested_file=TESTED_FILE["1"])
    assert protocol.test_fold == 1
    assert np.bincount(protocol.folds).tolist() == [2200, 1000]
    assert np.bincount(protocol.folds, weights=protocol.labels).tolist() == [1100, 500]
    assert protocol.fold_rule == (
        "fixed split, one fold per file: threshold fitted on fold 0 = pairsDevTrain.txt (2200 "
        "pairs), every metric reported on fold 1 = pairsDevTest.txt (1000 pairs) alone")
    assert TESTED_FILE["2"] is None and to_protocol(official("2"), "lfw").test_fold is None


def test_view1_files_with_several_blocks_are_still_one_fold_each(tmp_path):
    train = write(tmp_path, "2\t1\nA\t1\t2\nA\t1\tB\t1\nC\t1\t2\nC\t2\tD\t1\n", "train.txt")
    test = write(tmp_path, "1\nE\t1\t2\nE\t1\tF\t1\n", "test.txt")
    protocol = to_protocol(parse_pairs([train, test]), "lfw-view1", tested_file=1)
    assert protocol.folds.tolist() == [0, 0, 0, 0, 1, 1]
    assert "fold 0 = train.txt (4 pairs)" in protocol.fold_rule and "fold 1 = test.txt (2 pairs)" in protocol.fold_rule


def write(tmp_path, text, name="pairs.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = "2\t1\nA\t1\t2\nA\t1\tB\t1\nC\t1\t2\nC\t2\tD\t1\n"


def test_small_file_and_spaces_instead_of_tabs(tmp_path):
    lines = parse_pairs([write(tmp_path, GOOD.replace("\t", "  "))])
    assert lines.labels.tolist() == [True, False, True, False]
    assert lines.folds.tolist() == [0, 0, 1, 1]
    assert lines.images[3] == (("C", 2), ("D", 1))


@pytest.mark.parametrize("text, where, message", [
    ("2\t2\n" + GOOD.split("\n", 1)[1], "pairs.txt:5", r"header says 2 fold\(s\) x \(2 matched \+ 2 mismatched\) = 8 pair lines, but the file has 4 \(truncated\?\)"),
    ("1\t1\n" + GOOD.split("\n", 1)[1], "pairs.txt:5", "= 2 pair lines, but the file has 4"),
    (GOOD.rsplit("\n", 2)[0] + "\n", "pairs.txt:4", "the file has 3 .truncated"),
    ("ten\t300\n", "pairs.txt:1", "expected a header 'folds<TAB>pairs per class'"),
    ("", "pairs.txt:1", "empty pairs file"),
    (GOOD.replace("A\t1\t2", "A\t1\tx2"), "pairs.txt:2", "image number 'x2' is not a positive integer"),
    (GOOD.replace("A\t1\t2", "A\t0\t2"), "pairs.txt:2", "image number '0'"),
    (GOOD.replace("A\t1\tB\t1", "A\t1\t1"), "pairs.txt:3", r"expected a mismatched pair .* \(fold 1\), found 3"),
    (GOOD.replace("C\t1\t2", "C\t1\tD\t2"), "pairs.txt:4", r"expected a matched pair .* \(fold 2\), found 4"),
    (GOOD.replace("A\t1\tB", "A\t1\t../B"), "pairs.txt:3", r"person name '../B' is not a folder name"),
    (GOOD.replace("C\t1\t2", "..\t1\t2"), "pairs.txt:4", r"person name '..' is not a folder name"),
    (GOOD.replace("A\t1\t2", "a/b\t1\t2"), "pairs.txt:2", r"person name 'a/b' is not a folder name"),
    # a form feed or U+2028 inside a line does not end it: later lines keep their numbers
    (GOOD.replace("A\t1\tB", "A\x0c\t1\tB").replace("C\t1\t2", "C\u2028X\t1\t2"), "pairs.txt:4",
     r"expected a matched pair .* \(fold 2\), found 4 field\(s\): 'C\\u2028X\\t1\\t2'"),
])
def test_parse_errors_name_file_line_and_what_was_expected(tmp_path, text, where, message):
    with pytest.raises(FverifyError, match=message) as caught:
        parse_pairs([write(tmp_path, text)])
    assert caught.value.where.endswith(where)


def test_synthetic_lfw_loads_with_its_pairs_file(synth_lfw):
    evalset = load_lfw(synth_lfw, pairs=[synth_lfw / "pairs.txt"])
    assert evalset.protocol.num_pairs == 30 and evalset.protocol.num_folds == 3
    assert evalset.image_item is None and len(evalset.images) == len(evalset.protocol.items)
    assert evalset.images[0].shape == (112, 112, 3)
    assert "differs from the official lfw/pairs.txt" in evalset.warnings[0]


def test_official_copy_gives_no_warning_and_png_root_is_detected(tmp_path):
    # a tree holding exactly the images of the official View 2 list, as empty .png files
    protocol = to_protocol(official("2"), "lfw")
    for item in protocol.items:
        path = tmp_path / "aligned" / item.replace(".jpg", ".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    copy = tmp_path / "pairs.txt"
    shutil.copy(official_path("lfw/pairs.txt"), copy)
    evalset = load_lfw(tmp_path / "aligned", pairs=[copy])
    assert evalset.warnings == ()
    assert evalset.images.relative_paths[0] == "Abel_Pacheco/Abel_Pacheco_0001.png"
    assert len(evalset.images) == 7701 and evalset.protocol.source_md5 == protocol.source_md5
    # shipped list by default, recorded by its portable name
    assert load_lfw(tmp_path / "aligned").protocol.source == "lfw/pairs.txt"


def test_missing_images_are_counted_and_listed(tmp_path, synth_lfw):
    root = tmp_path / "lfw"
    shutil.copytree(synth_lfw, root)
    evalset = load_lfw(root, pairs=[root / "pairs.txt"])
    gone = evalset.images.relative_paths[5:17]
    for item in gone:
        (root / item).unlink()
    with pytest.raises(FverifyError) as caught:
        load_lfw(root, pairs=[root / "pairs.txt"])
    message = str(caught.value)
    assert f"12 of {len(evalset.images)} images are missing" in message
    assert gone[0] in message and gone[9] in message and "... and 2 more" in message
    assert "never drops pairs" in message


def test_root_that_holds_the_image_folder_is_pointed_out(tmp_path, synth_lfw):
    (tmp_path / "lfw-deepfunneled").symlink_to(synth_lfw, target_is_directory=True)
    with pytest.raises(FverifyError, match="none of the first .* listed images exists") as caught:
        load_lfw(tmp_path, pairs=[synth_lfw / "pairs.txt"])
    assert f"point --data at {tmp_path / 'lfw-deepfunneled'}" in str(caught.value)
    with pytest.raises(FverifyError, match="does not exist"):
        load_lfw(tmp_path / "nowhere")


def test_view_and_pairs_count_must_agree(synth_lfw):
    with pytest.raises(FverifyError, match="View 1 takes 2 pairs file"):
        load_lfw(synth_lfw, pairs=[synth_lfw / "pairs.txt"], view="1")
    with pytest.raises(FverifyError, match="no view '3'"):
        load_lfw(synth_lfw, view="3")


@pytest.mark.parametrize("text, where, message", [
    ("²\t1\nA\t1\t2\nA\t1\tB\t1\n", "pairs.txt:1", "expected a header"),
    ("1\t²\nA\t1\t2\nA\t1\tB\t1\n", "pairs.txt:1", "expected a header"),
    ("1\t1\nA\t1\t²\nA\t1\tB\t1\n", "pairs.txt:2", "image number '²' is not a positive integer"),
    ("1\t1\nA\t1\t2\nA\t--1\tB\t1\n", "pairs.txt:3", "image number '--1' is not a positive integer"),
])
def test_non_ascii_digits_and_double_signs_are_parse_errors(tmp_path, text, where, message):
    with pytest.raises(FverifyError, match=message) as caught:
        parse_pairs([write(tmp_path, text)])
    assert caught.value.where.endswith(where)


@pytest.mark.parametrize("header", ["1\t1", "1"])
def test_a_one_fold_view2_file_is_refused_with_lfw_advice(tmp_path, header):
    path = write(tmp_path, header + "\nA\t1\t2\nA\t1\tB\t1\n")
    with pytest.raises(FverifyError) as caught:
        to_protocol(parse_pairs([path]), "lfw")
    message = str(caught.value)
    assert "pairs.txt: all 2 pairs are in one fold; the k-fold threshold search needs at least 2" in message
    assert "View 2's is '10\\t300'" in message and "fold column" not in message


def test_a_name_too_long_for_the_file_system_is_an_error_not_a_traceback(synth_lfw, tmp_path):
    lines = (synth_lfw / "pairs.txt").read_text().splitlines()
    name, first, second = lines[1].split("\t")
    lines[1] = "\t".join(["B" * 300, first, second])  # the first image probed for its extension
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(FverifyError, match=f"cannot look for image .*/{'B' * 300}/{'B' * 300}_"
                       ".*: File name too long"):
        load_lfw(synth_lfw, pairs=[tmp_path / "pairs.txt"])
