"""``fverify lfw --view 1``: the fixed DevTrain/DevTest split end to end, on a synthetic LFW."""
import csv
import json

import numpy as np
import pytest

from fverify.cli import main

PIXELS = '''
import numpy as np

def embed(faces):
    small = faces[:, ::8, ::8, :].reshape(len(faces), -1).astype(np.float32)
    return small - small.mean(axis=1, keepdims=True)
'''


@pytest.fixture(scope="module")
def view1(synth_lfw, tmp_path_factory):
    """DevTrain = the first two blocks of the synthetic pairs.txt (3 x (5 + 5) pairs), DevTest =
    the third, each in its official header format; plus a pixel model."""
    folder = tmp_path_factory.mktemp("view1")
    lines = (synth_lfw / "pairs.txt").read_text().splitlines()[1:]
    (folder / "devtrain.txt").write_text("2\t5\n" + "\n".join(lines[:20]) + "\n")
    (folder / "devtest.txt").write_text("5\n" + "\n".join(lines[20:]) + "\n")
    (folder / "pixels.py").write_text(PIXELS)
    return folder


def read_scores(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return (np.array([float(r["score"]) for r in rows]), np.array([r["label"] == "1" for r in rows]),
            np.array([int(r["fold"]) for r in rows]))


def test_view1_fits_on_devtrain_and_reports_devtest(synth_lfw, view1, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["lfw", "--view", "1", "--data", str(synth_lfw), "--pairs", str(view1 / "devtrain.txt"),
                 "--pairs", str(view1 / "devtest.txt"), "--model", f"{view1 / 'pixels.py'}:embed",
                 "--out", str(out), "--no-progress", "--workers", "0"]) == 0
    printed = capsys.readouterr().out
    assert "fold 1 alone, threshold fitted on the other folds" in printed
    result = json.loads((out / "result.json").read_text())
    assert result["protocol"]["name"] == "lfw-view1"
    assert result["protocol"]["folds"] == (
        "fixed split, one fold per file: threshold fitted on fold 0 = devtrain.txt (20 pairs), "
        "every metric reported on fold 1 = devtest.txt (10 pairs) alone")
    metrics = result["metrics"]
    assert metrics["num_pairs"] == 10 and metrics["num_folds"] == 1
    assert metrics["accuracy"]["se"] is None and metrics["accuracy"]["std"] is None
    (fold,) = metrics["accuracy"]["folds"]
    # Independent values from the run's own scores.csv: the threshold makes the best decisions
    # on DevTrain's 20 pairs, and the reported accuracy is DevTest's at that threshold.
    scores, labels, folds = read_scores(out / "scores.csv")
    assert np.bincount(folds).tolist() == [20, 10]
    train = folds == 0
    best = max(np.mean((scores[train] > t) == labels[train]) for t in np.concatenate([[-np.inf], scores[train]]))
    assert fold["fold"] == 1 and fold["train_accuracy"] == pytest.approx(best)
    test = folds == 1
    assert metrics["accuracy"]["mean"] == pytest.approx(np.mean((scores[test] > fold["threshold"]) == labels[test]))

    # fverify evaluate reproduces the numbers from scores.csv with --test-fold 1.
    assert main(["evaluate", str(out / "scores.csv"), "--test-fold", "1", "--json", str(tmp_path / "e.json")]) == 0
    again = json.loads((tmp_path / "e.json").read_text())
    assert again["metrics"] == metrics
    assert main(["evaluate", str(out / "scores.csv"), "--test-fold", "2"]) == 2
    assert "--test-fold 2 is not a fold of this file (its folds are 0..1)" in capsys.readouterr().err
