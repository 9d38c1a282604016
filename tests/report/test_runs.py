"""Reading the runs of a report: folders, JSONs, globs, labels, and every refusal."""
import json
import shutil

import pytest

from fverify.cli import main
from fverify.errors import FverifyError
from fverify.report.runs import expand_inputs, load_run, load_runs


def test_folder_json_and_glob_give_the_same_runs(report_runs):
    folder, json_path = report_runs["lfw-coarse"], report_runs["lfw-coarse"] / "result.json"
    by_glob = expand_inputs([str(folder.parent / "lfw-*")])
    assert by_glob == [report_runs[f"lfw-{name}"] / "result.json" for name in ("coarse", "fine", "noise")]
    assert expand_inputs([str(folder)]) == expand_inputs([str(json_path)]) == [json_path]


def test_a_run_reproduces_its_recorded_metrics_and_is_labelled_by_its_model(report_runs):
    run = load_run(report_runs["lfw-fine"] / "result.json")
    recorded = json.loads((report_runs["lfw-fine"] / "result.json").read_text())
    assert run.label == "models:fine" and run.protocol == "lfw" and run.training is None
    assert run.evaluation.accuracy.mean == recorded["metrics"]["accuracy"]["mean"]
    assert run.evaluation.auc == recorded["metrics"]["auc"]
    assert run.scores.num_pairs == recorded["metrics"]["num_pairs"] == 30


def test_names_label_runs_by_folder_or_json_and_a_stray_name_is_refused(report_runs):
    coarse, fine = report_runs["lfw-coarse"], report_runs["lfw-fine"]
    runs = load_runs([str(coarse), str(fine / "result.json")],
                     {str(coarse): "A", str(fine / "result.json"): "B"})
    assert [run.label for run in runs] == ["A", "B"]
    runs = load_runs([str(coarse / "result.json")], {str(coarse): "by folder"})
    assert runs[0].label == "by folder"
    with pytest.raises(FverifyError, match="--name names a run that is not in the report"):
        load_runs([str(coarse)], {str(fine): "B"})


def test_a_training_record_names_the_row(report_runs, tmp_path):
    copy = shutil.copytree(report_runs["lfw-fine"], tmp_path / "run")
    result = json.loads((copy / "result.json").read_text())
    result["model"]["training"] = {"recipe": "hm-arcface", "base_recipe": "arcface", "hard_mining": True,
                                   "head": "arcface", "run_dir": "/x", "config_sha256": "0" * 64}
    (copy / "result.json").write_text(json.dumps(result))
    assert load_run(copy / "result.json").label == "hm-arcface"


def test_a_moved_run_folder_finds_its_scores_beside_its_result(report_runs, tmp_path):
    moved = shutil.copytree(report_runs["lfw-coarse"], tmp_path / "moved")
    result = json.loads((moved / "result.json").read_text())
    result["scores_csv"] = "/nowhere/scores.csv"
    (moved / "result.json").write_text(json.dumps(result))
    assert load_run(moved / "result.json").scores.path == moved / "scores.csv"


def test_an_evaluate_json_is_a_run(report_runs, tmp_path):
    out = tmp_path / "evaluated.json"
    assert main(["evaluate", str(report_runs["lfw-coarse"] / "scores.csv"), "--json", str(out)]) == 0
    run = load_run(out)
    assert run.protocol == "scores-csv" and run.label == "evaluated"
    assert run.evaluation.accuracy.mean == load_run(report_runs["lfw-coarse"] / "result.json").evaluation.accuracy.mean


@pytest.mark.parametrize("case, message", [
    ("glob", "matches no file or folder"),
    ("folder", "a run folder holds result.json"),
    ("twice", "given twice"),
])
def test_inputs_that_are_not_runs_are_refused(report_runs, tmp_path, case, message):
    inputs = {"glob": [str(tmp_path / "nothing-*")], "folder": [str(tmp_path)],
              "twice": [str(report_runs["lfw-coarse"]), str(report_runs["lfw-coarse"] / "result.json")]}[case]
    with pytest.raises(FverifyError, match=message):
        expand_inputs(inputs)


def test_a_comparison_json_is_refused_as_a_run(report_runs, tmp_path):
    out = tmp_path / "compare.json"
    assert main(["evaluate", str(report_runs["lfw-coarse"] / "scores.csv"), "--compare",
                 str(report_runs["lfw-fine"] / "scores.csv"), "--json", str(out)]) == 0
    with pytest.raises(FverifyError, match="a paired comparison, not a run"):
        load_run(out)


def test_scores_of_another_run_are_refused(report_runs, tmp_path):
    swapped = shutil.copytree(report_runs["lfw-coarse"], tmp_path / "swapped")
    shutil.copy(report_runs["lfw-fine"] / "scores.csv", swapped / "scores.csv")
    with pytest.raises(FverifyError, match="does not reproduce this run's metrics"):
        load_run(swapped / "result.json")


def test_missing_scores_are_refused_naming_where_they_were_looked_for(report_runs, tmp_path):
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(report_runs["lfw-coarse"] / "result.json", lonely / "result.json")
    result = json.loads((lonely / "result.json").read_text())
    result["scores_csv"] = str(tmp_path / "gone.csv")
    (lonely / "result.json").write_text(json.dumps(result))
    with pytest.raises(FverifyError, match="scores of this run are not found") as error:
        load_run(lonely / "result.json")
    assert "gone.csv" in str(error.value)
