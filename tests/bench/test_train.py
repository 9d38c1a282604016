import pytest

from fverify.bench.train import run, summary
from fverify.models.registry import backbone_spec
from fverify.bench.embed import flops_per_forward


def test_small_run_measures_both_paths_against_the_bound():
    figures = run(arch="tinycnn", batch_size=4, steps=1, images=12, dtypes=("float32",), workers=0, rounds=1)
    assert figures["training_flops_per_image"] == 3 * flops_per_forward(backbone_spec("tinycnn").build(512).eval(),
                                                                       (112, 112))
    entry = figures["dtypes"]["float32"]
    assert entry["compute_bound_images_per_s"] == pytest.approx(
        entry["peak_flops_per_s"] / figures["training_flops_per_image"])
    for data in ("included", "excluded"):
        rate = entry[f"data_{data}_images_per_s"]
        assert rate > 0
        assert entry[f"data_{data}_fraction_of_compute_bound"] == pytest.approx(
            rate / entry["compute_bound_images_per_s"])
    assert "data included" in summary(figures) and "target 60%" in summary(figures)
