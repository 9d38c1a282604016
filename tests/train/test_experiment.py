import json

import pytest

from fverify.errors import FverifyError
from fverify.train.config import load_config
from fverify.train.experiment import BenchmarkSize, check_pair, run_experiment, synthetic_hm

SMALL = ["data.synth_identities=4", "data.synth_images_per_identity=4", "optim.batch_size=8",
         "optim.epochs=1", "engine.device=cpu", "data.workers=0", "model.embedding_dim=16",
         "engine.progress=false"]
TINY_BENCHMARKS = BenchmarkSize(lfw_pairs_per_fold=2, lfw_people_per_fold=4, ytf_pairs_per_split=1,
                                ytf_people_per_split=3, ytf_max_frames=4)


def test_the_synthetic_hm_experiment_is_an_fverify_report_with_holm(tmp_path):
    done = synthetic_hm(tmp_path / "x", SMALL, size=TINY_BENCHMARKS, cache=tmp_path / "cache",
                        report=lambda line: None)
    statistics = done.report.report.statistics
    assert statistics.rows == ("synth-ce", "synth-hm-ce", "synth-arcface", "synth-hm-arcface")
    assert [(c.a, c.b, c.protocol) for c in statistics.comparisons] == [
        ("synth-hm-ce", "synth-ce", "lfw"), ("synth-hm-ce", "synth-ce", "ytf"),
        ("synth-hm-arcface", "synth-arcface", "lfw"), ("synth-hm-arcface", "synth-arcface", "ytf")]
    for comparison in statistics.comparisons:
        runs = [json.loads((tmp_path / "x" / "eval" / f"{comparison.protocol}-{name}" / "result.json").read_text())
                for name in (comparison.a, comparison.b)]
        assert comparison.paired.accuracy_diff == pytest.approx(
            runs[0]["metrics"]["accuracy"]["mean"] - runs[1]["metrics"]["accuracy"]["mean"], abs=1e-12)
        assert runs[0]["metrics"]["num_pairs"] == (40 if comparison.protocol == "lfw" else 20)
        # Holm over 4 comparisons: each adjusted p is at least its own p, at most 4 times it
        assert comparison.paired.p_value <= comparison.p_holm <= min(1.0, 4 * comparison.paired.p_value) + 1e-12
    markdown = (tmp_path / "x" / "report" / "report.md").read_text()
    assert "Holm" in markdown and "hm-curve.png" in markdown and "training-loss.png" in markdown
    # identical seeds, and every run trained on the one cached rendering of the identities
    configs = [load_config(str(tmp_path / "x" / "runs" / name / "config.toml")) for name in statistics.rows]
    assert {(c.engine.seed, c.data.synth_seed, c.data.kind, c.data.path) for c in configs} == {
        (0, 0, "folder", done.document["data"]["train:synth-ce"])}
    assert done.document["complete"] and done.document["benchmark_seed"] == 1000


def test_a_run_that_stops_early_fails_the_experiment_clearly(tmp_path):
    with pytest.raises(FverifyError, match="training synth-ce stopped .engine.stop_after_steps. at epoch 1, step 1"):
        synthetic_hm(tmp_path / "x", [*SMALL, "engine.stop_after_steps=1"], size=TINY_BENCHMARKS,
                     cache=tmp_path / "cache", report=lambda line: None)
    assert not json.loads((tmp_path / "x" / "experiment.json").read_text())["complete"]


def test_a_pair_that_differs_in_more_than_hard_mining_is_refused(tmp_path):
    hm, base = load_config("synth-hm-ce", SMALL), load_config("synth-ce", [*SMALL, "optim.lr=0.5"])
    with pytest.raises(FverifyError, match="differ in optim.lr"):
        check_pair(hm, base)
    with pytest.raises(FverifyError, match="differ in optim.lr"):
        run_experiment([(hm, base)], tmp_path / "x", size=TINY_BENCHMARKS, made_by="test")
    assert not (tmp_path / "x").exists()
    with pytest.raises(FverifyError, match="the first must train with hard mining"):
        check_pair(base, hm)
