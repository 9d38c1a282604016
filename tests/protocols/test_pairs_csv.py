import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.protocols.folds import STRATIFIED_RULE, stratified_folds
from fverify.protocols.pairs_csv import leaves_root, load_pairs, parse_pairs_csv


def write(tmp_path, text):
    path = tmp_path / "pairs.csv"
    path.write_text(text)
    return path


def test_header_and_one_based_folds(tmp_path):
    protocol = parse_pairs_csv(write(tmp_path, "path1,path2,label,fold\n"
                                     "a/1.jpg,a/2.jpg,1,1\n\"b,x/1.jpg\",a/1.jpg,0,1\n"
                                     "c/1.jpg, c/2.jpg ,true,2\nc/1.jpg,a/2.jpg,False,2\n"))
    assert protocol.items == ("a/1.jpg", "a/2.jpg", "b,x/1.jpg", "c/1.jpg", "c/2.jpg")
    assert protocol.pairs.tolist() == [[0, 1], [2, 0], [3, 4], [3, 1]]
    assert protocol.labels.tolist() == [True, False, True, False]
    assert protocol.folds.tolist() == [0, 0, 1, 1]
    assert protocol.name == "pairs" and len(protocol.source_md5) == 32
    assert protocol.fold_rule == "the fold column of the file (ids 1..k)"


def test_without_a_fold_column_the_evaluate_fold_rule_applies(tmp_path):
    labels = [1, 0] * 15
    text = "".join(f"p{i}.png,q{i}.png,{label}\n" for i, label in enumerate(labels))
    protocol = parse_pairs_csv(write(tmp_path, text))
    np.testing.assert_array_equal(protocol.folds, stratified_folds(np.array(labels, dtype=bool)))
    assert protocol.num_folds == 10
    assert protocol.fold_rule == STRATIFIED_RULE and protocol.fold_rule.startswith("stratified 10-fold")


@pytest.mark.parametrize("text, line, message", [
    ("a,b,1,0\nc,d,0\n", 2, "expected 4 fields path1,path2,label,fold"),
    ("a,b,1\nc,d,yes\n", 2, "label 'yes' is not 0 or 1"),
    ("a,b,1,x\n", 1, "fold 'x' is not an integer"),
    ("a,b,1,²\n", 1, "fold '²' is not an integer"),
    ("a,b,1,0\nc,d,0,--1\n", 2, "fold '--1' is not an integer"),
    ("a,/etc/passwd,1\n", 1, "'/etc/passwd' must be relative to --data"),
    ("a,,1\n", 1, "image path '' must be relative"),
    ("a,b\n", 1, "expected 3 fields"),
])
def test_errors_name_file_and_line(tmp_path, text, line, message):
    with pytest.raises(FverifyError, match=message) as caught:
        parse_pairs_csv(write(tmp_path, text))
    assert caught.value.where.endswith(f"pairs.csv:{line}")


def test_empty_and_fold_errors(tmp_path):
    with pytest.raises(FverifyError, match="no pair rows"):
        parse_pairs_csv(write(tmp_path, "path1,path2,label\n"))
    with pytest.raises(FverifyError, match="fold 1 has no negative"):
        parse_pairs_csv(write(tmp_path, "a,b,1,0\nc,d,0,0\ne,f,1,1\n"))


def test_load_checks_every_image(tmp_path):
    (tmp_path / "img").mkdir()
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / "img" / name).touch()
    csv = write(tmp_path, "a.jpg,b.jpg,1,0\nb.jpg,c.jpg,0,0\nx.jpg,a.jpg,1,1\nb.jpg,a.jpg,0,1\n")
    with pytest.raises(FverifyError, match=r"2 of 4 images are missing:\n    c.jpg\n    x.jpg"):
        load_pairs(tmp_path / "img", csv)
    (tmp_path / "img" / "c.jpg").touch()
    (tmp_path / "img" / "x.jpg").touch()
    csv = write(tmp_path, "a.jpg,b.jpg,1,0\nb.jpg,c.jpg,0,0\nb.jpg,a.jpg,1,1\nc.jpg,a.jpg,0,1\n")
    evalset = load_pairs(tmp_path / "img", csv)
    assert evalset.images.relative_paths == ("a.jpg", "b.jpg", "c.jpg")
    with pytest.raises(FverifyError, match="does not exist"):
        load_pairs(tmp_path / "nowhere", csv)


