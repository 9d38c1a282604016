import pytest

from fverify.errors import FverifyError
from fverify.fields import integer, number, parse_fold_id, parse_label, shown


@pytest.mark.parametrize("text, minimum, expected", [
    ("12", None, 12), (" -3 ", None, -3), ("007", None, 7), ("0", 1, None), ("5", 1, 5),
    ("²", None, None), ("--1", None, None), ("+1", None, None), ("1_0", None, None),
    ("١", None, None), ("１", None, None), ("1.0", None, None), ("", None, None), ("-", None, None),
    ("\u20031\u2003", None, None),  # em spaces are not ASCII whitespace
    ("9" * 18, None, 999_999_999_999_999_999), ("-" + "9" * 18, None, -999_999_999_999_999_999),
    ("9" * 19, None, None), (str(2**63), None, None), ("1" * 5000, None, None),
])
def test_integers_are_ascii_digits_with_an_optional_minus(text, minimum, expected):
    assert integer(text, minimum) == expected


@pytest.mark.parametrize("text, expected", [
    ("0.5", 0.5), (" -1.25e-3\t", -0.00125), ("+2", 2.0), ("1.", 1.0), (".5", 0.5), ("1E5", 1e5),
    ("1.e-2", 0.01), ("007", 7.0), ("1e400", float("inf")),
    ("1_0", None), ("1_0.5", None), ("١", None), ("１.5", None), ("0x10", None), ("1e", None),
    (".", None), ("", None), ("1.2.3", None), ("--1", None), ("1e5.0", None), ("0.5 0.5", None),
    ("\u20030.5", None), ("e5", None), ("1" * 101, None),
])
def test_numbers_are_ascii_decimal_or_scientific(text, expected):
    assert number(text) == expected


def test_number_names_non_finite_words_and_is_bounded():
    assert [str(number(t)) for t in ("nan", "-Inf", "INFINITY", "+nan")] == ["nan", "-inf", "inf", "nan"]
    assert number("infinit") is None and number("nana") is None
    assert number("1" * 100) == float("1" * 100)  # 100 characters is the longest allowed


def test_fold_ids_and_labels_name_the_line():
    assert parse_fold_id(" 3", "f.csv:2") == 3
    with pytest.raises(FverifyError, match=r"f.csv:2: fold '²' is not an integer"):
        parse_fold_id("²", "f.csv:2")
    assert [parse_label(t, "f.csv:2") for t in ("1", " TRUE", "0", "False")] == [True, True, False, False]
    with pytest.raises(FverifyError, match=r"f.csv:4: label 'yes' is not 0 or 1"):
        parse_label("yes", "f.csv:4")
    with pytest.raises(FverifyError, match=r"f.csv:4: label '\\u20031' is not 0 or 1"):
        parse_label("\u20031", "f.csv:4")


@pytest.mark.parametrize("text", [str(2**63), "9" * 19, "-" + "1" * 5000])
def test_huge_fold_ids_are_refused_by_their_size(text):
    with pytest.raises(FverifyError) as caught:
        parse_fold_id(text, "f.csv:3")
    message = str(caught.value)
    assert message.startswith("f.csv:3: fold ") and "has more than 18 digits" in message
    assert len(message) < 200  # a 5,000-digit field is cut, not printed whole


def test_shown_cuts_long_text():
    assert shown("abc") == "'abc'"
    assert shown("x" * 41) == "'xxxxxxxxxxxxxxxxxxxx'... (41 characters)"
