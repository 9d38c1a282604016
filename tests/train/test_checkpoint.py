import random

import numpy as np
import pytest
import torch

from fverify.errors import FverifyError
from fverify.models.checkpoint import save_checkpoint
from fverify.models.preprocessing import Preprocessing
from fverify.models.registry import backbone_spec
from fverify.train.checkpoint import (checkpoint_path, latest_checkpoint, list_checkpoints,
                                      prune_checkpoints, read_training_checkpoint, restore_rng_state,
                                      rng_state)


def test_rng_states_survive_a_weights_only_round_trip(tmp_path):
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    path = tmp_path / "rng.pt"
    torch.save({"rng": rng_state()}, path)
    expected = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    restore_rng_state(torch.load(path, weights_only=True)["rng"])
    again = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    assert torch.equal(expected[0], again[0]) and np.array_equal(expected[1], again[1])
    assert expected[2] == again[2]


def test_newest_and_pruning_follow_the_step_not_the_name_order(tmp_path):
    for step in (9, 10, 100, 2):
        checkpoint_path(tmp_path, step).parent.mkdir(exist_ok=True)
        checkpoint_path(tmp_path, step).write_bytes(b"")
    (tmp_path / "checkpoints" / "notes.txt").write_text("kept")
    assert latest_checkpoint(tmp_path).name == "step-000000100.pt"
    prune_checkpoints(tmp_path, 2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000000010.pt", "step-000000100.pt"]
    assert (tmp_path / "checkpoints" / "notes.txt").exists()


def test_refusals(tmp_path):
    with pytest.raises(FverifyError, match="no training checkpoint to resume from"):
        latest_checkpoint(tmp_path)
    evaluation_only = tmp_path / "model.pt"
    save_checkpoint(evaluation_only, backbone_spec("tinycnn").build(8), "tinycnn", Preprocessing(), 8)
    with pytest.raises(FverifyError, match="not an fverify training checkpoint .lacks head"):
        read_training_checkpoint(evaluation_only)
    with pytest.raises(FverifyError, match="no such checkpoint file"):
        read_training_checkpoint(tmp_path / "absent.pt")
