import json

import pytest
import torch

from fverify.cli import main
from fverify.errors import FverifyError
from fverify.models.checkpoint import read_weights
from fverify.train.checkpoint import checkpoint_step, list_checkpoints
from fverify.train.config import load_config
from fverify.train.loop import sgd, train
from fverify.train.metrics_log import read_metrics
from fverify.train.objective import TrainModel
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


def test_a_sigterm_between_a_workers_fork_and_its_init_function_is_held_then_ignored():
    # torch's worker loop installs a SIGTERM handler that dies of a SIGTERM not from the parent
    # before it calls worker_init_fn; the trainer forks its workers with the signal held back.
    import os
    import signal

    from fverify.train.loop import _ignore_interrupts, _interrupts_held

    def fork_a_worker():
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as deadly as torch's handler
            os.kill(os.getpid(), signal.SIGTERM)  # the group's signal, before the init function
            _ignore_interrupts(0)
            os._exit(7)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    with _interrupts_held():
        assert fork_a_worker() == 7
    assert fork_a_worker() == -signal.SIGTERM  # not held: the worker dies


def test_sigterm_to_the_process_group_saves_a_checkpoint_and_the_run_resumes(tmp_path):
    # Sent to the whole process group, as schedulers and torchrun do: the DataLoader worker
    # gets it too, and must live on until the main process has saved.
    import os
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
         "--set", "optim.batch_size=4", "--set", "optim.epochs=100000", "--set", "data.workers=1",
         "--set", "engine.log_every_steps=1", "--set", "engine.device=cpu"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # only a guard against a hang (a shared machine is slow)
        while not (out / "metrics.jsonl").exists() or "interval" not in (out / "metrics.jsonl").read_text():
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.2)
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=60) == 143, worker.stderr.read()
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


def test_reading_the_losses_at_each_interval_instead_of_each_step_changes_no_number(tmp_path):
    # The trainer reads each micro-batch's loss and record back when it logs; logging every
    # step reads them as they are made, as the trainer did before it deferred the reads.
    settings = {"optim.epochs": 2, "optim.accumulation": 2, "hard_mining.enabled": "true",
                "data.max_decode_failure_fraction": 0.2}
    broken = TinyFaces(broken=(3, 17))
    run(tmp_path, "each", dataset=broken, **settings, **{"engine.log_every_steps": 1})
    run(tmp_path, "every4", dataset=broken, **settings, **{"engine.log_every_steps": 4})
    each, every4 = (read_metrics(tmp_path / name / "metrics.jsonl") for name in ("each", "every4"))
    epochs = [[{k: v for k, v in r.items() if k != "seconds"} for r in records if r["kind"] == "epoch"]
              for records in (each, every4)]
    assert epochs[0] == epochs[1] and epochs[0][0]["hard_mining"]["num_samples"] == 46
    assert [r["step"] for r in every4 if r["kind"] == "interval"] == [4, 8, 12]
    final = [weights(list_checkpoints(tmp_path / name)[-1]) for name in ("each", "every4")]
    assert all(torch.equal(final[0][k], final[1][k]) for k in final[0])


def test_a_non_finite_loss_stops_the_run_before_the_next_checkpoint_naming_its_step(tmp_path, monkeypatch):
    forward, calls = TrainModel.forward, []

    def diverging_forward(self, images, labels):
        calls.append(1)
        loss = forward(self, images, labels)
        return loss * float("inf") if len(calls) == 3 else loss

    monkeypatch.setattr(TrainModel, "forward", diverging_forward)
    with pytest.raises(FverifyError, match=r"the loss is inf at epoch 1, step 3"):
        run(tmp_path, "d", **{"engine.log_every_steps": 4, "engine.checkpoint_every_steps": 2})
    # read back at step 4, its interval's end, before step 4's checkpoint, which is not written:
    # weights stepped with a non-finite loss never are
    assert [checkpoint_step(path) for path in list_checkpoints(tmp_path / "d")] == [2]
    assert len(calls) == 4


