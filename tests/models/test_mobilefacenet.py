import torch

from fverify.models.checkpoint import build_backbone
from fverify.models.mobilefacenet import mobilefacenet
from tests.models.insightface_layout import mobilefacenet_keys


def test_parameter_names_and_shapes_are_insightface_mbf():
    state = mobilefacenet().state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == mobilefacenet_keys()


def test_insightface_mbf_state_dict_loads_and_embeds():
    generator = torch.Generator().manual_seed(1)
    published = {key: (torch.rand(shape, generator=generator) + 0.5) if shape else torch.tensor(3)
                 for key, shape in mobilefacenet_keys(num_features=256).items()}
    backbone = build_backbone("mobilefacenet", published, "mbf.pth")  # embedding size read from the file
    assert torch.equal(backbone.state_dict()["features.layers.2.weight"], published["features.layers.2.weight"])
    with torch.no_grad():
        assert backbone(torch.randn(2, 3, 112, 112)).shape == (2, 256)


def test_forward_is_deterministic_in_eval_mode():
    backbone = mobilefacenet(64).eval()
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(backbone(x), backbone(x))
