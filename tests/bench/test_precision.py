import csv
import json

import numpy as np
import pytest

from fverify.bench.precision import measure, summary


def read_run(folder):
    """Scores, labels and folds of a run's scores.csv, and its per-fold thresholds."""
    with open(folder / "scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    scores = np.array([float(row["score"]) for row in rows])
    labels = np.array([row["label"] == "1" for row in rows])
    folds = np.array([int(row["fold"]) for row in rows])
    result = json.loads((folder / "result.json").read_text())
    thresholds = np.array([fold["threshold"] for fold in result["metrics"]["accuracy"]["folds"]])
    return scores, labels, folds, thresholds


def test_figures_are_those_of_the_two_runs_it_wrote(tmp_path):
    figures = measure(tmp_path, dtype="bfloat16", arch="mobilefacenet", pairs_per_fold=2, progress=False)
    s32, labels, folds, t32 = read_run(tmp_path / "run-float32")
    s16, labels16, folds16, t16 = read_run(tmp_path / "run-bfloat16")
    assert np.array_equal(labels, labels16) and np.array_equal(folds, folds16)
    assert len(labels) == 40 and np.bincount(folds).tolist() == [4] * 10

    # Independent values: each run's decisions re-derived from its own files (exact rule,
    # same if score > its fold's threshold), then compared pair by pair.
    same32, same16 = s32 > t32[folds], s16 > t16[folds]
    changed = int(np.count_nonzero(same32 != same16))
    right32, right16 = int(np.sum(same32 == labels)), int(np.sum(same16 == labels))
    assert figures["pairs"] == 40 and figures["folds"] == 10
    assert figures["changed_decisions"] == changed
    assert figures["agreement"] == pytest.approx(1 - changed / 40)
    assert figures["accuracy_gap_pairs"] == abs(right32 - right16)
    # Equal folds: the mean of the fold accuracies is the pooled fraction right.
    assert figures["accuracy_float32"] == pytest.approx(right32 / 40)
    assert figures["accuracy_bfloat16"] == pytest.approx(right16 / 40)
    assert figures["max_score_change"] == pytest.approx(np.abs(s32 - s16).max())
    assert figures["median_score_change"] == pytest.approx(np.median(np.abs(s32 - s16)))
    # bf16 really ran (scores moved) and stayed close to float32 on unit-vector cosines.
    assert 0 < figures["max_score_change"] < 0.05
    # The verdict: at least 99.9% equal decisions (none changed out of 40) and within one pair.
    assert figures["passed"] == (changed == 0 and abs(right32 - right16) <= 1)
    text = summary(figures)
    assert ("PASS" in text) == figures["passed"] and ("FAIL" in text) != figures["passed"]
