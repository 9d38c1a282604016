import pytest

from fverify.errors import FverifyError
from fverify.losses import HEADS, Head, build_head, head_options


def test_every_registered_head_builds_with_its_defaults():
    assert set(HEADS) == {"softmax", "sphereface", "arcface", "cosface", "npt", "amm"}
    for name in HEADS:
        head = build_head(name, 10, 8)
        assert isinstance(head, Head) and head.weight.shape == (10, 8)


def test_options_override_defaults():
    head = build_head("arcface", 10, 8, margin=0.3, easy_margin=True)
    assert (head.scale, head.margin, head.easy_margin) == (64.0, 0.3, True)
    assert head_options("cosface") == {"scale": 64.0, "margin": 0.35}


def test_unknown_head_lists_the_known_ones():
    with pytest.raises(FverifyError) as error:
        build_head("focal", 10, 8)
    assert "arcface" in str(error.value) and "amm" in str(error.value)


def test_unknown_option_lists_the_settings():
    with pytest.raises(FverifyError) as error:
        build_head("cosface", 10, 8, m=0.4)
    assert "no setting m" in str(error.value) and "margin=0.35" in str(error.value)


@pytest.mark.parametrize("name, options", [
    ("arcface", {"margin": 4.0}),          # degrees given where radians are expected
    ("cosface", {"scale": 0.0}),
    ("npt", {"k": 0}),
    ("amm", {"hard_margin": -0.1}),
])
def test_bad_values_are_user_errors(name, options):
    with pytest.raises(FverifyError):
        build_head(name, 10, 8, **options)


def test_too_few_classes():
    with pytest.raises(FverifyError, match="num_classes"):
        build_head("softmax", 1, 8)
