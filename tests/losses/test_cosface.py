import torch
from pytorch_metric_learning.losses import CosFaceLoss
from pytorch_metric_learning.reducers import DoNothingReducer

from fverify.losses import CosFaceHead
from tests.losses.geometry import one_sample_with_cosines, spread_batch


def test_matches_pytorch_metric_learning():
    torch.manual_seed(0)
    head = CosFaceHead(10, 16).double()
    embeddings, labels = spread_batch(head.weight.detach())
    reference = CosFaceLoss(10, 16, margin=0.35, scale=64, reducer=DoNothingReducer()).double()
    reference.W.data = head.weight.detach().T.clone()  # pml keeps W as (dim, num_classes)
    expected = reference(embeddings, labels)["loss"]["losses"]
    torch.testing.assert_close(head(embeddings, labels).losses, expected, rtol=0, atol=1e-9)


def test_logits_by_hand():
    embedding, weight = one_sample_with_cosines([0.6, 0.2, -0.4])
    head = CosFaceHead(3, 4, scale=10.0, margin=0.35).double()
    with torch.no_grad():
        head.weight.copy_(weight)
    logits = head(embedding, torch.tensor([0])).logits
    torch.testing.assert_close(logits, torch.tensor([[2.5, 2.0, -4.0]], dtype=torch.float64))
