import re

from fverify.data.synth import person_names


def test_names_are_unique_lfw_style_and_seeded():
    names = person_names(500, seed=2)
    assert len(set(names)) == 500
    assert all(re.fullmatch(r"[A-Z][a-z]+_[A-Z][a-z]+", name) for name in names)
    assert person_names(500, seed=2) == names
    assert person_names(20, seed=2) == names[:20]
    assert person_names(20, seed=3) != names[:20]
