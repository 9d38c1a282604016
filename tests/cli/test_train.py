import pytest

from fverify.cli import main
from fverify.train.metrics_log import read_metrics

SMALL = ["--set", "data.synth_identities=4", "--set", "data.synth_images_per_identity=4",
         "--set", "optim.batch_size=8", "--set", "optim.epochs=1", "--set", "engine.device=cpu"]


def test_list_recipes(capsys):
    assert main(["train", "--list-recipes"]) == 0
    listed = capsys.readouterr().out.split()
    assert {"base", "ce", "hm-ce", "sphereface", "hm-sphereface", "arcface", "hm-arcface", "cosface",
            "npt", "amm", "tiny", "synth-base", "synth-ce", "synth-hm-ce", "synth-arcface",
            "synth-hm-arcface", "demo", "demo-hm"} == set(listed)


def test_a_bad_key_exits_2_naming_it(capsys):
    assert main(["train", "--config", "tiny", "--set", "optim.lrr=1"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'optim.lrr'" in err and "optim.lr" in err and "Traceback" not in err


def test_train_the_tiny_recipe_on_synthetic_identities(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", "tiny", *SMALL, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 identities, 16 images" in printed and "epoch 1/1  step 2" in printed
    assert f"wrote {out / 'model.pt'}" in printed
    (start, *_, epoch) = read_metrics(out / "metrics.jsonl")
    assert (start["num_classes"], start["num_images"], epoch["epoch"]) == (4, 16, 1)


def test_stop_and_resume_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", "tiny", *SMALL, "--set", "optim.epochs=2",
                 "--set", "engine.stop_after_steps=3", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "stopped by engine.stop_after_steps at epoch 2, step 3" in err
    assert f"fverify train --resume --out {out}" in err
    assert main(["train", "--resume", "--out", str(out), "--set", "engine.stop_after_steps=0"]) == 0
    assert (out / "model.pt").is_file()
    with pytest.raises(SystemExit):
        main(["train", "--resume", "--out"])
    assert main(["train", "--resume", "--config", "tiny", "--out", str(out)]) == 2


def test_torchrun_needs_one_out_folder_for_all_processes(monkeypatch, capsys):
    # each process would otherwise name its own folder from its own clock
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--config", "tiny", *SMALL]) == 2
    assert "under torchrun, fverify train needs --out RUN" in capsys.readouterr().err


def test_a_trained_runs_metrics_are_read_by_plot_training_and_report(tmp_path, synth_lfw, capsys):
    # Round trip of the metrics.jsonl schema: what `fverify train` writes (validation on a
    # synthetic LFW each epoch) is read without error by both of its readers.
    run, lfw, plots, report = (tmp_path / name for name in ("run", "lfw", "plots", "report"))
    validation = ["--set", "validation.protocol=lfw", "--set", f"validation.data={synth_lfw}",
                  "--set", f"validation.pairs={synth_lfw / 'pairs.txt'}", "--set", "engine.log_every_steps=1"]
    assert main(["train", "--config", "tiny", *SMALL, *validation, "--out", str(run)]) == 0
    (epoch,) = [r for r in read_metrics(run / "metrics.jsonl") if r["kind"] == "epoch"]
    assert epoch["validation"]["protocol"] == "lfw" and epoch["validation"]["num_pairs"] == 30
    assert main(["lfw", "--model", str(run / "model.pt"), "--data", str(synth_lfw), "--pairs",
                 str(synth_lfw / "pairs.txt"), "--out", str(lfw), "--no-cache", "--no-progress"]) == 0
    assert main(["plot", "training", str(run), "--out", str(plots)]) == 0
    assert {"loss.png", "validation.png"} <= {p.name for p in plots.iterdir()}
    assert main(["report", str(lfw), "--out", str(report), "--format", "md"]) == 0
    table = (report / "report.md").read_text()
    assert "no training curves" not in table and "tiny" in table
    assert "Traceback" not in capsys.readouterr().err
