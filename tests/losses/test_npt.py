import pytest
import torch
import torch.nn.functional as F

from fverify.errors import FverifyError
from fverify.losses import NPTHead
from tests.losses.geometry import one_sample_with_cosines


def npt_loss(cosines, label, **settings):
    embedding, weight = one_sample_with_cosines(cosines)
    head = NPTHead(len(cosines), len(cosines) + 1, **settings).double()
    with torch.no_grad():
        head.weight.copy_(weight)
    return head(embedding, torch.tensor([label]))


@pytest.mark.parametrize("k, radius, expected", [
    (1, 1.0, 2 * (0.6 - 0.3 + 0.5)),                               # 1.6
    (2, 1.0, 2 * (0.6 - 0.3 + 0.5) + 2 * (0.1 - 0.3 + 0.5)),       # 2.2
    (3, 1.0, 2.2),                                                 # -0.5 - 0.3 + 0.5 < 0
    (1, 2.0, 8 * (0.6 - 0.3 + 0.5)),                               # 2 r^2 = 8
])
def test_hand_computed_values(k, radius, expected):
    output = npt_loss([0.6, 0.1, 0.3, -0.5], label=2, k=k, radius=radius)
    assert output.losses.item() == pytest.approx(expected, abs=1e-9)
    torch.testing.assert_close(output.logits, torch.tensor(
        [[0.6, 0.1, 0.3, -0.5]], dtype=torch.float64))


def test_zero_loss_and_gradient_once_the_margin_is_met():
    embedding, weight = one_sample_with_cosines([0.9, 0.3, -0.2])
    head = NPTHead(3, 4).double()
    with torch.no_grad():
        head.weight.copy_(weight)
    embedding.requires_grad_(True)
    output = head(embedding, torch.tensor([0]))
    output.losses.sum().backward()
    assert output.losses.item() == 0.0
    assert (embedding.grad == 0).all() and (head.weight.grad == 0).all()


@pytest.mark.parametrize("k, radius", [(1, 1.0), (3, 1.5)])
def test_equals_the_proxy_triplet_loss_in_squared_distances(k, radius):
    # L = sum over the k nearest negative proxies of max(0, d(x, W_y) - d(x, W_j) + delta),
    # d = squared Euclidean distance on the sphere of radius r, delta = 2 r^2 * margin
    generator = torch.Generator().manual_seed(0)
    head = NPTHead(8, 6, k=k, radius=radius).double()
    with torch.no_grad():
        head.weight.copy_(torch.randn(8, 6, generator=generator))
    embeddings = torch.randn(20, 6, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 8, (20,), generator=generator)
    x = radius * F.normalize(embeddings, dim=1)
    proxies = radius * F.normalize(head.weight.detach(), dim=1)
    distances = torch.cdist(x, proxies) ** 2
    delta = 2 * radius**2 * 0.5
    expected = []
    for row, label in zip(distances, labels):
        negatives = torch.cat([row[:label], row[label + 1:]]).sort().values[:k]
        expected.append((row[label] - negatives + delta).clamp_min(0).sum())
    torch.testing.assert_close(head(embeddings, labels).losses, torch.stack(expected))


def test_target_probability_is_softmax_of_scaled_cosines():
    output = npt_loss([0.6, 0.1, 0.3, -0.5], label=2, probability_scale=10.0)
    head = NPTHead(4, 5, probability_scale=10.0)
    probability = head.target_probability(output.logits, torch.tensor([2]))
    expected = torch.softmax(10.0 * torch.tensor([0.6, 0.1, 0.3, -0.5]), dim=0)[2]
    assert probability.item() == pytest.approx(expected.item(), rel=1e-6)


def test_k_must_leave_a_negative():
    with pytest.raises(FverifyError, match="k"):
        NPTHead(4, 3, k=4)