def test_one_fold_is_refused_before_any_image_is_read(tmp_path):
    with pytest.raises(FverifyError) as caught:
        parse_pairs_csv(write(tmp_path, "a,b,1,1\nc,d,0,1\ne,f,1,1\ng,h,0,1\n"))
    message = str(caught.value)
    assert "pairs.csv: all 4 pairs are in one fold; the k-fold threshold search needs at least 2" in message
    assert "fix the fold column, or drop it to get the stratified 10-fold split" in message


def test_without_a_fold_column_ten_pairs_of_each_class_are_needed(tmp_path):
    with pytest.raises(FverifyError) as caught:
        parse_pairs_csv(write(tmp_path, "a,b,1\nc,d,0\n"))
    message = str(caught.value)
    assert "pairs.csv (no fold column): 10 folds each holding both classes need at least 10 same" in message
    assert "found 1 and 1" in message and "add a fold column, or list more pairs" in message
    assert "drop it" not in message


def test_a_bad_one_based_fold_says_how_it_is_counted(tmp_path):
    with pytest.raises(FverifyError, match="(?s)fold 1 has no negative.*counted from 0"):
        parse_pairs_csv(write(tmp_path, "a,b,1,1\nc,d,0,1\ne,f,1,2\n"))


@pytest.mark.parametrize("image, outside", [
    ("a/1.jpg", False), ("./a/1.jpg", False), ("a/../b.jpg", False), ("a/b/../../c.jpg", False),
    ("a//b.jpg", False), ("..a/b.jpg", False), ("a/..b.jpg", False),
    ("../a.jpg", True), ("a/../../b.jpg", True), ("./../a.jpg", True), ("..", True),
    ("/etc/passwd", True), ("//server/share/x.jpg", True),
])
def test_leaves_root(image, outside):
    assert leaves_root(image) is outside


def test_paths_leaving_data_are_refused_with_their_line_unless_allowed(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (tmp_path / "secret.jpg").touch()
    (data / "a.jpg").touch()
    rows = "".join(f"a.jpg,a.jpg,{label},{fold}\n" for fold in (0, 1) for label in (0, 1))
    csv = write(tmp_path, rows + "a.jpg,sub/../../secret.jpg,1,1\n")
    with pytest.raises(FverifyError, match=r"pairs.csv:5: image path 'sub/../../secret.jpg' must "
                       r"be relative to --data and stay inside it\n.*--allow-outside-data"):
        load_pairs(data, csv)
    evalset = load_pairs(data, csv, allow_outside_data=True)
    assert evalset.images.relative_paths == ("a.jpg", "sub/../../secret.jpg")
    absolute = write(tmp_path, rows + f"a.jpg,{tmp_path / 'secret.jpg'},1,1\n")
    with pytest.raises(FverifyError, match="pairs.csv:5: image path .* must be relative"):
        parse_pairs_csv(absolute)
    assert load_pairs(data, absolute, allow_outside_data=True).images.describe(1) == str(tmp_path / "secret.jpg")


@pytest.mark.parametrize("fold", ["6", "-1", "9" * 18])
def test_a_fold_id_beyond_the_number_of_pairs_is_refused_at_its_line(tmp_path, fold):
    rows = "a,b,1,0\nc,d,0,0\ne,f,1,1\ng,h,0,1\n"
    with pytest.raises(FverifyError, match=f"fold {fold} is out of range: 5 pairs make at most 5 folds") as caught:
        parse_pairs_csv(write(tmp_path, rows + f"i,j,0,{fold}\n"))
    assert caught.value.where.endswith("pairs.csv:5")
    assert parse_pairs_csv(write(tmp_path, rows + "i,j,0,1\n")).num_folds == 2


def test_lines_are_counted_apart_from_rows(tmp_path):
    """A quoted field may hold a line break: errors name the line a row starts on."""
    text = 'path1,path2,label\n"a\nb.jpg",c.jpg,1\n\nd.jpg,e.jpg,maybe\n'
    with pytest.raises(FverifyError, match="label 'maybe' is not 0 or 1") as caught:
        parse_pairs_csv(write(tmp_path, text))
    assert caught.value.where.endswith("pairs.csv:5")
    with pytest.raises(FverifyError, match=r"not a readable CSV row: field larger than field limit") as caught:
        parse_pairs_csv(write(tmp_path, text.replace("maybe", "x" * 200_000)))
    assert caught.value.where.endswith("pairs.csv:5")
