import torch

from fverify.losses import HardMining, build_head
from fverify.losses.hard_mining import hard_mining_weight
from fverify.train.objective import Objective

SETTINGS = {"alpha": 1.5, "beta": 1.1, "A": 35.0, "B": 0.75, "form": "eq2", "reduction": "sample"}


def batch():
    torch.manual_seed(0)
    return torch.randn(16, 8, dtype=torch.float64), torch.randint(0, 5, (16,))


def test_inactive_optimises_the_head_and_records_what_hm_would_weight():
    embeddings, labels = batch()
    head = build_head("arcface", 5, 8, scale=8.0, margin=0.3).double()
    objective = Objective(head, active=False, **SETTINGS)
    loss = objective(embeddings, labels)
    losses = head(embeddings, labels).losses
    torch.testing.assert_close(loss, losses.mean())
    record = objective.last_batch
    torch.testing.assert_close(record.weights, hard_mining_weight(losses, **{k: v for k, v in SETTINGS.items()
                                                                            if k != "reduction"}))
    torch.testing.assert_close(record.target_probability, torch.exp(-losses))  # p_y = exp(-CE)


def test_active_is_the_hard_mining_loss_and_its_parameters_are_the_heads():
    embeddings, labels = batch()
    head = build_head("cosface", 5, 8).double()
    objective = Objective(head, active=True, **SETTINGS)
    expected = HardMining(head, **SETTINGS)(embeddings, labels)
    torch.testing.assert_close(objective(embeddings, labels), expected)
    assert [p is q for p, q in zip(objective.parameters(), head.parameters())] == [True]
