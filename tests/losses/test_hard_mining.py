import math

import pytest
import torch

from fverify.errors import FverifyError
from fverify.losses import ArcFaceHead, HardMining, SoftmaxHead
from fverify.losses.hard_mining import hard_mining_loss, hard_mining_weight

SIGMOID_AT_ONE = 1 / (1 + math.exp(-35 * (1.1 - 0.75)))  # sigmoid(12.25) = 1 - 4.8e-6
GAIN = {"eq2": 1.5, "alg1": 1.5 * 1.1}                   # x1.5 and x1.65


def softmax_head(weight, bias=None):
    head = SoftmaxHead(*weight.shape).double()
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(torch.zeros(weight.shape[0]) if bias is None else bias)
    return head


def embeddings_with_losses(losses):
    """Softmax head over 3 classes and one embedding per requested cross-entropy loss:
    logits [t, 0, 0] with log(1 + 2 exp(-t)) = loss."""
    head = softmax_head(torch.eye(3, dtype=torch.float64))
    t = [-math.log((math.exp(loss) - 1) / 2) for loss in losses]
    embeddings = torch.zeros(len(losses), 3, dtype=torch.float64)
    embeddings[:, 0] = torch.tensor(t, dtype=torch.float64)
    return head, embeddings, torch.zeros(len(losses), dtype=torch.int64)


def embedding_gradient(loss_fn, embeddings, labels):
    embeddings = embeddings.clone().requires_grad_(True)
    loss_fn(embeddings, labels).backward()
    return embeddings.grad


@pytest.mark.parametrize("form", ["eq2", "alg1"])
def test_loss_of_one_or_more_is_scaled_by_the_gain(form):
    losses = torch.tensor([1.0, 1.5, 3.0, 10.0, 1e4], dtype=torch.float64)
    values = hard_mining_loss(losses, form=form)
    torch.testing.assert_close(values, GAIN[form] * losses, rtol=5e-6, atol=0)
    assert values[0].item() == pytest.approx(GAIN[form] * SIGMOID_AT_ONE, rel=1e-12)


@pytest.mark.parametrize("form", ["eq2", "alg1"])
def test_easy_loss_is_suppressed(form):
    assert hard_mining_loss(torch.tensor(0.3), form=form).item() < 1e-4
    assert hard_mining_loss(torch.tensor(0.0), form=form).item() == 0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_finite_value_and_gradient_for_huge_losses(dtype):
    losses = torch.tensor([1e4, torch.finfo(dtype).max / 4], dtype=dtype, requires_grad=True)
    values = hard_mining_loss(losses)
    values.sum().backward()
    assert torch.isfinite(values).all() and torch.isfinite(losses.grad).all()
    torch.testing.assert_close(losses.grad, torch.full_like(losses, 1.5))


@pytest.mark.parametrize("form", ["eq2", "alg1"])
def test_gradcheck_of_the_formula_across_the_soft_step(form):
    losses = torch.linspace(0.4, 1.2, 17, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: hard_mining_loss(x, form=form), (losses,))


@pytest.mark.parametrize("form", ["eq2", "alg1"])
@pytest.mark.parametrize("reduction", ["sample", "batch"])
def test_gradcheck_through_a_head(form, reduction):
    head, embeddings, labels = embeddings_with_losses([0.5, 0.65, 0.7, 0.9, 1.3])
    wrapper = HardMining(head, form=form, reduction=reduction)
    embeddings.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: wrapper(x, labels), (embeddings,))


def test_batch_reduction_scales_every_sample_gradient_by_one_factor():
    head, embeddings, labels = embeddings_with_losses([0.2, 0.5, 0.8, 1.1])  # mean 0.65
    plain = embedding_gradient(lambda x, y: head(x, y).losses.mean(), embeddings, labels)
    mined = embedding_gradient(HardMining(head, reduction="batch"), embeddings, labels)
    mean = torch.tensor(0.65, dtype=torch.float64, requires_grad=True)
    (factor,) = torch.autograd.grad(hard_mining_loss(mean), mean)   # d L_HM / d mean(L)
    assert 0.1 < factor.item() < 100                                # not the saturated x1.5
    torch.testing.assert_close(mined, factor * plain)


