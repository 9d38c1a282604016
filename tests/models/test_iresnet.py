import pytest
import torch

from fverify.models.checkpoint import build_backbone
from fverify.models.iresnet import iresnet18
from fverify.models.registry import backbone_spec
from tests.models.insightface_layout import iresnet_keys

UNITS = {"iresnet18": (2, 2, 2, 2), "iresnet34": (3, 4, 6, 3), "iresnet50": (3, 4, 14, 3), "iresnet100": (3, 13, 30, 3)}


def shapes(state_dict):
    return {key: tuple(value.shape) for key, value in state_dict.items()}


@pytest.mark.parametrize("arch", ["iresnet18", "iresnet50"])
def test_parameter_names_and_shapes_are_insightfaces(arch):
    assert shapes(backbone_spec(arch).build().state_dict()) == iresnet_keys(UNITS[arch])


@pytest.mark.parametrize("arch", ["iresnet34", "iresnet100"])
def test_deeper_variants_have_insightfaces_key_set(arch):
    assert set(backbone_spec(arch).build().state_dict()) == set(iresnet_keys(UNITS[arch]))


def test_an_insightface_style_state_dict_loads_as_published():
    generator = torch.Generator().manual_seed(0)
    published = {key: torch.randn(shape, generator=generator) if shape else torch.tensor(7)
                 for key, shape in iresnet_keys(UNITS["iresnet18"]).items()}
    backbone = build_backbone("iresnet18", published, "backbone.pth")
    loaded = backbone.state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in published.items())
    assert not backbone.training


def test_embedding_shape_and_frozen_feature_scale():
    backbone = iresnet18(embedding_dim=128).eval()
    with torch.no_grad():
        out = backbone(torch.randn(2, 3, 112, 112))
    assert out.shape == (2, 128)
    assert not backbone.features.weight.requires_grad
