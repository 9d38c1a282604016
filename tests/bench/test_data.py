import numpy as np

from fverify.bench.data import run, summary


def test_small_run_measures_every_path_on_identical_samples():
    figures = run(images=6, batch_size=4, workers=(0,), rounds=1)
    assert figures["identical"] and figures["images"] == 6
    names = {"decode only", "recordio, 1 process", "folder, 1 process",
             "recordio, DataLoader 0 workers", "folder, DataLoader 0 workers"}
    assert set(figures["images_per_s"]) == names
    rates, fractions = figures["images_per_s"], figures["fraction_of_decode_only"]
    assert all(rate > 0 for rate in rates.values()) and fractions["decode only"] == 1.0
    assert np.isclose(fractions["folder, 1 process"], rates["folder, 1 process"] / rates["decode only"])
    assert "recordio, 1 process" in summary(figures) and "identical samples: yes" in summary(figures)
