from unittest.mock import patch

import numpy as np
import pytest

from fverify import bulk_fields
from fverify.errors import FverifyError
from fverify.protocols.folds import stratified_folds
from fverify.scores import check_same_pairs, read_scores, write_scores


def csv_file(tmp_path, text, name="scores.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def rows(n_folds=2, per_class=2, score=lambda i: f"0.{i}", start=0):
    """Body lines 'score,label,fold' with both classes in every fold."""
    lines, i = [], 0
    for fold in range(n_folds):
        for label in (1, 0):
            for _ in range(per_class):
                lines.append(f"{score(i)},{label},{fold + start}")
                i += 1
    return "\n".join(lines) + "\n"


def test_written_scores_read_back_exactly(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.tile([True, True, False, False], 3)
    folds = np.repeat(np.arange(3), 4)
    scores = rng.standard_normal(12) * 10.0 ** rng.integers(-30, 30, 12)
    path = tmp_path / "out" / "scores.csv"
    items1, items2 = [f"a{i}.jpg" for i in range(12)], [f"b,{i}.jpg" for i in range(12)]
    write_scores(path, scores=scores, labels=labels, folds=folds, items1=items1, items2=items2)
    assert path.read_text().splitlines()[0] == "pair_id,fold,label,score,item1,item2"
    table = read_scores(path)
    assert np.array_equal(table.scores, scores)  # bit for bit
    assert np.array_equal(table.labels, labels) and np.array_equal(table.folds, folds)
    assert table.columns["pair_id"] == [str(i) for i in range(12)]
    assert table.columns["item2"][3] == "b,3.jpg"
    assert table.lines.tolist() == list(range(2, 14)) and table.fold_base == 0


def test_items_default_to_empty(tmp_path):
    path = tmp_path / "s.csv"
    write_scores(path, scores=np.array([0.5, 0.25]), labels=np.array([True, False]), folds=np.array([0, 0]))
    assert path.read_text().splitlines()[1:] == ["0,0,1,0.5,,", "1,0,0,0.25,,"]


def test_header_names_are_trimmed_and_case_free_and_extra_columns_kept(tmp_path):
    table = read_scores(csv_file(tmp_path, "\ufeff Score ,LABEL,fold,note\n" + rows().replace("\n", ",x\n")))
    assert table.scores.tolist() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert table.columns == {"note": ["x"] * 8}


def test_true_false_labels_and_blank_lines(tmp_path):
    text = "score,label,fold\n\n0.9,true,0\n0.1,FALSE,0\n\n0.8, 1 ,1\n0.2,0,1\n"
    table = read_scores(csv_file(tmp_path, text))
    assert table.labels.tolist() == [True, False, True, False]
    assert table.lines.tolist() == [3, 4, 6, 7]


def test_one_based_folds_are_read_as_zero_based(tmp_path):
    table = read_scores(csv_file(tmp_path, "score,label,fold\n" + rows(3, start=1)))
    assert table.folds.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert table.fold_base == 1 and "1..k" in table.fold_rule


def test_missing_fold_column_gets_the_stratified_split(tmp_path):
    body = "".join(f"0.{i},{i % 2}\n" for i in range(40))
    table = read_scores(csv_file(tmp_path, "score,label\n" + body))
    assert np.array_equal(table.folds, stratified_folds(table.labels))
    assert table.fold_rule.startswith("stratified 10-fold")


def error_of(tmp_path, text, **kwargs):
    with pytest.raises(FverifyError) as caught:
        read_scores(csv_file(tmp_path, text, **kwargs))
    return str(caught.value)


HEADER = "score,label,fold\n"


@pytest.mark.parametrize(
    "text, where, what",
    [
        ("", ":1", "empty"),
        ("0.5,1,0\n0.4,0,0\n", ":1", "missing column 'score'"),
        ("score,fold\n0.5,0\n", ":1", "missing column 'label'"),
        ("score,label,score\n", ":1", "'score' appears twice"),
        (HEADER + "0.5,1,0\n0.4,0\n", ":3", "2 fields, but the header names 3"),
        (HEADER + "0.5,1,0\nabc,0,0\n", ":3", "score 'abc' is not a number"),
        (HEADER + "0.5,1,0\n,0,0\n", ":3", "score '' is not a number"),
        (HEADER + "0.5,1,0\nnan,0,0\n", ":3", "score is nan"),
        (HEADER + "0.5,1,0\n0.4,0,0\n-inf,0,0\n", ":4", "score is -inf"),
        (HEADER + "0.5,1,0\n0.4,2,0\n", ":3", "label '2' is not 0 or 1"),
        (HEADER + "0.5,yes,0\n", ":2", "label 'yes' is not 0 or 1"),
        (HEADER + "0.5,1.0,0\n", ":2", "label '1.0' is not 0 or 1"),
        (HEADER + "0.5,1,a\n", ":2", "fold 'a' is not an integer"),
        (HEADER + "0.5,1,1.5\n", ":2", "fold '1.5' is not an integer"),
        (HEADER + "0.5,1,²\n", ":2", "fold '²' is not an integer"),
        (HEADER + "0.5,1,--1\n", ":2", "fold '--1' is not an integer"),
        (HEADER + "0.5,1,1_0\n", ":2", "fold '1_0' is not an integer"),
        (HEADER + '"0.5\n",1,0\n0.4,0,0\n0.3,x,0\n', ":5", "label 'x'"),  # a quoted field spans lines 2-3
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, where, what):
    message = error_of(tmp_path, text)
    assert f"scores.csv{where}: " in message and what in message


def test_first_bad_line_is_reported(tmp_path):
    message = error_of(tmp_path, HEADER + "0.5,1,0\n0.4,maybe,0\nfoo,0,0\n")
    assert "scores.csv:3: label 'maybe'" in message


@pytest.mark.parametrize(
    "body, what",
    [
        (rows().replace("0.2,0,0\n0.3,0,0\n", "0.2,1,0\n0.3,1,0\n"), "fold 0 has no negative (different) pairs"),
        (rows().replace(",1,1\n", ",0,1\n"), "fold 1 has no positive (same) pairs"),
        (rows(3).replace(",1\n", ",3\n"), "fold ids must be 0..k-1"),
        ("0.5,1,0\n0.4,0,0\n", "needs at least 2"),
        ("0.5,1,-1\n0.4,0,0\n0.3,1,1\n0.2,0,1\n", "fold ids must be 0..k-1"),
        ("", "there are no pairs"),
    ],
)
def test_bad_folds_name_the_file(tmp_path, body, what):
    message = error_of(tmp_path, HEADER + body)
    assert "scores.csv" in message and what in message


def test_bad_one_based_fold_says_how_it_is_counted(tmp_path):
    message = error_of(tmp_path, HEADER + rows(start=1).replace(",1,2\n", ",0,2\n"))
    assert "counted from 0" in message and "fold 1 has no positive" in message


def test_stratified_split_needs_ten_of_each_class(tmp_path):
    message = error_of(tmp_path, "score,label\n" + "0.9,1\n0.1,0\n" * 5 + "0.2,0\n" * 9)
    assert "scores.csv (no fold column): 10 folds each holding both classes need at least 10" in message
    assert "found 5 and 14" in message and "add a fold column" in message


def test_duplicate_pair_id(tmp_path):
    message = error_of(tmp_path, "pair_id,score,label,fold\n7,0.5,1,0\n8,0.4,0,0\n7,0.3,1,1\n9,0.2,0,1\n")
    assert "scores.csv:4: pair_id '7' already appears at line 2" in message


def test_unreadable_files(tmp_path):
    with pytest.raises(FverifyError, match="no such scores file"):
        read_scores(tmp_path / "absent.csv")
    assert "not UTF-8" in error_of(tmp_path, HEADER.encode() + b"0.5,1,0\xff\n")
    with pytest.raises(FverifyError, match="cannot read it"):
        read_scores(tmp_path)


def pair_files(tmp_path, text_a, text_b):
    return read_scores(csv_file(tmp_path, text_a, "a.csv")), read_scores(csv_file(tmp_path, text_b, "b.csv"))


WITH_IDS = "pair_id,score,label,fold\n" + "".join(f"{i},0.{i},{1 - i // 2 % 2},{i // 4}\n" for i in range(8))


def test_same_pairs_pass(tmp_path):
    check_same_pairs(*pair_files(tmp_path, WITH_IDS, WITH_IDS.replace(",0.", ",0.0")))


@pytest.mark.parametrize(
    "text_b, message",
    [
        (WITH_IDS.replace("7,0.7,0,1\n", ""), "b.csv: 7 pairs, but"),
        (WITH_IDS.replace("5,0.5", "15,0.5"), "b.csv:7: pair_id '15', but"),
        (WITH_IDS.replace("pair_id,", "id,").replace("2,0.2,0,0", "2,0.2,1,0"), "b.csv:4: the label differs"),
        (WITH_IDS.replace("3,0.3,0,0", "3,0.3,0,1").replace("6,0.6,0,1", "6,0.6,0,0"), "b.csv:5: the fold"),
    ],
)
def test_mismatched_pairs_are_refused_at_the_line(tmp_path, text_b, message):
    a, b = pair_files(tmp_path, WITH_IDS, text_b)
    with pytest.raises(FverifyError) as caught:
        check_same_pairs(a, b)
    assert message in str(caught.value) and "a.csv" in str(caught.value)


def test_first_bad_line_wins_whatever_its_fault(tmp_path):
    # A score error on line 3 comes before a wrong field count on line 4, read either way.
    for extra in ("", '"quoted",1,1\n'):
        message = error_of(tmp_path, HEADER + "0.5,1,0\n1_0,0,0\n0.4,0\n" + extra)
        assert "scores.csv:3: score '1_0' is not a number" in message


@pytest.mark.parametrize("score, what", [
    ("1_0", "score '1_0' is not a number"),
    ("١", "score '١' is not a number"),
    ("０.５", "score '０.５' is not a number"),
    ("1e999", "score '1e999' is beyond the float range"),
    ("-1.7976931348623157e308", "score '-1.7976931348623157e308' is the lowest float: no threshold lies below"),
    ("1" * 200, "score '11111111111111111111'... (200 characters) is not a number"),
])
def test_scores_are_parsed_strictly(tmp_path, score, what):
    assert f"scores.csv:3: {what}" in error_of(tmp_path, HEADER + f"0.5,1,0\n{score},0,0\n")


def test_huge_fold_id_is_refused_at_its_line(tmp_path):
    message = error_of(tmp_path, HEADER + f"0.5,1,0\n0.4,0,{2**63}\n")
    assert "scores.csv:3: fold '9223372036854775808' has more than 18 digits" in message
    message = error_of(tmp_path, HEADER + "0.5,1,0\n0.4,0," + "1" * 5000 + "\n")
    assert "scores.csv:3: fold '11111111111111111111'... (5,000 characters) has more than 18" in message


def test_a_field_over_the_csv_limit_is_an_error_at_its_line(tmp_path):
    long_field = "x" * 131_073
    for quote in ("", '"'):
        message = error_of(tmp_path, "score,label,note\n0.5,1,a\n" + f"0.4,0,{quote}{long_field}{quote}\n")
        assert "scores.csv:3: not readable as CSV: field larger than field limit (131072)" in message
        assert "at most 131,072 characters" in message


def test_pair_ids_repeated_or_not_read_in_bulk(tmp_path):
    # '7' and '007' are different ids; '7' and ' 7 ' are the same one (spaces are trimmed).
    body = "7,0.5,1,0\n007,0.4,0,0\n8,0.3,1,1\n9,0.2,0,1\n"
    assert read_scores(csv_file(tmp_path, "pair_id,score,label,fold\n" + body)).num_pairs == 4
    message = error_of(tmp_path, "pair_id,score,label,fold\n" + body + "10,0.1,1,1\n 7 ,0.1,0,1\n9,0.1,0,1\n")
    assert "scores.csv:7: pair_id '7' already appears at line 2" in message
    message = error_of(tmp_path, "pair_id,score,label,fold\n" + body + "10,0.1,1,1\n9,0.1,0,1\n8,0.1,0,1\n")
    assert "scores.csv:7: pair_id '9' already appears at line 5" in message


def read_outcome(path):
    """What read_scores makes of a file: its arrays, or its error message."""
    try:
        table = read_scores(path)
    except FverifyError as error:
        return str(error)
    return (table.scores.tobytes(), table.labels.tolist(), table.folds.tolist(), table.lines.tolist(),
            table.fold_rule, dict(table.columns))


# Replacements that a hostile or careless writer puts into a field.
MUTANTS = ["1_0", " 1 ", "TRUE", "false", "x", "", "-1", "1e999", "nan", "-inf", "１", "١", "²", "0.5e-3",
           "+.5", "007", "1e", str(2**63), "-1.7976931348623157e308", "2", "10", "\t0\t", '"0.5"', ",", "\r"]


def test_bulk_and_csv_module_readings_agree(tmp_path):
    """Seeded mutations of a valid file: the bulk reader gives what the csv module path gives,
    the same arrays or the same message, and takes most files."""
    rng = np.random.default_rng(0)
    bulk_taken = 0
    for case in range(300):
        lines = ["pair_id,score,label,fold"] + [f"{i},{rng.random():.6f},{i % 2},{i // 8}" for i in range(32)]
        for _ in range(rng.integers(0, 4)):
            row = int(rng.integers(1, len(lines)))
            fields = lines[row].split(",")
            fields[int(rng.integers(0, 4))] = str(rng.choice(MUTANTS))
            lines[row] = ",".join(fields)
        if rng.random() < 0.3:
            lines.insert(int(rng.integers(1, len(lines))), "")
        path = tmp_path / f"case{case}.csv"
        path.write_text(("\r\n" if rng.random() < 0.2 else "\n").join(lines) + "\n", newline="")
        bulk = read_outcome(path)
        with patch.object(bulk_fields, "simple_grid", return_value=None):
            one_by_one = read_outcome(path)
        assert bulk == one_by_one, path.read_text()
        bulk_taken += bulk_fields.simple_grid(path.read_bytes(), 4) is not None
    assert bulk_taken > 200
