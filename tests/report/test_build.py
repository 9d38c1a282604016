"""A whole report from real runs: every file written, the tables equal the RunResults, and the
output folder refused before any work when it is not new."""
import base64
import csv
import json
import re

import pytest

from fverify.errors import FverifyError
from fverify.report.build import make_report
from fverify.report.text import percent
from tests.report import metrics_file

RUNS = ("lfw-coarse", "lfw-fine", "lfw-noise", "ytf-coarse", "ytf-fine")
FIGURE_FILES = [f"{kind}-{protocol}.png" for protocol in ("lfw", "ytf") for kind in ("roc", "det", "scores", "folds")]


@pytest.fixture(scope="module")
def report(report_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    done = make_report([str(report_runs[name]) for name in RUNS], out, baseline="models:coarse",
                       names={str(report_runs["lfw-noise"]): "noise_50%"}, show_std=True)
    return done


def recorded(report_runs, name):
    return json.loads((report_runs[name] / "result.json").read_text())["metrics"]


def test_every_file_is_written(report):
    expected = FIGURE_FILES + ["report.md", "report.csv", "report.tex", "report.html"]
    assert report.files == expected
    assert sorted(p.name for p in report.out.iterdir()) == sorted(expected)
    for name in FIGURE_FILES:
        assert (report.out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_tidy_csv_holds_each_runs_recorded_metrics(report, report_runs):
    with open(report.out / "report.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    keys = [(r["model"], r["protocol"], r["metric"], r["versus"]) for r in rows]
    assert len(keys) == len(set(keys))  # tidy: one row per model x protocol x metric
    value = {key[:3]: row for key, row in zip(keys, rows) if not key[3]}
    for name in RUNS:
        protocol, function = name.split("-")
        model = "noise_50%" if function == "noise" else f"models:{function}"
        metrics = recorded(report_runs, name)
        assert float(value[model, protocol, "accuracy_mean"]["value"]) == metrics["accuracy"]["mean"]
        assert float(value[model, protocol, "accuracy_se"]["value"]) == metrics["accuracy"]["se"]
        assert float(value[model, protocol, "accuracy_std"]["value"]) == metrics["accuracy"]["std"]
        assert float(value[model, protocol, "auc"]["value"]) == metrics["auc"]
        for target, tar in metrics["tar_at_far"].items():
            row = value[model, protocol, f"tar_at_far_{target}"]
            if tar is None:
                assert row["value"] == "" and row["note"].startswith("unresolvable: FAR")
            else:
                assert float(row["value"]) == tar
    comparison = {r["metric"]: r for r in rows if r["versus"] == "models:coarse" and r["protocol"] == "ytf"}
    assert comparison["holm_p"]["note"].startswith(("no significant difference", "models:"))
    assert set(comparison) == {"accuracy_diff", "ci95_low", "ci95_high", "mcnemar_a_only", "mcnemar_b_only",
                               "mcnemar_p", "holm_p"}


def test_the_markdown_table_shows_mean_and_se_of_each_run(report, report_runs):
    text = (report.out / "report.md").read_text()
    metrics = recorded(report_runs, "ytf-fine")
    accuracy = metrics["accuracy"]
    cell = f"{percent(accuracy['mean'])} ± {percent(accuracy['se'])} (std {percent(accuracy['std'])})"
    assert re.search(rf"^\| models:fine \| [^|]+ \| {re.escape(cell)} \|$", text, re.MULTILINE)
    assert "3 paired comparisons made" in text and "Holm's step-down method across all 3" in text
    assert "std: the std over folds, ddof=0" in text
    assert "TAR@FAR=1e-2 unresolvable: FAR 1e-2 is below 1/15 negative pairs" in text
    for name in FIGURE_FILES:
        assert f"]({name})" in text


def test_the_latex_is_booktabs_with_escaped_labels(report):
    text = (report.out / "report.tex").read_text()
    assert r"\usepackage{booktabs}" in text and r"\begin{document}" in text and text.rstrip().endswith(r"\end{document}")
    # accuracy, lfw, ytf, comparisons: four tables, each ruled top, middle and bottom once
    assert text.count(r"\toprule") == text.count(r"\midrule") == text.count(r"\bottomrule") == 4
    assert r"noise\_50\%" in text and "noise_50%" not in text
    assert r"$\pm$" in text and "±" not in text


def test_the_html_is_one_self_contained_file_without_script(report):
    text = (report.out / "report.html").read_text()
    assert "<script" not in text.lower() and not re.search(r"(src|href)=\"(https?:)?//", text)
    embedded = re.findall(r'<img src="data:image/png;base64,([^"]+)" width="(\d+)" height="(\d+)"', text)
    assert len(embedded) == len(FIGURE_FILES)
    for (data, width, height), name in zip(embedded, FIGURE_FILES):
        png = (report.out / name).read_bytes()
        assert base64.b64decode(data) == png  # the same bytes as the file, drawn once
        assert (int(width), int(height)) == (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
    assert "noise_50%" in text and "<table>" in text


def test_a_folder_that_is_not_new_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FverifyError, match="exists and is not an empty folder"):
        make_report([str(tmp_path / "no-such-run")], out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_chosen_formats_only_and_unknown_formats_refused(report_runs, tmp_path):
    done = make_report([str(report_runs["ytf-coarse"])], tmp_path / "csv-only", formats=["csv"])
    assert sorted(p.name for p in done.out.iterdir()) == sorted(["report.csv", "roc-ytf.png", "det-ytf.png",
                                                               "scores-ytf.png", "folds-ytf.png"])
    with pytest.raises(FverifyError, match="unknown report format 'pdf'"):
        make_report([str(report_runs["ytf-coarse"])], tmp_path / "bad", formats=["md", "pdf"])
    assert not (tmp_path / "bad").exists()


def test_a_failed_report_leaves_no_folder(report_runs, tmp_path):
    with pytest.raises(FverifyError):
        make_report([str(report_runs["ytf-coarse"])], tmp_path / "out", baseline="nobody")
    assert not (tmp_path / "out").exists()


def test_models_from_the_trainer_bring_their_training_curves(report_runs, tmp_path):
    base_dir, hm_dir = tmp_path / "train-arcface", tmp_path / "train-hm-arcface"
    metrics_file.example_run(base_dir, "arcface")
    metrics_file.example_run(hm_dir, "hm-arcface", active=True, seed=1)
    runs = [metrics_file.trained(report_runs["lfw-coarse"], tmp_path / "a", "arcface", None, base_dir),
            metrics_file.trained(report_runs["lfw-fine"], tmp_path / "b", "hm-arcface", "arcface", hm_dir),
            metrics_file.trained(report_runs["lfw-noise"], tmp_path / "c", "cosface", None, tmp_path / "moved-away")]
    done = make_report(runs, tmp_path / "report", formats=["md", "html"])
    training = ["training-loss.png", "training-validation.png", "training-hard_mining.png", "training-p_y.png"]
    assert [f.name for f in done.report.figures][-4:] == training
    assert list(done.report.statistics.training) == ["arcface", "hm-arcface"]
    for name in training:
        assert (done.out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (done.out / "report.md").read_text()
    assert f"- cosface: no training curves, {tmp_path / 'moved-away' / 'metrics.jsonl'} is not found" in text
    assert "hm-arcface | arcface | lfw" in text  # the automatic HM-X vs X comparison
    assert (done.out / "report.html").read_text().count("<img ") == 4 + 4


def test_a_malformed_training_log_is_refused(report_runs, tmp_path):
    broken = tmp_path / "train"
    metrics_file.write(broken / "metrics.jsonl", [{"schema": "other/1", "kind": "start"}])
    run = metrics_file.trained(report_runs["lfw-coarse"], tmp_path / "a", "arcface", None, broken)
    with pytest.raises(FverifyError, match="metrics.jsonl:1"):
        make_report([run], tmp_path / "report")
