import math

import pytest
import torch
from pytorch_metric_learning.losses import SphereFaceLoss
from pytorch_metric_learning.reducers import DoNothingReducer

from fverify.errors import FverifyError
from fverify.losses import SphereFaceHead
from fverify.losses.sphereface import annealing_lambda, chebyshev_cos_multiple, sphereface_psi
from tests.losses.geometry import one_sample_with_cosines, spread_batch

NO_ANNEALING = {"base": 0.0, "lambda_min": 0.0}


def psi_at(angles):
    return sphereface_psi(torch.cos(torch.as_tensor(angles, dtype=torch.float64)), 4)


# pml builds its binomial table with scipy on a torch tensor, which numpy 2 warns about
@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")
def test_matches_pytorch_metric_learning_without_annealing():
    # pml's SphereFaceLoss is A-Softmax with psi and ||x|| scaling but no lambda blending,
    # which is this head with lambda = 0.
    torch.manual_seed(0)
    head = SphereFaceHead(10, 16, **NO_ANNEALING).double()
    embeddings, labels = spread_batch(head.weight.detach())
    reference = SphereFaceLoss(10, 16, margin=4, reducer=DoNothingReducer()).double()
    reference.W.data = head.weight.detach().T.clone()  # pml keeps W as (dim, num_classes)
    expected = reference(embeddings, labels)["loss"]["losses"]
    torch.testing.assert_close(head(embeddings, labels).losses, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("angle, expected", [
    (0.0, 1.0),
    (math.pi / 8, 0.0),                     # k = 0: cos(pi/2)
    (math.pi / 4, -1.0),                    # k = 1: -cos(pi) - 2
    (3 * math.pi / 8, -2.0),                # k = 1: -cos(3 pi/2) - 2
    (math.pi / 2, -3.0),                    # k = 2: cos(2 pi) - 4
    (3 * math.pi / 4, -5.0),                # k = 3: -cos(3 pi) - 6
    (math.pi - 1e-9, -7.0),                 # k = 3: -cos(4 pi) - 6
])
def test_psi_at_chosen_angles(angle, expected):
    assert psi_at([angle]).item() == pytest.approx(expected, abs=1e-6)


def test_psi_is_continuous_and_decreasing_on_zero_to_pi():
    angles = torch.linspace(0.0, math.pi, 100_001, dtype=torch.float64)
    steps = psi_at(angles).diff()
    assert (steps <= 1e-12).all()                       # decreasing
    assert steps.abs().max() < 8 * (math.pi / 100_000)  # no jump: |psi'| <= m * 2 = 8


def test_chebyshev_gives_cos_of_multiple_angle():
    angles = torch.linspace(0.0, math.pi, 50, dtype=torch.float64)
    for m in (1, 2, 3, 4, 5):
        torch.testing.assert_close(chebyshev_cos_multiple(torch.cos(angles), m),
                                   torch.cos(m * angles))


@pytest.mark.parametrize("iteration, expected", [
    (0, 1000.0),
    (1, 1000.0 / 1.12),                     # the first training batch
    (100, 1000.0 / 13.0),
    (1000, 1000.0 / 121.0),
    (1500, 1000.0 / 181.0),                 # 5.52, still above lambda_min
    (2000, 5.0),                            # 1000 / 241 = 4.15 -> lambda_min
])
def test_lambda_schedule_with_caffe_defaults(iteration, expected):
    value = annealing_lambda(iteration, base=1000.0, gamma=0.12, power=1.0, lambda_min=5.0)
    assert value.item() == pytest.approx(expected, rel=1e-12)


def test_counter_advances_once_per_training_forward_and_never_in_eval():
    head = SphereFaceHead(5, 3)
    embeddings, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 3])
    assert head.current_lambda == 1000.0
    head(embeddings, labels)                # first training batch uses iter = 1, as in Caffe
    assert head.iteration.item() == 1 and head.current_lambda == pytest.approx(1000 / 1.12)
    head(embeddings, labels)
    assert head.iteration.item() == 2
    head.eval()
    head(embeddings, labels)
    assert head.iteration.item() == 2
    restored = SphereFaceHead(5, 3)
    restored.load_state_dict(head.state_dict())
    assert restored.iteration.item() == 2   # resumes the schedule from a checkpoint


def test_target_logit_blends_cos_and_psi_with_lambda():
    embedding, weight = one_sample_with_cosines([0.5, 0.3, -0.2])
    embedding = 2.0 * embedding             # ||x|| = 2
    head = SphereFaceHead(3, 4, base=3.0, gamma=0.0, lambda_min=0.0).double().eval()
    with torch.no_grad():
        head.weight.copy_(weight)
    logits = head(embedding, torch.tensor([0])).logits
    theta = math.acos(0.5)                  # pi/3: k = floor(4/3) = 1
    psi = -math.cos(4 * theta) - 2
    expected = [2 * (3 * 0.5 + psi) / 4, 2 * 0.3, 2 * -0.2]
    torch.testing.assert_close(logits, torch.tensor([expected], dtype=torch.float64))


def test_gradcheck_without_annealing_across_all_k():
    head = SphereFaceHead(6, 8, **NO_ANNEALING).double()
    torch.manual_seed(1)
    embeddings, labels = spread_batch(head.weight.detach(), n=12, seed=1)
    angles = torch.acos(head.cosines(embeddings).gather(1, labels[:, None]))
    k = torch.floor(4 * angles / math.pi)
    assert set(k.flatten().tolist()) == {0.0, 1.0, 2.0, 3.0}
    embeddings.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: head(x, labels).losses, (embeddings,))


def test_rejects_a_fractional_margin():
    with pytest.raises(FverifyError, match="whole number"):
        SphereFaceHead(5, 3, margin=1.5)
