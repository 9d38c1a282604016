import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from fverify.bench.embed import flops_per_forward
from fverify.bench.train import run, summary
from fverify.data.synth import write_lfw_images
from fverify.errors import FverifyError
from fverify.models.iresnet import iresnet18
from fverify.models.registry import backbone_spec


def test_small_run_measures_both_paths_against_the_bound():
    figures = run(arch="tinycnn", batch_size=4, steps=2, images=12, dtypes=("float32",), workers=0, rounds=2)
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
    assert figures["cpu_count"] >= 1 and all(load >= 0 for load in figures["load_average"])
    assert "load average" in summary(figures)


def test_the_data_path_gets_an_epoch_long_enough_for_its_steady_state(monkeypatch):
    # one worker keeps 4 batches ahead: 1 batch before the clock + 2 timed + 4 = 7 batches of 4
    import fverify.bench.train as bench

    asked = []
    monkeypatch.setattr(bench, "write_lfw_images",
                        lambda folder, count, seed: asked.append(count) or write_lfw_images(folder, count, seed=seed))
    figures = run(arch="tinycnn", batch_size=4, steps=2, dtypes=("float32",), workers=1, rounds=1)
    assert asked == [28] and figures["images"] >= 28  # the synthetic tree may hold a few more
    with pytest.raises(FverifyError, match="--images 27 is too few.*7 batches of 4"):
        run(arch="tinycnn", batch_size=4, steps=2, images=27, dtypes=("float32",), workers=1, rounds=1)


def test_three_forwards_is_what_a_training_step_of_iresnet18_computes():
    # torch's FLOP counter over a real forward + backward (on the meta device: shapes only)
    # counts each convolution's and linear layer's input and weight gradients: two more
    # forwards, less the stem's input gradient, which autograd does not compute.
    stem = 2 * 3 * 64 * 9 * 112 * 112
    with torch.device("meta"):
        backbone = iresnet18().train()
        with FlopCounterMode(display=False) as counter:
            backbone(torch.zeros(2, 3, 112, 112)).sum().backward()
    per_image = counter.get_total_flops() / 2
    assert per_image == 3 * flops_per_forward(iresnet18().eval(), (112, 112)) - stem
