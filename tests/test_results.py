import json

import numpy as np
import pytest
from scipy.stats import binomtest

from fverify import __version__
from fverify.atomic import write_json
from fverify.bench.workload import lfw_shaped_pairs, synthetic_scores
from fverify.metrics.compare import compare
from fverify.metrics.evaluation import evaluate
from fverify.results import comparison_result, metrics_json, run_result


@pytest.fixture(scope="module")
def pairs():
    labels, folds = lfw_shaped_pairs(6000)
    return synthetic_scores(labels, model_seed=1), synthetic_scores(labels, model_seed=2, d_prime=4.6), labels, folds


@pytest.fixture(scope="module")
def evaluations(pairs):
    scores_a, scores_b, labels, folds = pairs
    return evaluate(scores_a, labels, folds), evaluate(scores_b, labels, folds)


def right_by_hand(scores, labels, folds, metrics):
    """Per pair: decided right at the threshold the document gives its fold (score > threshold)."""
    thresholds = np.array([fold["threshold"] for fold in metrics["accuracy"]["folds"]])
    return (scores > thresholds[folds]) == labels


def fractions(metrics):
    yield metrics["accuracy"]["mean"]
    yield metrics["auc"]
    yield metrics["eer"]
    yield from (fold["accuracy"] for fold in metrics["accuracy"]["folds"])
    yield from (value for value in metrics["tar_at_far"].values() if value is not None)


def test_metrics_follow_the_design_contract(evaluations, pairs):
    a, _ = evaluations
    scores, _, labels, folds = pairs
    metrics = metrics_json(a)
    assert {"accuracy", "auc", "eer", "tar_at_far"} <= set(metrics)
    assert {"mean", "std", "se", "folds"} <= set(metrics["accuracy"])
    assert set(metrics["accuracy"]["folds"][0]) >= {"threshold", "accuracy"}
    assert len(metrics["accuracy"]["folds"]) == 10 and metrics["test_fold"] is None
    # Independent values: fold accuracies from the document's own thresholds, spreads by formula.
    right = right_by_hand(scores, labels, folds, metrics)
    by_fold = np.array([right[folds == f].mean() for f in range(10)])
    assert [fold["accuracy"] for fold in metrics["accuracy"]["folds"]] == pytest.approx(by_fold, abs=1e-12)
    assert metrics["accuracy"]["mean"] == pytest.approx(right.mean(), abs=1e-12)  # equal folds
    squares = np.sum((by_fold - by_fold.mean()) ** 2)
    assert metrics["accuracy"]["std"] == pytest.approx(np.sqrt(squares / 10), abs=1e-12)
    assert metrics["accuracy"]["se"] == pytest.approx(np.sqrt(squares / 9) / np.sqrt(10), abs=1e-12)
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


def test_comparison_document(evaluations, pairs, tmp_path):
    a, b = evaluations
    scores_a, scores_b, labels, folds = pairs
    comparison = compare(a, b, resamples=500)
    document = comparison_result(a, b, comparison, a_source="a.csv", b_source="b.csv")
    assert document["schema"] == "fverify.compare/1"
    assert document["a"] == metrics_json(a) and document["b"] == metrics_json(b)
    # Independent values: discordant pairs from each side's own thresholds in the document.
    right_a = right_by_hand(scores_a, labels, folds, document["a"])
    right_b = right_by_hand(scores_b, labels, folds, document["b"])
    a_only, b_only = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    assert document["accuracy_diff"] == pytest.approx((a_only - b_only) / 6000, abs=1e-12)
    assert document["mcnemar"]["a_only"] == a_only and document["mcnemar"]["b_only"] == b_only
    assert document["mcnemar"]["p"] == pytest.approx(binomtest(a_only, a_only + b_only).pvalue, rel=1e-12)
    low, high = document["bootstrap_ci95"]
    assert low <= document["accuracy_diff"] <= high
    assert document["bootstrap"]["resamples"] == 500 and document["bootstrap"]["seed"] == 0
    write_json(tmp_path / "cmp.json", document)
    assert json.loads((tmp_path / "cmp.json").read_text()) == document


def test_thresholds_are_plain_floats(evaluations):
    for fold in metrics_json(evaluations[0])["accuracy"]["folds"]:
        assert type(fold["threshold"]) is float and np.isfinite(fold["threshold"])


def test_a_fixed_split_is_strict_json_with_its_tested_fold(tmp_path):
    labels, folds = lfw_shaped_pairs(6000)
    evaluation = evaluate(synthetic_scores(labels, model_seed=3), labels, folds // 5, test_fold=1)
    metrics = metrics_json(evaluation)
    assert metrics["num_pairs"] == 3000 and metrics["num_folds"] == 1 and metrics["test_fold"] == 1
    assert [fold["fold"] for fold in metrics["accuracy"]["folds"]] == [1]
    assert metrics["accuracy"]["se"] is None and metrics["accuracy"]["std"] is None
    write_json(tmp_path / "run.json", metrics)  # refuses NaN/inf
    assert json.loads((tmp_path / "run.json").read_text()) == metrics
