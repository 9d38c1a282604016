import pytest

from fverify.errors import FverifyError
from fverify.protocols.fields import integer, parse_fold_id, parse_label


@pytest.mark.parametrize("text, minimum, expected", [
    ("12", None, 12), (" -3 ", None, -3), ("007", None, 7), ("0", 1, None), ("5", 1, 5),
    ("²", None, None), ("--1", None, None), ("+1", None, None), ("1_0", None, None),
    ("١", None, None), ("1.0", None, None), ("", None, None), ("-", None, None),
])
def test_integers_are_ascii_digits_with_an_optional_minus(text, minimum, expected):
    assert integer(text, minimum) == expected


def test_fold_ids_and_labels_name_the_line():
    assert parse_fold_id(" 3", "f.csv:2") == 3
    with pytest.raises(FverifyError, match=r"f.csv:2: fold '²' is not an integer"):
        parse_fold_id("²", "f.csv:2")
    assert [parse_label(t, "f.csv:2") for t in ("1", " TRUE", "0", "False")] == [True, True, False, False]
    with pytest.raises(FverifyError, match=r"f.csv:4: label 'yes' is not 0 or 1"):
        parse_label("yes", "f.csv:4")
