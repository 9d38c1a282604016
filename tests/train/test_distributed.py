"""DDP on CPU (gloo): 2 processes compute what 1 process computes with the same global batch,
and a checkpoint written by 2 processes resumes in 1.

Tolerance: tinycnn has no batch norm, so the only difference is float32 summation order
(gradients all-reduced and averaged over 2 processes instead of summed over one batch); after
12 SGD steps the weights agree to rtol 1e-4, atol 1e-5 (measured: largest difference 9.5e-7)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from fverify.cli import main
from fverify.models.checkpoint import read_weights
from fverify.train.checkpoint import checkpoint_path, list_checkpoints
from fverify.train.distributed import Process, epoch_indices
from fverify.train.loop import train
from fverify.train.metrics_log import read_metrics

ROOT = Path(__file__).resolve().parents[2]
# the tiny recipe on 6 synthetic identities x 8 images, batch 8: 6 steps an epoch, 2 epochs
SETTINGS = ["data.synth_identities=6", "data.synth_images_per_identity=8", "optim.batch_size=8",
            "hard_mining.enabled=true", "engine.checkpoint_every_steps=7", "engine.keep_checkpoints=9",
            "engine.device=cpu", "data.workers=0"]
ARGS = ["train", "--config", "tiny", *(arg for setting in SETTINGS for arg in ("--set", setting))]


def weights(path):
    content = read_weights(path)
    return {**content["state_dict"], **{f"head.{k}": v for k, v in content["head"].items()}}


def assert_close(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)


def test_global_batches_do_not_depend_on_the_world_size():
    one = epoch_indices(50, 3, 2, Process(0, 1, torch.device("cpu")))
    two = [epoch_indices(50, 3, 2, Process(r, 2, torch.device("cpu"))) for r in range(2)]
    for step in range(50 // 8):  # global batch 8: 4 per process
        whole = set(one[step * 8:(step + 1) * 8])
        split = set(two[0][step * 4:(step + 1) * 4]) | set(two[1][step * 4:(step + 1) * 4])
        assert whole == split
    assert not np.array_equal(one, epoch_indices(50, 3, 3, Process(0, 1, torch.device("cpu"))))


def test_two_gloo_processes_equal_one_and_resume_in_one(tmp_path):
    ddp_run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                    "-m", "fverify", *ARGS, "--out", str(ddp_run)],
                   check=True, env=env, cwd=ROOT, capture_output=True, timeout=300)
    assert main([*ARGS, "--out", str(tmp_path / "single")]) == 0
    single_checkpoint = checkpoint_path(tmp_path / "single", 12)
    assert_close(weights(ddp_run / "checkpoints" / "step-000000012.pt"), weights(single_checkpoint))
    assert read_weights(ddp_run / "model.pt")["training"]["recipe"] == "tiny"

    # 2 -> 1: the 2-process checkpoint at step 7 (mid epoch 2) resumed by one process
    resumed_run = tmp_path / "resumed"
    shutil.copytree(ddp_run, resumed_run)
    for path in list_checkpoints(resumed_run):
        if path != checkpoint_path(resumed_run, 7):
            path.unlink()
    mid = read_weights(checkpoint_path(resumed_run, 7))
    seconds = mid["position"].pop("epoch_seconds")  # of epoch 2 so far: one step's wall time
    assert mid["world_size"] == 2 and mid["position"] == {"epoch": 2, "step_in_epoch": 1, "global_step": 7,
                                                          "steps_per_epoch": 6} and seconds > 0
    lines = []
    resumed = train(None, resumed_run, resume=True, report=lines.append)
    assert any("resuming a run of 2 processes under 1" in line for line in lines)
    assert resumed.global_step == 12
    assert_close(weights(resumed.checkpoint), weights(single_checkpoint))
    starts = [r for r in read_metrics(resumed_run / "metrics.jsonl") if r["kind"] == "start"]
    assert [s["world_size"] for s in starts] == [2, 1]


def test_a_loss_diverging_on_one_process_stops_all_with_one_clear_error(tmp_path):
    # Rank 1's loss turns NaN at its third micro-batch; rank 0's stays finite. Each process
    # must name the divergence (not wait in the gradient all-reduce or die of a lost peer).
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           str(ROOT / "tests" / "train" / "diverge_on_one_rank.py"), *ARGS, "--out", str(tmp_path / "run")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    messages = re.findall(r"training diverged: the loss is not finite on 1 of 2 processes \(this one's: (\S+)\) "
                          r"at epoch 1, step 3", done.stderr)
    assert len(messages) == 2 and messages.count("nan") == 1, done.stderr  # rank 1's NaN, rank 0's number
