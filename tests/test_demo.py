"""The demo end to end (--quick), its output folder rules and its configs."""
import csv
import json

import pytest

from fverify.cli import main
from fverify.demo import LOSSES, demo_configs, run_demo
from fverify.errors import FverifyError
from fverify.train.experiment import EXPERIMENT_JSON

REPORT_FILES = {"report.md", "report.csv", "report.tex", "report.html", "roc-lfw.png", "det-lfw.png",
                "roc-ytf.png", "det-ytf.png", "training-loss.png", "training-hard_mining.png",
                "training-p_y.png", "hm-curve.png"}


def accuracy_rows(report_csv):
    with open(report_csv, newline="") as handle:
        return {(row["model"], row["protocol"]): float(row["value"])
                for row in csv.DictReader(handle) if row["metric"] == "accuracy_mean" and not row["versus"]}


def test_quick_demo_writes_the_whole_report_and_a_rerun_gives_the_same_tables(tmp_path, capsys):
    out, cache, lines = tmp_path / "demo", tmp_path / "cache", []
    assert main(["demo", "--quick", "--seed", "3", "--out", str(out), "--cache", str(cache)]) == 0
    printed = capsys.readouterr().out
    assert "train: rendering" in printed and "[train 2/2] demo-hm-arcface" in printed
    assert f"open {out / 'report' / 'report.html'} in a browser" in printed and "demo finished in" in printed
    report = out / "report"
    assert REPORT_FILES <= {path.name for path in report.iterdir()}
    assert all((report / name).stat().st_size > 0 for name in REPORT_FILES)
    accuracy = accuracy_rows(report / "report.csv")
    assert set(accuracy) == {(model, protocol) for model in ("demo-arcface", "demo-hm-arcface")
                             for protocol in ("lfw", "ytf")}
    for (model, protocol), value in accuracy.items():
        run = json.loads((out / "eval" / f"{protocol}-{model}" / "result.json").read_text())
        assert value == run["metrics"]["accuracy"]["mean"] and 0.2 <= value <= 1.0
    html = (report / "report.html").read_text()
    assert "is more accurate than" in html or "no significant difference" in html
    manifest = json.loads((out / EXPERIMENT_JSON).read_text())
    assert manifest["complete"] and manifest["made_by"] == "fverify demo"
    assert manifest["benchmark_seed"] == 1003
    tables = {name: (report / name).read_bytes() for name in ("report.csv", "report.md")}

    # Same seed again, into the same folder: the earlier demo is replaced, the data comes from
    # the cache, and every number is the same.
    done = run_demo(quick=True, seed=3, out=out, cache=cache, report=lines.append)
    statistics = done.report.report.statistics
    assert [(c.a, c.b, c.protocol) for c in statistics.comparisons] == [
        ("demo-hm-arcface", "demo-arcface", "lfw"), ("demo-hm-arcface", "demo-arcface", "ytf")]
    assert f"replacing the earlier demo in {out}" in lines
    assert not any("rendering" in line for line in lines)
    assert {name: (report / name).read_bytes() for name in tables} == tables


def test_a_folder_the_demo_did_not_write_is_refused_before_any_work(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(FverifyError, match="not an earlier demo's output"):
        run_demo(quick=True, out=out, cache=tmp_path / "cache")
    assert (out / "thesis.tex").read_text() == "precious" and not (tmp_path / "cache").exists()


def test_a_demo_folder_with_a_foreign_file_is_refused(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / EXPERIMENT_JSON).write_text(json.dumps({"made_by": "fverify demo"}))
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FverifyError, match="notes.txt, which a demo does not write"):
        run_demo(quick=True, out=out, cache=tmp_path / "cache")
    assert (out / "notes.txt").exists()


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_each_loss_gives_a_pair_that_differs_only_in_hard_mining(loss):
    hm, base = demo_configs(loss, seed=7)
    assert (hm.name, base.name) == (f"demo-hm-{loss}", f"demo-{loss}")
    assert hm.head.name == base.head.name == LOSSES[loss]
    assert hm.hard_mining.enabled and not base.hard_mining.enabled
    assert (hm.engine.seed, hm.data.synth_seed, base.engine.seed, base.data.synth_seed) == (7, 7, 7, 7)
    # the base recipe name the report pairs the HM run with (train loop: drop the first "hm-")
    assert hm.name.replace("hm-", "", 1) == base.name


def test_an_unknown_loss_is_refused():
    with pytest.raises(FverifyError, match="unknown loss 'triplet'"):
        demo_configs("triplet")


def test_the_command_prints_a_refusal_without_a_traceback(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    assert main(["demo", "--quick", "--out", str(tmp_path), "--cache", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert "fverify demo: error:" in err and "not an earlier demo's output" in err and "Traceback" not in err