def test_resume_from_an_older_checkpoint_abandons_the_newer_ones_without_deleting_them(tmp_path):
    settings = {"engine.checkpoint_every_steps": 2, "engine.keep_checkpoints": 9,
                "engine.log_every_steps": 1}
    whole = run(tmp_path, "whole", **settings)
    run(tmp_path, "r", **settings, **{"engine.stop_after_steps": 8})
    older = tmp_path / "r" / "checkpoints" / "step-000000004.pt"
    resumed = run(tmp_path, "r", "engine.stop_after_steps=0", resume=str(older))
    # the run continues from step 4: its checkpoints are the newest, nothing else is pruned
    assert [p.name for p in list_checkpoints(tmp_path / "r")] == [
        f"step-{s:09d}.pt" for s in (2, 4, 6, 8, 10, 12)]
    assert resumed.checkpoint == list_checkpoints(tmp_path / "r")[-1]
    a, b = weights(whole.checkpoint), weights(resumed.checkpoint)
    assert all(torch.equal(a[k], b[k]) for k in a)
    (abandoned,) = (tmp_path / "r" / "abandoned").iterdir()
    assert abandoned.name.startswith("after-step-000000004-")
    assert sorted(p.name for p in (abandoned / "checkpoints").iterdir()) == ["step-000000006.pt", "step-000000008.pt"]
    assert [r["step"] for r in read_metrics(abandoned / "metrics.jsonl")] == [5, 6, 6, 7, 8]  # 6: epoch 1's
    # metrics.jsonl: each step once, as the uninterrupted run logged them
    records = read_metrics(tmp_path / "r" / "metrics.jsonl")
    steps = [r["step"] for r in records if r["kind"] == "interval"]
    assert steps == list(range(1, 13))
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [1, 2]


@pytest.mark.parametrize("renames_before_the_kill", [0, 1])  # of the two checkpoints past step 4
def test_a_kill_while_a_resume_abandons_newer_checkpoints_loses_no_record(tmp_path, monkeypatch, renames_before_the_kill):
    # Killed while the newer checkpoints move aside, then resumed from the newest left: every
    # step and epoch is logged once, and the run ends where the uninterrupted run does.
    from pathlib import Path

    settings = {"engine.checkpoint_every_steps": 2, "engine.keep_checkpoints": 9,
                "engine.log_every_steps": 1}
    whole = run(tmp_path, "whole", **settings)
    run(tmp_path, "r", **settings, **{"engine.stop_after_steps": 8})
    rename, done = Path.rename, []

    def killed_rename(self, target):
        if len(done) == renames_before_the_kill:
            raise KeyboardInterrupt
        done.append(self)
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", killed_rename)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "r", "engine.stop_after_steps=0", resume=str(tmp_path / "r" / "checkpoints" / "step-000000004.pt"))
    monkeypatch.setattr(Path, "rename", rename)
    resumed = run(tmp_path, "r", "engine.stop_after_steps=0", resume=True)
    a, b = weights(whole.checkpoint), weights(resumed.checkpoint)
    assert all(torch.equal(a[k], b[k]) for k in a)
    records = read_metrics(tmp_path / "r" / "metrics.jsonl")
    assert [r["step"] for r in records if r["kind"] == "interval"] == list(range(1, 13))
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [1, 2]


def test_a_pending_epochs_validation_folder_left_by_a_kill_is_redone(tmp_path, monkeypatch):
    # The kill came after validation/epoch-1 was written, before epoch 1's record: the resumed
    # run removes that folder once (rank 0, before the barrier) and validates again.
    from fverify.train import loop

    monkeypatch.setattr(loop, "load_validation_set", lambda settings: "an evalset")
    seen = []

    def validate(evalset, path, out, settings, device, dtype):
        seen.append(out.exists())
        out.mkdir(parents=True)
        (out / "result.json").write_text("{}")
        if len(seen) == 1:
            raise KeyboardInterrupt
        return {"protocol": "lfw", "accuracy": 0.5, "se": 0.1, "std": 0.3, "auc": 0.5,
                "eer": 0.5, "num_pairs": 30, "result": str(out / "result.json")}

    monkeypatch.setattr(loop, "validate_checkpoint", validate)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "v")
    run(tmp_path, "v", resume=True)
    assert seen == [False, False, False]
    assert sorted(p.name for p in (tmp_path / "v" / "validation").iterdir()) == ["epoch-001", "epoch-002"]


