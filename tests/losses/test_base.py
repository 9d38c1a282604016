"""Numerics every head shares: finite values and gradients at the edges, fp32 under autocast,
float64 gradients that match finite differences."""
import pytest
import torch
from torch.func import functional_call

from fverify.losses import HEADS, build_head

NUM_CLASSES, DIM = 7, 5


def make_head(name, dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    head = build_head(name, NUM_CLASSES, DIM).to(dtype)
    with torch.no_grad():  # well spread class weights of norm ~1
        head.weight.normal_()
    return head.eval()


def losses_and_gradients(head, embeddings, labels):
    embeddings = embeddings.clone().requires_grad_(True)
    output = head(embeddings, labels)
    output.losses.sum().backward()
    return output, embeddings.grad, head.weight.grad


def assert_all_finite(*tensors):
    for tensor in tensors:
        assert torch.isfinite(tensor).all(), tensor


@pytest.mark.parametrize("name", HEADS)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_finite_at_cos_plus_minus_one(name, sign):
    head = make_head(name)
    labels = torch.tensor([0, 1, 2])
    # embedding = +-W_y (cos_y = +-1) and = +-W_j of another class (cos_j = +-1 for j != y)
    embeddings = sign * head.weight.detach()[torch.tensor([0, 1, 4])]
    output, embedding_grad, weight_grad = losses_and_gradients(head, embeddings, labels)
    assert_all_finite(output.losses, output.logits, embedding_grad, weight_grad)


@pytest.mark.parametrize("name", HEADS)
def test_finite_for_zero_embeddings(name):
    head = make_head(name)
    output, embedding_grad, weight_grad = losses_and_gradients(
        head, torch.zeros(3, DIM), torch.tensor([0, 3, 6]))
    assert_all_finite(output.losses, output.logits, embedding_grad, weight_grad)


# Settings that make each head's logits huge: the norm-scaled heads through the embeddings'
# norms, the normalised ones through their scale; NPT's logits are cosines whatever happens.
HUGE_SCALE = {"arcface": {"scale": 1e6}, "cosface": {"scale": 1e6}, "amm": {"scale": 1e6}}


@pytest.mark.parametrize("name", HEADS)
def test_finite_for_huge_logits(name):
    torch.manual_seed(0)
    head = build_head(name, NUM_CLASSES, DIM, **HUGE_SCALE.get(name, {})).eval()
    with torch.no_grad():
        head.weight.normal_()
    embeddings = 1e6 * torch.randn(4, DIM, generator=torch.Generator().manual_seed(1))
    output, embedding_grad, weight_grad = losses_and_gradients(
        head, embeddings, torch.tensor([0, 1, 2, 3]))
    assert_all_finite(output.losses, output.logits, embedding_grad, weight_grad)
    if name != "npt":
        assert output.logits.abs().max() > 1e5
        assert output.losses.max() > 1e4  # far beyond where exp() overflows in float32


@pytest.mark.parametrize("name", HEADS)
def test_computes_in_float32_under_autocast_and_for_half_inputs(name):
    head = make_head(name)
    embeddings = torch.randn(8, DIM, generator=torch.Generator().manual_seed(2))
    labels = torch.arange(8) % NUM_CLASSES
    reference = head(embeddings, labels)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        autocast = head(embeddings, labels)
    assert autocast.losses.dtype == autocast.logits.dtype == torch.float32
    torch.testing.assert_close(autocast.losses, reference.losses)
    rounded = embeddings.to(torch.bfloat16)
    half = head(rounded, labels)
    assert half.losses.dtype == torch.float32
    torch.testing.assert_close(half.losses, head(rounded.float(), labels).losses)


@pytest.mark.parametrize("name", HEADS)
def test_gradcheck_float64(name):
    head = make_head(name, torch.float64)
    generator = torch.Generator().manual_seed(3)
    embeddings = torch.randn(6, DIM, generator=generator, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    parameters = {key: value.detach().clone().requires_grad_(True)
                  for key, value in head.named_parameters()}

    def losses(embeddings, *values):
        return functional_call(head, dict(zip(parameters, values)), (embeddings, labels)).losses

    assert torch.autograd.gradcheck(losses, (embeddings, *parameters.values()))


@pytest.mark.parametrize("name", HEADS)
def test_target_probability_is_softmax_of_logits(name):
    head = make_head(name)
    embeddings = torch.randn(5, DIM, generator=torch.Generator().manual_seed(4))
    labels = torch.tensor([0, 2, 4, 6, 1])
    output = head(embeddings, labels)
    probability = head.target_probability(output.logits, labels)
    assert ((probability >= 0) & (probability <= 1)).all()
    if name != "npt":  # cross-entropy heads: loss = -log p_y
        torch.testing.assert_close(probability, torch.exp(-output.losses))
