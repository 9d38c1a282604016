import numpy as np
import pytest

from fverify.bench.precision import FOLDS, PairSet, best_threshold, fold_decisions, make_pairs, run, summary


def brute_force_best(scores, same):
    candidates = np.concatenate([[scores.min() - 1], scores, [scores.max() + 1]])
    return max(int(((scores >= t) == same).sum()) for t in candidates)


@pytest.mark.parametrize("seed", range(20))
def test_best_threshold_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=30), 1)  # ties on purpose
    same = rng.random(30) < 0.5
    threshold, right = best_threshold(scores, same)
    assert right == brute_force_best(scores, same)
    assert int(((scores >= threshold) == same).sum()) == right


def test_pairs_are_balanced_valid_and_foldwise_balanced():
    labels = np.repeat(np.arange(20), 4)
    pairs = make_pairs(labels, 200, seed=3)
    assert pairs.same.sum() == 100
    assert np.array_equal(labels[pairs.first] == labels[pairs.second], pairs.same)
    assert np.all(pairs.first[pairs.same] != pairs.second[pairs.same])
    for fold in range(FOLDS):
        assert pairs.same[pairs.fold == fold].sum() == (pairs.fold == fold).sum() / 2


def test_fold_decisions_use_only_the_other_folds():
    # Fold 0's scores are shifted so its own best cut would differ from the others'.
    same = np.tile([True, False], 10)
    fold = np.repeat(np.arange(FOLDS), 2)
    scores = np.where(same, 1.0, 0.0) + np.where(fold == 0, 5.0, 0.0)
    decisions = fold_decisions(scores, PairSet(np.zeros(20, int), np.zeros(20, int), same, fold))
    assert decisions[fold == 0].all()  # threshold ~0.5 from folds 1-9 calls both fold-0 pairs "same"
    assert np.array_equal(decisions[fold != 0], same[fold != 0])


def test_small_run_reports_consistent_figures():
    figures = run(dtype="bfloat16", arch="mobilefacenet", identities=8, images_per_identity=3, n_pairs=40,
                  progress=False)
    assert figures["pairs"] == 40 and figures["images"] == 24
    assert figures["changed_decisions"] == round((1 - figures["agreement"]) * 40)
    gap = abs(figures["accuracy_float32"] - figures["accuracy_bfloat16"]) * 40
    assert figures["accuracy_gap_pairs"] == round(gap)
    assert 0 < figures["max_score_change"] < 0.05
    assert figures["passed"] == (figures["agreement"] >= 0.999 and figures["accuracy_gap_pairs"] <= 1)
    text = summary(figures)
    assert "same decisions" in text and ("PASS" in text or "FAIL" in text)