def test_a_kill_during_epoch_end_validation_redoes_it_on_resume(tmp_path, monkeypatch):
    from fverify.train import loop

    monkeypatch.setattr(loop, "load_validation_set", lambda settings: "an evalset")
    validated = []

    def validate(evalset, path, out, settings, device, dtype):
        validated.append(read_weights(path)["position"]["global_step"])
        if len(validated) == 1:
            raise KeyboardInterrupt  # what a kill looks like to the code after it: nothing
        return {"protocol": "lfw", "accuracy": 0.5, "se": 0.1, "std": 0.3, "auc": 0.5,
                "eer": 0.5, "num_pairs": 30, "result": str(out / "result.json")}

    monkeypatch.setattr(loop, "validate_checkpoint", validate)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "v")
    resumed = run(tmp_path, "v", resume=True)
    assert resumed.model is not None and validated == [6, 6, 12]
    epochs = [r for r in read_metrics(tmp_path / "v" / "metrics.jsonl") if r["kind"] == "epoch"]
    assert [(r["epoch"], r["step"], r["validation"]["accuracy"]) for r in epochs] == [(1, 6, 0.5), (2, 12, 0.5)]
    assert epochs[0]["hard_mining"]["num_samples"] == 48  # epoch 1's sums, kept in its checkpoint


def test_rates_count_the_steps_time_not_the_epoch_end_or_the_previous_epoch(tmp_path, monkeypatch):
    # A fake clock: each image takes 0.01 s to load, each forward 0.1 s, each checkpoint 100 s.
    # 6 steps an epoch, a record every 4 steps: the one at step 8 spans the epoch end.
    from fverify.train import loop
    from fverify.train.objective import TrainModel

    now = [0.0]
    monkeypatch.setattr(loop, "clock", lambda: now[0])

    class SlowFaces(TinyFaces):
        def __getitem__(self, index):
            now[0] += 0.01
            return super().__getitem__(index)

    forward, save = TrainModel.forward, loop.save_checkpoint

    def slow_forward(self, images, labels):
        now[0] += 0.1
        return forward(self, images, labels)

    def slow_save(*args, **kwargs):
        now[0] += 100.0
        return save(*args, **kwargs)

    monkeypatch.setattr(TrainModel, "forward", slow_forward)
    monkeypatch.setattr(loop, "save_checkpoint", slow_save)
    run(tmp_path, "c", dataset=SlowFaces(), **{"engine.log_every_steps": 4})
    intervals = [r for r in read_metrics(tmp_path / "c" / "metrics.jsonl") if r["kind"] == "interval"]
    assert [r["step"] for r in intervals] == [4, 8, 12]
    for record in intervals:  # 8 images in 0.08 s loading + 0.1 s computing, every step
        assert record["img_per_s"] == pytest.approx(8 / 0.18)
        assert record["data_wait_fraction"] == pytest.approx(0.08 / 0.18)


def test_an_epoch_resumed_mid_way_counts_its_seconds_before_the_stop_not_the_downtime(tmp_path, monkeypatch):
    # A fake clock: each forward takes 1 s, nothing else takes time; the run stops at step 8
    # (epoch 2, 2 of 6 steps done), "waits" 1000 s, and resumes.
    from fverify.train import loop
    from fverify.train.objective import TrainModel

    now = [0.0]
    monkeypatch.setattr(loop, "clock", lambda: now[0])
    forward = TrainModel.forward

    def slow_forward(self, images, labels):
        now[0] += 1.0
        return forward(self, images, labels)

    monkeypatch.setattr(TrainModel, "forward", slow_forward)
    seconds = lambda name: [r["seconds"] for r in read_metrics(tmp_path / name / "metrics.jsonl") if r["kind"] == "epoch"]
    run(tmp_path, "whole")
    run(tmp_path, "split", **{"engine.stop_after_steps": 8})
    now[0] += 1000.0
    run(tmp_path, "split", "engine.stop_after_steps=0", resume=True)
    assert seconds("whole") == seconds("split") == [6.0, 6.0]


def test_sphereface_anneals_per_optimiser_step_under_accumulation(tmp_path):
    head = {"head.name": "sphereface", "head.options": "{}", "optim.epochs": 1}
    one = read_weights(run(tmp_path, "one", **head).checkpoint)["head"]["iteration"]
    two = read_weights(run(tmp_path, "two", **head, **{"optim.accumulation": 2}).checkpoint)["head"]["iteration"]
    assert int(one) == int(two) == 6  # 6 optimiser steps: the same lambda as one batch x2


