import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fverify import bulk_fields
from fverify.fields import integer, number


def grid_of(text, num_columns):
    return bulk_fields.simple_grid(text.encode(), num_columns)


def csv_rows(text):
    """(line, row) of every non-blank row below the header, as the csv module reads them."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    rows, end = [], reader.line_num
    for row in reader:
        line, end = end + 1, reader.line_num
        if row:
            rows.append((line, row))
    return rows


@pytest.mark.parametrize("text", [
    "a,b\n1,2\n\n3,4\n",
    "a,b\r\n1,2\r\n\r\n3,4",  # CRLF, no final line end
    "a,b\n,\n x , y \n",
    "a,b\n",
    "a\n1\n\n\n2\n",
])
def test_grid_rows_and_lines_are_the_csv_modules(text):
    num_columns = len(text.split("\n")[0].split(","))
    grid = grid_of(text, num_columns)
    expected = csv_rows(text)
    assert grid.lines.tolist() == [line for line, _ in expected]
    assert [grid.row(i) for i in range(grid.num_rows)] == [row for _, row in expected]
    for column in range(num_columns):
        assert grid.texts(column) == [row[column] for _, row in expected]


@pytest.mark.parametrize("text", [
    'a,b\n"1",2\n',  # quotes: the csv module's job
    "a,b\n1,2\r3,4\n",  # a bare CR ends a line
    "a,b\n1,2\x00\n",
    "a,b\n1,2\n3\n",  # a row of the wrong width
    "a,b\n1,2,3\n",
    "a,b\n1," + "x" * (csv.field_size_limit() + 1) + "\n",
])
def test_files_that_are_not_simple_are_left_to_the_csv_module(text):
    assert grid_of(text, 2) is None


def test_numbers_vouch_only_for_plain_spellings():
    fields = ["0.5", "-1e-3", "+.5", "7.", "1_0", " 1", "nan", "1e", "1-2", "", "1e999", "١", "9" * 40]
    grid = grid_of("s\n" + "\n".join(fields) + "\n", 1)
    # An empty line is no row: the empty field never reaches the grid.
    fields.remove("")
    values, vouched = bulk_fields.numbers(grid, 0)
    assert vouched.tolist() == [True] * 4 + [False] * 5 + [True, False, False]
    assert values[vouched].tolist() == [0.5, -0.001, 0.5, 7.0, float("inf")]


def test_integers_and_labels_vouch_only_for_plain_spellings():
    grid = grid_of("f,l\n7,1\n0042,0\n-1,true\n 3,1 \n1_0,2\n" + "9" * 19 + ",0\n" + "9" * 18 + ",1\n", 2)
    values, vouched = bulk_fields.integers(grid, 0)
    assert vouched.tolist() == [True, True, False, False, False, False, True]
    assert values[vouched].tolist() == [7, 42, 10**18 - 1]
    labels, vouched = bulk_fields.labels(grid, 1)
    assert vouched.tolist() == [True, True, False, False, False, True, True]
    assert labels[vouched].tolist() == [True, False, False, True]


# Fields drawn from the spellings that separate a strict parser from a lenient one.
PIECES = ["0", "1", "7", "9", ".", "e", "E", "+", "-", "_", " ", "\t", "١", "１", "²", "x", "nan", "inf"]
fields = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(fields, min_size=1, max_size=30))
def test_bulk_parsers_agree_with_the_field_parsers(column):
    grid = grid_of("x\n" + "\n".join(column) + "\n", 1)
    texts = grid.texts(0)
    values, vouched = bulk_fields.numbers(grid, 0)
    for text, value, sure in zip(texts, values.tolist(), vouched.tolist()):
        if sure:  # never accepts what number() refuses, and reads the same float
            assert number(text) is not None and np.float64(number(text)).tobytes() == np.float64(value).tobytes()
    values, vouched = bulk_fields.integers(grid, 0)
    for text, value, sure in zip(texts, values.tolist(), vouched.tolist()):
        if sure:
            assert integer(text) == value
    # Plain spellings are vouched for: the bulk path is not a no-op.
    plain = [text.isascii() and text.isdigit() and len(text) <= 18 for text in texts]
    assert np.array_equal(vouched, plain)


def test_short_text_keys_are_equal_exactly_when_the_texts_are():
    ids = ["7", "007", "7", "abcdefgh", "abcdefg", "", "a-1", "", "aé1", "aé1"]
    keys = bulk_fields.short_text_keys(grid_of("id,x\n" + "".join(f"{i},0\n" for i in ids), 2), 0)
    same = keys[:, None] == keys[None, :]
    assert np.array_equal(same, np.array(ids)[:, None] == np.array(ids)[None, :])


@pytest.mark.parametrize("field", [" 7", "7\t", "abcdefghi", "7\u00a0", "\u3000"])
def test_short_text_keys_leave_strippable_or_long_ids_to_the_text(field):
    assert bulk_fields.short_text_keys(grid_of(f"id,x\n1,0\n{field},0\n", 2), 0) is None


def test_character_classes_are_exactly_the_number_and_digit_bytes():
    every_byte = np.arange(256, dtype=np.uint8)[:, None]
    number_bytes = set(b"\x000123456789+-.eE")
    assert bulk_fields._number_characters(every_byte).tolist() == [b in number_bytes for b in range(256)]
    assert bulk_fields._digits(every_byte).tolist() == [b in set(b"\x000123456789") for b in range(256)]
