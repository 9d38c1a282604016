import math

import torch

from fverify.losses import SoftmaxHead


def test_matches_hand_computed_cross_entropy_with_bias():
    head = SoftmaxHead(3, 2).double()
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]]))
        head.bias.copy_(torch.tensor([0.5, -0.5, 0.0]))
    embeddings = torch.tensor([[1.0, 1.0], [2.0, -1.0]], dtype=torch.float64)
    output = head(embeddings, torch.tensor([1, 0]))
    # logits: [1.5, 1.5, 0.0] and [2.5, -2.5, -3.0]
    expected = [
        -math.log(math.exp(1.5) / (2 * math.exp(1.5) + 1.0)),
        -math.log(math.exp(2.5) / (math.exp(2.5) + math.exp(-2.5) + math.exp(-3.0))),
    ]
    torch.testing.assert_close(output.logits, torch.tensor(
        [[1.5, 1.5, 0.0], [2.5, -2.5, -3.0]], dtype=torch.float64))
    torch.testing.assert_close(output.losses, torch.tensor(expected, dtype=torch.float64))


def test_bias_is_a_trained_parameter():
    head = SoftmaxHead(4, 3)
    assert dict(head.named_parameters()).keys() == {"weight", "bias"}
    assert head.weight.shape == (4, 3) and head.bias.shape == (4,)