def faces_folder(root, identities=3, per_identity=4, corrupt=1):
    """32x32 PNG faces, one folder per identity; the first ``corrupt`` files are not images."""
    import numpy as np

    from fverify.data.images import encode_image

    rng = np.random.default_rng(0)
    for identity in range(identities):
        (root / f"id{identity}").mkdir(parents=True)
        for number in range(per_identity):
            image = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            (root / f"id{identity}" / f"{number}.png").write_bytes(encode_image(image, "png"))
    for path in sorted(root.glob("*/*.png"))[:corrupt]:
        path.write_bytes(b"not an image")
    return root


def test_the_image_check_runs_once_per_run_and_refuses_too_many_unreadable(tmp_path, monkeypatch):
    import fverify.data.training as training

    calls = []
    check = training.validate_training_set
    monkeypatch.setattr(training, "validate_training_set",
                        lambda *args, **kwargs: calls.append(kwargs.get("sample")) or check(*args, **kwargs))
    folder = faces_folder(tmp_path / "faces")  # 12 images, 1 unreadable: 8.3%
    data = ["data.kind=folder", f"data.path={folder}", "optim.batch_size=4", "optim.epochs=1"]
    with pytest.raises(FverifyError, match=r"1 of the 12 training images decoded before training are "
                       r"unreadable \(8.33%\), more than data.max_decode_failure_fraction = 0.05"):
        train(load_config("tiny", tiny_overrides() + data + ["data.max_decode_failure_fraction=0.05"]),
              tmp_path / "refused", report=lambda line: None)
    assert not (tmp_path / "refused" / "checkpoints").exists()  # refused before training
    lines = []
    config = load_config("tiny", tiny_overrides() + data + ["data.max_decode_failure_fraction=0.3",
                                                             "data.decode_check_fraction=0.5",
                                                             "engine.stop_after_steps=1"])
    train(config, tmp_path / "run", report=lines.append)
    assert len(calls) == 2 and len(calls[1]) == 6  # a sample of half the images
    (start_record,) = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if r["kind"] == "start"]
    assert start_record["images_checked"]["num_decoded"] == 6
    assert any("decoded a sample of 6 images" in line for line in lines)
    lines.clear()
    train(None, tmp_path / "run", resume=True, overrides=["engine.stop_after_steps=0"], report=lines.append)
    assert len(calls) == 2 and any("not checked again on resume" in line for line in lines)
    assert read_metrics(tmp_path / "run" / "metrics.jsonl")[-1]["kind"] == "epoch"


def test_hm_over_a_base_recipe_gets_its_own_label_and_pairs_with_the_base_run():
    from fverify.train.loop import model_label, pairing_key

    data = ["data.path=/data/casia"]
    base = load_config("arcface", data)
    hm_set = load_config("arcface", data + ["hard_mining.enabled=true"])
    hm_recipe = load_config("hm-arcface", data)
    assert [model_label(c) for c in (base, hm_set, hm_recipe)] == ["arcface", "HM-arcface", "hm-arcface"]
    assert pairing_key(base) == pairing_key(hm_set) == pairing_key(hm_recipe)
    # keys that do not change the computation do not matter (the data's path among them: a
    # resume may read the same data from another mount); the math does
    assert pairing_key(load_config("arcface", data + ["engine.progress=false", "data.workers=0"])) == pairing_key(base)
    assert pairing_key(load_config("arcface", ["data.path=/mnt/other/casia"])) == pairing_key(base)
    assert pairing_key(load_config("arcface", data + ["optim.lr=0.1"])) != pairing_key(base)
    assert pairing_key(load_config("arcface", data + ["data.kind=recordio"])) != pairing_key(base)


def test_losses_wait_unread_for_at_most_settle_steps_between_log_intervals(tmp_path, monkeypatch):
    """Reading back only at log intervals would let a long interval keep every step's loss on
    the device and see a divergence that late: settle also every SETTLE_STEPS steps."""
    import fverify.train.loop as loop

    monkeypatch.setattr(loop, "SETTLE_STEPS", 2)
    settle, waiting = loop.Trainer.settle, []

    def counting_settle(self):
        waiting.append(len(self.unsettled))
        settle(self)

    monkeypatch.setattr(loop.Trainer, "settle", counting_settle)
    run(tmp_path, "r", **{"engine.log_every_steps": 100, "optim.epochs": 1})
    assert max(waiting) == 2 and waiting.count(2) >= 2  # 6 steps: settled at 2, 4 and 6
