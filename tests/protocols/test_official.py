import pytest

from fverify.errors import FverifyError
from fverify.protocols.official import differs_from_official, manifest, md5_of, official_path

# Published checksums (torchvision's LFW pins; the YTF lists as rebuilt from bob.db.youtube).
PUBLISHED_MD5 = {
    "lfw/pairs.txt": "9f1ba174e4e1c508ff7cdf10ac338a7d",
    "lfw/pairsDevTrain.txt": "4f27cbf15b2da4a85c1907eb4181ad21",
    "lfw/pairsDevTest.txt": "5132f7440eb68cf58910c8a45a2ac10b",
    "lfw/people.txt": "450f0863dd89e85e73936a6d71a3474b",
    "ytf/splits.txt": "cfc30cb5747426c0ee1d152bad52dff0",
}


def test_every_shipped_list_matches_its_manifest_md5():
    entries = manifest()
    assert len(entries) == 9
    for name, (md5, source) in entries.items():
        assert md5_of(official_path(name)) == md5, name
        assert source


@pytest.mark.parametrize("name", sorted(PUBLISHED_MD5))
def test_manifest_carries_the_published_checksums(name):
    assert manifest()[name][0] == PUBLISHED_MD5[name]


def test_a_modified_copy_is_reported(tmp_path):
    copy = tmp_path / "pairs.txt"
    copy.write_bytes(official_path("lfw/pairs.txt").read_bytes())
    assert differs_from_official(copy, "lfw/pairs.txt") is None
    copy.write_bytes(copy.read_bytes().replace(b"\n", b"\r\n"))
    warning = differs_from_official(copy, "lfw/pairs.txt")
    assert warning is not None and "differs from the official lfw/pairs.txt" in warning


def test_unknown_list_name_says_which_exist():
    with pytest.raises(FverifyError, match="lfw/pairs.txt"):
        official_path("lfw/pairs2.txt")
