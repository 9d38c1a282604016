import numpy as np
import torch
from torch import nn

from fverify.bench.embed import flops_per_forward, naive_embeddings, peak_flops_per_second, run, summary
from fverify.data.synth import write_lfw_images
from fverify.models.iresnet import iresnet18
from fverify.models.mobilefacenet import mobilefacenet
from fverify.models.preprocessing import Preprocessing


def iresnet18_flops():
    """2 x multiply-adds of every convolution and the FC layer, written out by hand."""
    total = 2 * 3 * 64 * 9 * 112 * 112  # stem
    in_channels, size = 64, 112
    for planes in (64, 128, 256, 512):
        out = size // 2
        total += 2 * in_channels * planes * 9 * size * size  # unit 0 conv1, stride 1
        total += 2 * planes * planes * 9 * out * out  # unit 0 conv2, stride 2
        total += 2 * in_channels * planes * out * out  # 1x1 downsample, stride 2
        total += 2 * (2 * planes * planes * 9 * out * out)  # unit 1, two convs
        in_channels, size = planes, out
    return total + 2 * 512 * 7 * 7 * 512  # fc


def hooked_flops(model, input_size):
    """2 x multiply-adds of each Conv2d (per output element: in/groups x kernel) and Linear,
    read off the layers as they run."""
    total = []

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total.append(2 * output.numel() * module.in_channels // module.groups * kernel)
        else:
            total.append(2 * module.in_features * module.out_features)

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, *input_size))
    for hook in hooks:
        hook.remove()
    return sum(total)


def test_flop_count_matches_the_hand_count():
    assert flops_per_forward(iresnet18().eval(), (112, 112)) == iresnet18_flops()


def test_peak_is_a_plausible_positive_rate():
    assert 1e8 < peak_flops_per_second("float32", repeats=1) < 1e14


def test_naive_loop_embeds_face_plus_mirror(tmp_path):
    images = write_lfw_images(tmp_path / "faces", 2)
    backbone = iresnet18(8).eval()
    rows = naive_embeddings(backbone, [images.root / p for p in images.relative_paths], Preprocessing())
    assert rows.shape == (2, 8) and np.isfinite(rows).all()


def test_small_run_measures_every_path_and_agrees_with_the_naive_loop():
    figures = run(images=8, naive_images=2, arch="mobilefacenet", batch_size=4, dtypes=("float32",), rounds=1)
    entry = figures["pipeline"]["float32"]
    assert figures["images"] == 8 and figures["naive_images_per_s"] > 0
    assert entry["images_per_s"] > 0 and entry["compute_bound_images_per_s"] > 0
    # The compute-bound rate divides by the work of a face and its mirror, counted here by
    # hooks on every convolution and linear layer instead of torch's FLOP counter.
    assert figures["flops_per_image"] == 2 * hooked_flops(mobilefacenet().eval(), (112, 112))
    assert entry["min_cosine_vs_naive"] > 0.9999  # same model, same preprocessing, same flip
    assert "pipeline float32" in summary(figures)
