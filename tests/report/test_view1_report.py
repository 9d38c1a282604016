"""A report over LFW View 1 runs: the fixed DevTrain/DevTest split is re-scored as it was run
(fitted on DevTrain, reported on DevTest alone), and its accuracy has no spread to print."""
import csv
import json

import numpy as np
import pytest

from fverify.cli import main
from tests.report.conftest import MODELS, RUN_FLAGS


@pytest.fixture(scope="module")
def view1_runs(synth_lfw, tmp_path_factory):
    """Two View 1 runs (models ``coarse`` and ``fine``): DevTrain = the first two blocks of the
    synthetic pairs.txt, DevTest = the third, each in its official header format."""
    root = tmp_path_factory.mktemp("view1-report")
    lines = (synth_lfw / "pairs.txt").read_text().splitlines()[1:]
    (root / "devtrain.txt").write_text("2\t5\n" + "\n".join(lines[:20]) + "\n")
    (root / "devtest.txt").write_text("5\n" + "\n".join(lines[20:]) + "\n")
    (root / "models.py").write_text(MODELS)
    runs = {}
    for function in ("coarse", "fine"):
        runs[function] = root / function
        assert main(["lfw", "--view", "1", "--data", str(synth_lfw), "--pairs", str(root / "devtrain.txt"),
                     "--pairs", str(root / "devtest.txt"), "--model", f"{root / 'models.py'}:{function}",
                     "--out", str(runs[function]), *RUN_FLAGS]) == 0
    return runs


def devtest_right(run):
    """Which DevTest pairs the run decides right, from its own scores.csv at its recorded threshold."""
    with open(run / "scores.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["fold"] == "1"]
    threshold = json.loads((run / "result.json").read_text())["metrics"]["accuracy"]["folds"][0]["threshold"]
    return np.array([(float(r["score"]) > threshold) == (r["label"] == "1") for r in rows])


def test_a_view1_report_shows_devtest_accuracy_without_a_spread(view1_runs, tmp_path):
    out = tmp_path / "report"
    assert main(["report", str(view1_runs["coarse"]), str(view1_runs["fine"]), "--out", str(out),
                 "--name", f"{view1_runs['coarse']}=coarse", "--name", f"{view1_runs['fine']}=fine",
                 "--baseline", "fine", "--format", "md,csv"]) == 0
    table = (out / "report.md").read_text()
    for name in ("coarse", "fine"):
        expected = f"{100 * devtest_right(view1_runs[name]).mean():.3f}% (one test fold)"
        assert expected in table
    with open(out / "report.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts = {r["metric"]: float(r["value"]) for r in rows if r["model"] == "coarse" and r["versus"] == "fine"}
    # McNemar counts DevTest's pairs only, each model at its DevTrain threshold.
    coarse, fine = devtest_right(view1_runs["coarse"]), devtest_right(view1_runs["fine"])
    assert counts["mcnemar_a_only"] == np.sum(coarse & ~fine)
    assert counts["mcnemar_b_only"] == np.sum(fine & ~coarse)
    assert (out / "folds-lfw-view1.png").is_file()
