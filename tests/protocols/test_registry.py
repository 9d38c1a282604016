import pytest

from fverify.errors import FverifyError
from fverify.protocols.insightface_bin import load_bin
from fverify.protocols.registry import PROTOCOLS, get_adapter, image_protocols


def test_every_protocol_family_is_registered_with_its_loader():
    assert list(PROTOCOLS) == ["lfw", "ytf", "bin", "pairs"]
    assert get_adapter("bin").load is load_bin
    assert image_protocols() == ["lfw", "bin", "pairs"]
    assert get_adapter("ytf").item_kind == "video"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(FverifyError, match="(?s)unknown protocol .cfp.*lfw, ytf, bin, pairs"):
        get_adapter("cfp")
