import subprocess
import sys

import pytest

from fverify.errors import FverifyError
from fverify.models.registry import BACKBONES, backbone_spec


def test_unknown_arch_lists_the_known_ones():
    with pytest.raises(FverifyError, match="unknown architecture 'resnet18'") as caught:
        backbone_spec("resnet18")
    assert all(name in str(caught.value) for name in BACKBONES)


def test_every_registered_embedding_key_names_the_embedding_layer():
    for name in ("iresnet18", "mobilefacenet"):
        spec = backbone_spec(name)
        assert spec.build(96).state_dict()[spec.embedding_key].shape == (96,)


def test_building_the_cli_parsers_does_not_import_torch_or_pandas():
    code = ("import sys, fverify.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('torch', 'pandas') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
