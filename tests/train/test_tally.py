import numpy as np
import pytest
import torch

from fverify.losses import HardMiningRecord
from fverify.train.tally import Tally


def record(p_y, base, weights):
    return HardMiningRecord(torch.tensor(p_y), torch.tensor(base), torch.tensor(weights), torch.tensor(0.0))


def test_epoch_hard_mining_record_by_hand():
    tally = Tally()
    tally.add_batch(2.0, record([0.1, 0.6], [2.3, 0.5], [1.5, 0.0]))
    tally.add_batch(1.0, record([0.97, 0.47], [0.03, 0.8], [0.0, 1.2]))
    hm = tally.hard_mining_record({"form": "eq2"}, active=True)
    assert hm["p_y_histogram"][2] == 1 and hm["p_y_histogram"][12] == 1
    assert hm["p_y_histogram"][19] == 1 and hm["p_y_histogram"][9] == 1 and hm["num_samples"] == 4
    assert hm["hard_fraction"] == 0.5
    assert hm["base_loss_hard_mean"] == pytest.approx((2.3 + 0.8) / 2)
    assert hm["base_loss_easy_mean"] == pytest.approx((0.5 + 0.03) / 2)
    assert hm["weight_mean"] == pytest.approx(2.7 / 4)
    assert hm["weight_quantiles"]["0.5"] == pytest.approx(np.median([1.5, 0.0, 0.0, 1.2]))
    assert tally.mean("loss_sum") == pytest.approx((2 * 2 + 1 * 2) / 4)
    assert tally.mean("base_loss_sum") == pytest.approx((2.3 + 0.5 + 0.03 + 0.8) / 4)


def test_a_resume_under_another_process_count_keeps_the_seconds_per_process():
    # 2 processes ran 5 s each before the checkpoint (10 s summed); 1 process continues.
    saved = Tally()
    saved.add("step_s", 10.0)
    saved.add("wait_s", 4.0)
    saved.add("images", 64)
    resumed = Tally.from_state(saved.state(), saved_world=2, world=1)
    assert (resumed.sums["step_s"], resumed.sums["wait_s"], resumed.sums["images"]) == (5.0, 2.0, 64)
    resumed.add("step_s", 5.0)  # 5 s more, on the one process
    resumed.add("images", 64)
    assert resumed.sums["images"] / (resumed.sums["step_s"] / 1) == 12.8  # 128 images in 10 s


def test_state_round_trip():
    tally = Tally()
    tally.add_batch(1.0, record([0.2], [1.6], [1.5]))
    again = Tally.from_state(tally.reduced().state())
    assert again.sums == tally.sums and np.array_equal(again.histogram, tally.histogram)
    assert again.hard_mining_record({}, True) == tally.hard_mining_record({}, True)
