import json

import pytest
import torch

from fverify.cli import main
from fverify.errors import FverifyError
from fverify.models.checkpoint import read_weights
from fverify.train.checkpoint import list_checkpoints
from fverify.train.config import load_config
from fverify.train.loop import sgd, train
from fverify.train.metrics_log import read_metrics
from tests.train.faces import TinyFaces, tiny_overrides


def run(tmp_path, name, *overrides, dataset=None, resume=False, **extra):
    config = None if resume else load_config("tiny", tiny_overrides(**extra) + list(overrides))
    return train(config, tmp_path / name, dataset=dataset or TinyFaces(), resume=resume,
                 overrides=list(overrides) if resume else (), report=lambda line: None)


def weights(path):
    content = read_weights(path)
    return {**content["state_dict"], **{f"head.{k}": v for k, v in content["head"].items()}}


def test_resume_mid_epoch_is_bit_exact(tmp_path):
    # 3 epochs of 6 steps; stopped at step 8 (mid epoch 2), then resumed
    whole = run(tmp_path, "whole", **{"optim.epochs": 3, "hard_mining.enabled": "true"})
    stopped = run(tmp_path, "split", **{"optim.epochs": 3, "hard_mining.enabled": "true",
                                        "engine.stop_after_steps": 8})
    assert stopped.stopped_by == "engine.stop_after_steps" and stopped.model is None
    assert (stopped.epoch, stopped.global_step) == (2, 8)
    resumed = run(tmp_path, "split", "engine.stop_after_steps=0", resume=True)
    assert resumed.model is not None and resumed.global_step == whole.global_step == 18
    a, b = weights(whole.checkpoint), weights(resumed.checkpoint)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert read_weights(whole.checkpoint)["optimizer"]["state"][0]["momentum_buffer"].equal(
        read_weights(resumed.checkpoint)["optimizer"]["state"][0]["momentum_buffer"])
    # the metrics of the resumed run end like the uninterrupted run's
    last = lambda path: [r for r in read_metrics(path / "metrics.jsonl") if r["kind"] == "epoch"][-1]
    assert last(tmp_path / "whole") == last(tmp_path / "split") | {"seconds": last(tmp_path / "whole")["seconds"]}
    starts = [r for r in read_metrics(tmp_path / "split" / "metrics.jsonl") if r["kind"] == "start"]
    assert [s["resumed_from"] is None for s in starts] == [True, False]


def test_resume_refuses_changes_to_the_math(tmp_path):
    run(tmp_path, "r", **{"engine.stop_after_steps": 2})
    with pytest.raises(FverifyError, match="optim.lr cannot change when resuming"):
        run(tmp_path, "r", "optim.lr=0.5", resume=True)
    # engine.seed sets the sample order and the flips: changing it would not continue the run
    with pytest.raises(FverifyError, match="engine.seed cannot change when resuming"):
        run(tmp_path, "r", "engine.seed=1", resume=True)


def test_gradient_accumulation_computes_the_same_steps(tmp_path):
    # tinycnn has no batch norm: 4 micro-batches of 2 equal one batch of 8 up to rounding
    one = run(tmp_path, "one", **{"optim.epochs": 1})
    four = run(tmp_path, "four", **{"optim.epochs": 1, "optim.accumulation": 4})
    a, b = weights(one.checkpoint), weights(four.checkpoint)
    assert any(not torch.equal(a[k], b[k]) for k in a)  # a different summation order...
    for k in a:  # ...of the same sums (float32, 6 SGD steps)
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)


def test_the_runs_sgd_updates_as_torchs_for_loop_sgd_bit_for_bit():
    config = load_config("tiny", tiny_overrides())
    optim = config.optim
    torch.manual_seed(0)
    start = [torch.randn(300, 7), torch.randn(50)]
    grads = [[torch.randn_like(p) for p in start] for _ in range(3)]
    results = []
    for make in (lambda params: sgd(params, config),
                 lambda params: torch.optim.SGD(params, lr=optim.lr, momentum=optim.momentum,
                                                weight_decay=optim.weight_decay, foreach=False)):
        params = [torch.nn.Parameter(p.clone()) for p in start]
        optimizer = make(params)
        for step in grads:
            for param, grad in zip(params, step):
                param.grad = grad.clone()
            optimizer.step()
        results.append(params)
    assert optim.momentum > 0 and optim.weight_decay > 0  # every term of the update is exercised
    assert all(torch.equal(a, b) for a, b in zip(*results))
    assert not torch.equal(results[0][0], start[0])


def test_decode_failures_are_counted_excluded_and_stop_the_run_past_the_limit(tmp_path):
    broken = TinyFaces(broken=(3, 17))
    done = run(tmp_path, "ok", dataset=broken, **{"data.max_decode_failure_fraction": 0.05})
    epochs = [r for r in read_metrics(tmp_path / "ok" / "metrics.jsonl") if r["kind"] == "epoch"]
    assert [r["decode_failures"] for r in epochs] == [2, 2]
    # 48 images, 6 steps of 8: the two broken ones are out of the loss and the HM record
    assert [r["hard_mining"]["num_samples"] for r in epochs] == [46, 46]
    assert done.model is not None
    with pytest.raises(FverifyError, match=r"failed to decode in epoch 1 .*first: tiny\[(3|17)\]"):
        run(tmp_path, "strict", dataset=broken, **{"data.max_decode_failure_fraction": 0.02})


