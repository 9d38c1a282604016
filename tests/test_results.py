import json

import numpy as np
import pytest

from fverify import __version__
from fverify.atomic import write_json
from fverify.bench.workload import lfw_shaped_pairs, synthetic_scores
from fverify.metrics.compare import compare
from fverify.metrics.evaluation import evaluate
from fverify.results import comparison_result, metrics_json, run_result


@pytest.fixture(scope="module")
def evaluations():
    labels, folds = lfw_shaped_pairs(6000)
    a = evaluate(synthetic_scores(labels, model_seed=1), labels, folds)
    b = evaluate(synthetic_scores(labels, model_seed=2, d_prime=4.6), labels, folds)
    return a, b


def fractions(metrics):
    yield metrics["accuracy"]["mean"]
    yield metrics["auc"]
    yield metrics["eer"]
    yield from (fold["accuracy"] for fold in metrics["accuracy"]["folds"])
    yield from (value for value in metrics["tar_at_far"].values() if value is not None)


def test_metrics_follow_the_design_contract(evaluations):
    a, _ = evaluations
    metrics = metrics_json(a)
    assert {"accuracy", "auc", "eer", "tar_at_far"} <= set(metrics)
    assert {"mean", "std", "se", "folds"} <= set(metrics["accuracy"])
    assert set(metrics["accuracy"]["folds"][0]) >= {"threshold", "accuracy"}
    assert len(metrics["accuracy"]["folds"]) == 10
    assert metrics["accuracy"]["mean"] == a.accuracy.mean and metrics["accuracy"]["se"] == a.accuracy.se
    assert list(metrics["tar_at_far"]) == ["1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6"]
    nulls = [far for far, value in metrics["tar_at_far"].items() if value is None]
    assert nulls == ["1e-4", "1e-5", "1e-6"] and set(metrics["tar_at_far_reasons"]) == set(nulls)
    assert all(0 <= value <= 1 for value in fractions(metrics))
    assert "ddof=0" in metrics["accuracy"]["std_is"] and "ddof=1" in metrics["accuracy"]["se_is"]


def test_run_result_records_what_changes_a_number_and_is_strict_json(evaluations, tmp_path):
    a, _ = evaluations
    result = run_result(
        a,
        protocol="lfw",
        protocol_source="protocols/lfw/pairs.txt",
        protocol_md5="0" * 32,
        fold_rule="file",
        scores_csv="reports/runs/x.csv",
        timings={"embed_s": 1.5},
        data_root="data/lfw",
        model_path="ckpt.pt",
        model_sha256="f" * 64,
        preprocessing={"mean": 127.5},
        embedding={"flip": "sum"},
    )
    assert result["schema"] == "fverify.run/1" and result["fverify_version"] == __version__
    assert result["protocol"] == {
        "name": "lfw", "source": "protocols/lfw/pairs.txt", "md5": "0" * 32, "folds": "file"
    }
    assert result["model"] == {"path": "ckpt.pt", "sha256": "f" * 64, "training": None}
    assert result["threshold_method"] == "exact" and result["scores_csv"] == "reports/runs/x.csv"
    assert result["data_root"] == "data/lfw" and result["embedding"] == {"flip": "sum"}
    write_json(tmp_path / "run.json", result)  # refuses NaN/inf
    assert json.loads((tmp_path / "run.json").read_text()) == result


def test_comparison_document(evaluations, tmp_path):
    a, b = evaluations
    comparison = compare(a, b, resamples=500)
    document = comparison_result(a, b, comparison, a_source="a.csv", b_source="b.csv")
    assert document["schema"] == "fverify.compare/1"
    assert document["a"] == metrics_json(a) and document["b"] == metrics_json(b)
    assert document["accuracy_diff"] == a.accuracy.mean - b.accuracy.mean
    mcnemar = {"a_only": comparison.a_only, "b_only": comparison.b_only, "p": comparison.p_value}
    assert document["mcnemar"] == mcnemar
    low, high = document["bootstrap_ci95"]
    assert low <= document["accuracy_diff"] <= high
    assert document["bootstrap"]["resamples"] == 500 and document["bootstrap"]["seed"] == 0
    write_json(tmp_path / "cmp.json", document)
    assert json.loads((tmp_path / "cmp.json").read_text()) == document


def test_thresholds_are_plain_floats(evaluations):
    for fold in metrics_json(evaluations[0])["accuracy"]["folds"]:
        assert type(fold["threshold"]) is float and np.isfinite(fold["threshold"])
