import pytest

from fverify.errors import FverifyError
from fverify.models.preprocessing import (
    Preprocessing,
    PreprocessingFlags,
    check_face_size,
    parse_channels,
    parse_input_size,
)


def test_parse_channels_one_or_three_values():
    assert parse_channels("127.5") == (127.5, 127.5, 127.5)
    assert parse_channels("1,2,3") == (1.0, 2.0, 3.0)
    with pytest.raises(ValueError):
        parse_channels("1,2")


def test_parse_input_size_square_or_height_by_width():
    assert parse_input_size("112") == (112, 112)
    assert parse_input_size("112x96") == (112, 96)
    with pytest.raises(ValueError):
        parse_input_size("0")


def test_contract_round_trips_through_its_dict_and_accepts_scalars():
    contract = Preprocessing(input_size=(112, 96), color="BGR", mean=(1.0, 2.0, 3.0), std=(4.0, 5.0, 6.0))
    assert Preprocessing.from_dict(contract.to_dict(), "ckpt") == contract
    scalar = {"input_size": [112, 112], "color": "RGB", "mean": 127.5, "std": 128}
    assert Preprocessing.from_dict(scalar, "ckpt") == Preprocessing()


def test_invalid_contract_names_the_file():
    with pytest.raises(FverifyError, match="ckpt.pt: invalid preprocessing"):
        Preprocessing.from_dict({"input_size": [112, 112], "color": "RGB", "mean": 0, "std": 0}, "ckpt.pt")


def test_flags_override_only_what_was_given():
    base = Preprocessing(color="BGR", std=(127.5,) * 3)
    result = PreprocessingFlags(mean=(0.0, 0.0, 0.0)).apply(base)
    assert result == Preprocessing(color="BGR", mean=(0.0, 0.0, 0.0), std=(127.5,) * 3)
    assert PreprocessingFlags().apply(base) == base


def test_wrong_image_size_says_alignment_is_needed():
    check_face_size((112, 112, 3), (112, 112), "a.jpg")
    with pytest.raises(FverifyError, match=r"a.jpg: image is 250x250 pixels but the model takes 112x112") as caught:
        check_face_size((250, 250, 3), (112, 112), "a.jpg")
    assert "align" in caught.value.fix