def test_metrics_follow_the_schema(tmp_path):
    run(tmp_path, "m", **{"hard_mining.enabled": "true"})
    records = read_metrics(tmp_path / "m" / "metrics.jsonl")
    assert [r["kind"] for r in records] == ["start"] + ["interval"] * 3 + ["epoch"] + ["interval"] * 3 + ["epoch"]
    intervals = [r for r in records if r["kind"] == "interval"]
    assert [r["step"] for r in intervals] == [2, 4, 6, 8, 10, 12]
    assert [round(r["epoch_fraction"], 3) for r in intervals[:3]] == [0.333, 0.667, 1.0]
    epoch = records[4]
    hm = epoch["hard_mining"]
    assert hm["active"] and len(hm["bins"]) == 21 and sum(hm["p_y_histogram"]) == hm["num_samples"] == 48
    # hard fraction agrees with the histogram's lower half (p_y < 0.5)
    assert hm["hard_fraction"] == pytest.approx(sum(hm["p_y_histogram"][:10]) / 48)
    assert 0 <= epoch["loss"] and epoch["validation"] is None
    q = hm["weight_quantiles"]
    assert q["0.05"] <= q["0.5"] <= q["0.95"] <= 1.5 + 1e-9
    # the epoch loss is the mean of its intervals' (equal-sized) losses
    assert epoch["loss"] == pytest.approx(sum(r["loss"] for r in intervals[:3]) / 3)


def test_model_pt_evaluates_with_fverify_lfw_and_records_training(tmp_path, synth_lfw):
    done = run(tmp_path, "run", dataset=TinyFaces(size=(112, 112), per_class=4),
               **{"model.input_size": "[112, 112]", "optim.epochs": 1})
    out = tmp_path / "lfw"
    assert main(["lfw", "--model", str(done.model), "--data", str(synth_lfw), "--pairs",
                 str(synth_lfw / "pairs.txt"), "--out", str(out), "--no-cache", "--no-progress"]) == 0
    result = json.loads((out / "result.json").read_text())
    training = result["model"]["training"]
    assert training["recipe"] == "tiny" and training["head"] == "arcface"
    assert training["run_dir"] == str((tmp_path / "run").resolve()) and training["hard_mining"] is False
    assert (tmp_path / "run" / "config.toml").is_file()


def test_keeps_the_newest_checkpoints(tmp_path):
    run(tmp_path, "k", **{"optim.epochs": 3, "engine.checkpoint_every_steps": 2,
                          "engine.keep_checkpoints": 2})
    assert [p.name for p in list_checkpoints(tmp_path / "k")] == ["step-000000016.pt", "step-000000018.pt"]


def test_a_new_run_refuses_a_used_folder(tmp_path):
    run(tmp_path, "used")
    with pytest.raises(FverifyError, match="not an empty folder"):
        run(tmp_path, "used")


def test_sigterm_saves_a_checkpoint_and_the_run_resumes(tmp_path):
    import re
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    out = tmp_path / "run"
    worker = subprocess.Popen(
        [sys.executable, "-m", "fverify", "train", "--config", "tiny", "--out", str(out),
         "--set", "data.synth_identities=4", "--set", "data.synth_images_per_identity=4",
         "--set", "optim.batch_size=4", "--set", "optim.epochs=100000",
         "--set", "engine.log_every_steps=1", "--set", "engine.device=cpu"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300  # only a guard against a hang (a shared machine is slow)
        while not (out / "metrics.jsonl").exists() or "interval" not in (out / "metrics.jsonl").read_text():
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 143
    finally:
        worker.kill()
    # On a fast machine epoch-end checkpoints may come before the signal: the one SIGTERM wrote
    # is the newest, at the step the stop message names.
    stopped = re.search(r"stopped by SIGTERM at epoch \d+, step (\d+)", worker.stderr.read())
    assert stopped, "no stop message"
    step = int(stopped.group(1))
    saved = list_checkpoints(out)[-1]
    assert step >= 1 and saved.name == f"step-{step:09d}.pt"
    assert read_weights(saved)["position"]["global_step"] == step
    resumed = train(None, out, resume=True, overrides=[f"engine.stop_after_steps={step + 2}"],
                    report=lambda line: None)
    assert resumed.global_step == step + 2 and resumed.stopped_by == "engine.stop_after_steps"


def test_divergence_stops_with_a_clear_error(tmp_path):
    with pytest.raises(FverifyError, match="training diverged: the loss is (nan|inf)"):
        run(tmp_path, "d", **{"optim.lr": "1e30", "head.name": "softmax", "head.options": "{}"})
