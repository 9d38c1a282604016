import json

from fverify.train.experiment import BenchmarkSize, run_experiment

SMALL = ["data.synth_identities=4", "data.synth_images_per_identity=4", "optim.batch_size=8",
         "optim.epochs=1", "engine.device=cpu", "data.workers=0", "model.embedding_dim=16"]


def test_small_experiment_writes_the_paired_table(tmp_path):
    size = BenchmarkSize(lfw_pairs_per_fold=2, lfw_people_per_fold=4, ytf_pairs_per_split=1,
                         ytf_people_per_split=3, ytf_max_frames=4)
    document = run_experiment(tmp_path / "x", SMALL, size=size, report=lambda line: None)
    rows = document["comparisons"]
    assert [(r["protocol"], r["hm"], r["base"]) for r in rows] == [
        ("lfw", "synth-hm-ce", "synth-ce"), ("lfw", "synth-hm-arcface", "synth-arcface"),
        ("ytf", "synth-hm-ce", "synth-ce"), ("ytf", "synth-hm-arcface", "synth-arcface")]
    for row in rows:
        hm = json.loads((tmp_path / "x" / "eval" / f"{row['protocol']}-{row['hm']}" / "result.json").read_text())
        base = json.loads((tmp_path / "x" / "eval" / f"{row['protocol']}-{row['base']}" / "result.json").read_text())
        assert row["accuracy_diff"] == hm["metrics"]["accuracy"]["mean"] - base["metrics"]["accuracy"]["mean"]
        assert row["num_pairs"] == (40 if row["protocol"] == "lfw" else 20)
        assert hm["model"]["training"]["base_recipe"] == row["base"]
        assert 0 <= row["mcnemar_p"] <= 1
    # identical seeds: the HM run and its base start from the same weights
    assert document["training_seeds"] == [[0, 0]]
    table = (tmp_path / "x" / "table.md").read_text()
    assert table.count("\n") == 6 and "synth-hm-arcface vs synth-arcface" in table
