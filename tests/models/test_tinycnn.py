import torch

from fverify.models.registry import backbone_spec


def test_any_size_and_no_cross_sample_dependence():
    torch.manual_seed(0)
    model = backbone_spec("tinycnn").build(24)
    for size in ((32, 32), (112, 112), (40, 56)):
        x = torch.randn(4, 3, *size)
        out = model(x)
        assert out.shape == (4, 24)
        # no batch norm: a sample's embedding does not depend on the rest of the batch
        torch.testing.assert_close(model(x[1:2]), out[1:2], rtol=1e-5, atol=1e-6)
