"""The report's statistics: cells equal the RunResults, comparisons equal `fverify evaluate
--compare`, Holm across every comparison, the automatic HM-X vs X pairing, and refusals."""
import json
import shutil

import numpy as np
import pytest

from fverify.cli import main
from fverify.errors import FverifyError
from fverify.metrics.holm import holm_adjust
from fverify.report.runs import load_runs
from fverify.report.statistics import build_statistics
from fverify.scores import write_scores
from tests.report.conftest import protocol_run
from tests.report.metrics_file import trained

ALL = ("lfw-coarse", "lfw-fine", "lfw-noise", "ytf-coarse", "ytf-fine")


def paths(report_runs, names=ALL):
    return [str(report_runs[name]) for name in names]


def evaluate_compare(a_scores, b_scores, out):
    assert main(["evaluate", str(a_scores), "--compare", str(b_scores), "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_cells_hold_each_run_in_its_model_row_and_protocol_column(report_runs):
    statistics = build_statistics(load_runs(paths(report_runs)))
    assert statistics.rows == ("models:coarse", "models:fine", "models:noise")
    assert [column.protocol for column in statistics.columns] == ["lfw", "ytf"]
    assert statistics.cell("models:noise", "ytf") is None
    for name in ALL:
        recorded = json.loads((report_runs[name] / "result.json").read_text())
        protocol, function = name.split("-")
        evaluation = statistics.cell(f"models:{function}", protocol).evaluation
        metrics = recorded["metrics"]
        assert evaluation.accuracy.mean == metrics["accuracy"]["mean"]
        assert evaluation.accuracy.se == metrics["accuracy"]["se"]
        assert (evaluation.auc, evaluation.eer.rate) == (metrics["auc"], metrics["eer"])
        assert {k: p.tar for k, p in evaluation.tar_at_far.items()} == metrics["tar_at_far"]
    lfw = statistics.columns[0]
    assert (lfw.num_pairs, lfw.num_positive, lfw.num_negative, lfw.num_folds) == (30, 15, 15, 3)


def test_comparisons_against_a_baseline_equal_evaluate_compare_and_are_holm_corrected(report_runs, tmp_path):
    statistics = build_statistics(load_runs(paths(report_runs)), baseline="models:coarse")
    made = [(c.a, c.b, c.protocol) for c in statistics.comparisons]
    assert made == [("models:fine", "models:coarse", "lfw"), ("models:fine", "models:coarse", "ytf"),
                    ("models:noise", "models:coarse", "lfw")]
    for comparison in statistics.comparisons:
        a, b = (report_runs[f"{comparison.protocol}-{row.split(':')[1]}"] / "scores.csv"
                for row in (comparison.a, comparison.b))
        expected = evaluate_compare(a, b, tmp_path / f"{comparison.protocol}-{comparison.a}.json")
        paired = comparison.paired
        assert paired.accuracy_diff == expected["accuracy_diff"]
        assert (paired.a_only, paired.b_only, paired.p_value) == tuple(expected["mcnemar"].values())
        assert list(paired.ci95) == expected["bootstrap_ci95"]
    raw = [c.paired.p_value for c in statistics.comparisons]
    assert [c.p_holm for c in statistics.comparisons] == holm_adjust(raw).tolist()
    assert "baseline models:coarse" in statistics.pairing


def scores_run(folder, name, scores, labels, folds):
    """A RunResult of `fverify evaluate --json` on the given pair scores."""
    csv = folder / f"{name}.csv"
    write_scores(csv, scores=scores, labels=labels, folds=folds)
    assert main(["evaluate", str(csv), "--json", str(folder / f"{name}.json")]) == 0
    return str(folder / f"{name}.json")


def separable_runs(folder):
    """Two score files of 200 pairs: one model separates them perfectly, one is noise."""
    rng = np.random.default_rng(3)
    labels = np.tile([True, False], 100)
    folds = np.repeat(np.arange(10), 20)
    good = scores_run(folder, "good", labels + rng.normal(0, 0.1, 200), labels, folds)
    noise = scores_run(folder, "noise", rng.normal(0, 1, 200), labels, folds)
    return good, noise, labels, folds


def test_a_clear_difference_is_called_significant_like_evaluate_compare(tmp_path, capsys):
    good, noise, _, _ = separable_runs(tmp_path)
    comparison, = build_statistics(load_runs([good, noise]), baseline="noise").comparisons
    assert comparison.significant and comparison.p_holm == comparison.paired.p_value < 1e-10
    assert comparison.verdict.startswith("good is more accurate than noise on scores-csv")
    capsys.readouterr()
    main(["evaluate", str(tmp_path / "good.csv"), "--compare", str(tmp_path / "noise.csv")])
    assert "=> a significant difference" in capsys.readouterr().out
    reverse, = build_statistics(load_runs([good, noise]), baseline="good").comparisons
    assert reverse.verdict.startswith("good is more accurate than noise") and reverse.paired.accuracy_diff < 0


def test_no_baseline_and_no_training_records_means_no_comparisons(report_runs):
    statistics = build_statistics(load_runs(paths(report_runs)))
    assert statistics.comparisons == () and statistics.pairing.startswith("none")


def test_hm_runs_are_paired_with_their_base_recipe_from_the_training_records(report_runs, tmp_path):
    runs = [trained(report_runs["lfw-coarse"], tmp_path / "base", "arcface", None),
            trained(report_runs["lfw-fine"], tmp_path / "hm", "hm-arcface", "arcface"),
            trained(report_runs["lfw-noise"], tmp_path / "other", "cosface", None)]
    statistics = build_statistics(load_runs(runs))
    assert [(c.a, c.b, c.protocol) for c in statistics.comparisons] == [("hm-arcface", "arcface", "lfw")]
    assert "base recipe" in statistics.pairing
    # A second checkpoint of the base recipe, labelled apart: which one HM-X goes with is unclear.
    runs.append(trained(report_runs["lfw-noise"], tmp_path / "base2", "arcface", None))
    with pytest.raises(FverifyError, match="could be compared with any of arcface, arcface seed 2"):
        build_statistics(load_runs(runs, {runs[-1]: "arcface seed 2"}))


def test_hm_set_over_a_base_recipe_is_labelled_apart_and_paired_by_its_pairing_key(report_runs, tmp_path):
    # `--set hard_mining.enabled=true` on arcface: the same recipe name as the base run; the
    # trainer records the label HM-arcface and the key of the training both runs share.
    def run(source, name, label, hard_mining, key):
        return trained(source, tmp_path / name, "arcface", "arcface" if hard_mining else None,
                       label=label, pairing_key=key)

    runs = [run(report_runs["lfw-coarse"], "base", "arcface", False, "a" * 64),
            run(report_runs["lfw-fine"], "hm", "HM-arcface", True, "a" * 64),
            run(report_runs["lfw-noise"], "base-other-lr", "arcface lr 0.1", False, "b" * 64)]
    statistics = build_statistics(load_runs(runs, {runs[2]: "arcface lr 0.1"}))
    assert [(c.a, c.b) for c in statistics.comparisons] == [("HM-arcface", "arcface")]


def test_a_keyed_hm_run_pairs_by_recipe_name_with_a_base_checkpoint_older_than_the_key(report_runs, tmp_path):
    base = trained(report_runs["lfw-coarse"], tmp_path / "base", "arcface", None)  # no pairing_key
    hm = trained(report_runs["lfw-fine"], tmp_path / "hm", "hm-arcface", "arcface", pairing_key="a" * 64)
    statistics = build_statistics(load_runs([base, hm]))
    assert [(c.a, c.b) for c in statistics.comparisons] == [("hm-arcface", "arcface")]


def test_a_second_run_of_one_model_on_one_protocol_is_refused(report_runs, tmp_path):
    copy = shutil.copytree(report_runs["lfw-coarse"], tmp_path / "again")
    with pytest.raises(FverifyError, match="two runs of 'models:coarse' on lfw"):
        build_statistics(load_runs([str(report_runs["lfw-coarse"]), str(copy)]))


def test_an_unknown_baseline_is_refused(report_runs):
    with pytest.raises(FverifyError, match="--baseline 'nobody' is none of the models"):
        build_statistics(load_runs(paths(report_runs)), baseline="nobody")


def test_a_different_protocol_file_in_one_column_is_refused(report_runs, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(report_runs["lfw-fine"], other)
    result = json.loads((other / "result.json").read_text())
    result["protocol"]["md5"] = "f" * 32
    (other / "result.json").write_text(json.dumps(result))
    with pytest.raises(FverifyError, match="protocol lfw was read from a different file"):
        build_statistics(load_runs([str(report_runs["lfw-coarse"]), str(other)]))


def test_different_pairs_in_one_column_are_refused(tmp_path):
    good, _, labels, folds = separable_runs(tmp_path)
    swapped = scores_run(tmp_path, "swapped", np.zeros(200) + np.arange(200), ~labels, folds)
    with pytest.raises(FverifyError, match="the label differs"):
        build_statistics(load_runs([good, swapped]))


def test_runs_with_different_threshold_searches_are_refused(report_runs, synth_lfw, tmp_path):
    grid = tmp_path / "grid"
    protocol_run("lfw", synth_lfw, f"{report_runs['models'] / 'models.py'}:fine", grid, "--threshold", "grid")
    with pytest.raises(FverifyError, match="threshold search 'grid'"):
        build_statistics(load_runs([str(report_runs["lfw-coarse"]), str(grid)]))


def test_one_label_for_two_different_models_is_refused(report_runs, tmp_path):
    other = shutil.copytree(report_runs["ytf-fine"], tmp_path / "other")
    result = json.loads((other / "result.json").read_text())
    result["model"]["sha256"] = "e" * 64
    (other / "result.json").write_text(json.dumps(result))
    with pytest.raises(FverifyError, match="runs of two different models are both labelled 'models:fine'"):
        build_statistics(load_runs([str(report_runs["lfw-fine"]), str(other)]))