def test_per_sample_reduction_mines_easy_and_hard_samples():
    head, embeddings, labels = embeddings_with_losses([0.3, 4.0])
    plain = embedding_gradient(lambda x, y: head(x, y).losses.mean(), embeddings, labels)
    mined = embedding_gradient(HardMining(head), embeddings, labels)
    assert plain[0].abs().max() > 0.1                               # the easy sample's own
    assert mined[0].abs().max() < 1e-4 * plain[0].abs().max()       # ... is switched off
    torch.testing.assert_close(mined[1], 1.5 * plain[1], rtol=1e-6, atol=0)


def test_batch_reduction_on_a_margin_head_is_a_constant_one_and_a_half():
    torch.manual_seed(0)
    head = ArcFaceHead(50, 16)
    embeddings, labels = torch.randn(64, 16), torch.randint(0, 50, (64,))
    losses = head(embeddings, labels).losses
    assert losses.min() > 1.0
    mined = HardMining(head, reduction="batch")(embeddings, labels)
    torch.testing.assert_close(mined, 1.5 * losses.mean(), rtol=1e-6, atol=0)


@pytest.mark.parametrize("reduction", ["sample", "batch"])
def test_last_batch_record(reduction):
    head, embeddings, labels = embeddings_with_losses([0.3, 0.7, 2.0])
    wrapper = HardMining(head, reduction=reduction, form="alg1")
    loss = wrapper(embeddings.clone().requires_grad_(True), labels)
    record = wrapper.last_batch
    expected_losses = torch.tensor([0.3, 0.7, 2.0], dtype=torch.float64)
    torch.testing.assert_close(record.base_losses, expected_losses)
    torch.testing.assert_close(record.target_probability, torch.exp(-expected_losses))
    if reduction == "sample":
        expected_weights = hard_mining_weight(expected_losses, form="alg1")
    else:
        expected_weights = hard_mining_weight(expected_losses.mean(), form="alg1").expand(3)
    torch.testing.assert_close(record.weights, expected_weights)
    assert record.loss == loss.detach()
    for tensor in (record.target_probability, record.base_losses, record.weights, record.loss):
        assert not tensor.requires_grad


@pytest.mark.parametrize("reduction", ["sample", "batch"])
def test_float32_under_autocast(reduction):
    torch.manual_seed(0)
    wrapper = HardMining(SoftmaxHead(4, 3), reduction=reduction)
    embeddings, labels = torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 0, 1])
    reference = wrapper(embeddings, labels)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = wrapper(embeddings, labels)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, reference)


def test_wrapper_exposes_the_head_parameters():
    head = ArcFaceHead(5, 3)
    assert list(HardMining(head).parameters()) == [head.weight]


@pytest.mark.parametrize("settings, message", [
    ({"form": "eq1"}, "form"),
    ({"reduction": "mean"}, "reduction"),
    ({"alpha": 0.0}, "alpha"),
])
def test_rejects_bad_settings(settings, message):
    with pytest.raises(FverifyError, match=message):
        HardMining(ArcFaceHead(5, 3), **settings)


@pytest.mark.parametrize("settings, message", [
    ({"form": "Alg1"}, "unknown hard-mining form 'Alg1'; choose one of eq2, alg1"),
    ({"form": "eq1"}, "unknown hard-mining form 'eq1'"),
    ({"beta": -1.1}, "beta must be positive"),
    ({"reduction": "mean"}, "unknown hard-mining reduction 'mean'; choose one of sample, batch"),
])
def test_formula_refuses_what_the_wrapper_refuses(settings, message):
    # A misspelt form used to fall back to eq2 silently.
    with pytest.raises(FverifyError, match=message):
        hard_mining_loss(torch.tensor([0.5, 2.0]), **settings)


@pytest.mark.parametrize("reduction", ["sample", "batch"])
def test_reduced_formula_is_what_the_wrapper_returns(reduction):
    losses = [0.2, 0.7, 1.4]
    head, embeddings, labels = embeddings_with_losses(losses)
    wrapped = HardMining(head, reduction=reduction, form="alg1")(embeddings, labels)
    values = torch.tensor(losses, dtype=torch.float64)
    # Independent value: Algorithm 1's formula written out, per sample or on the batch mean.
    def alg1(x):
        return 1.5 * 1.1 * x * torch.sigmoid(35 * (1.1 * x - 0.75))
    expected = alg1(values).mean() if reduction == "sample" else alg1(values.mean())
    torch.testing.assert_close(hard_mining_loss(values, reduction=reduction, form="alg1"), expected)
    torch.testing.assert_close(wrapped, expected)
