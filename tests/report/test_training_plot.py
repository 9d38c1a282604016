import matplotlib
import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.report.train_metrics import read_train_metrics
from fverify.report.training_plot import (draw_hard_fraction, draw_hm_weight, draw_loss,
                                          draw_p_y_ridgeline, draw_validation, plot_training,
                                          read_runs, run_labels)
from tests.report.metrics_file import epoch, example_run, interval, start, write

matplotlib.use("Agg")


@pytest.fixture
def runs(tmp_path):
    example_run(tmp_path / "base", "arcface", epochs=3, steps_per_epoch=10)
    example_run(tmp_path / "hm", "hm-arcface", epochs=3, steps_per_epoch=10, active=True, seed=1)
    return read_runs([tmp_path / "base", tmp_path / "hm" / "metrics.jsonl"])


def test_loss_lines_are_the_logged_values(axes, runs):
    assert list(runs) == ["arcface", "hm-arcface"]
    assert draw_loss(axes, runs)
    lines = axes.get_lines()
    assert len(lines) == 4  # loss and base loss per run
    hm = runs["hm-arcface"]
    np.testing.assert_array_equal(lines[2].get_xdata(), [r.step for r in hm.intervals])
    np.testing.assert_array_equal(lines[2].get_ydata(), [r.loss for r in hm.intervals])
    np.testing.assert_array_equal(lines[3].get_ydata(), [r.base_loss for r in hm.intervals])
    assert lines[3].get_linestyle() == "--"
    losses = [r.loss for m in runs.values() for r in m.intervals]
    assert max(losses) < 10 * min(losses) and axes.get_yscale() == "linear"  # within a decade


def test_validation_is_in_percent_with_standard_errors(axes, runs):
    assert draw_validation(axes, runs)
    base = runs["arcface"]
    line, _, (bars,) = axes.containers[0].lines  # the first run's line, caps, error bars
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float),
                               [100 * e.validation.accuracy for e in base.epochs])
    bars = bars.get_segments()
    np.testing.assert_allclose([seg[1, 1] - seg[0, 1] for seg in bars],
                               [200 * e.validation.se for e in base.epochs])


def test_hard_mining_curves_split_active_from_logged_only(axes, runs):
    assert draw_hard_fraction(axes, runs)
    base_active, base_logged, hm_active, hm_logged = axes.get_lines()
    expected = [100 * e.hard_mining.hard_fraction for e in runs["arcface"].epochs]
    assert np.isnan(base_active.get_ydata()).all()
    np.testing.assert_allclose(base_logged.get_ydata(), expected)
    assert base_logged.get_linestyle() == "--" and base_logged.get_label() == "arcface"
    np.testing.assert_allclose(hm_active.get_ydata(),
                               [100 * e.hard_mining.hard_fraction for e in runs["hm-arcface"].epochs])
    axes.clear()
    assert draw_hm_weight(axes, runs)
    np.testing.assert_allclose(axes.get_lines()[1].get_ydata(),
                               [e.hard_mining.weight_mean for e in runs["arcface"].epochs])


def test_ridgeline_heights_are_the_shares_of_samples(axes, runs):
    metrics = runs["hm-arcface"]
    assert draw_p_y_ridgeline(axes, "hm-arcface", metrics)
    steps = [p for p in axes.patches if hasattr(p, "get_data")]
    assert len(steps) == len(metrics.epochs)
    heights = [step.get_data().values - step.get_data().baseline for step in steps]
    shares = [e.hard_mining.p_y_histogram / e.hard_mining.num_samples for e in metrics.epochs]
    scale = max(h.max() for h in heights) / max(s.max() for s in shares)
    for height, share in zip(heights, shares):
        np.testing.assert_allclose(height, scale * share, rtol=1e-12)
    # Epoch 1 on top.
    assert [step.get_data().baseline for step in steps] == [2, 1, 0]
    np.testing.assert_array_equal(steps[0].get_data().edges, metrics.epochs[0].hard_mining.bins)


def test_plot_training_writes_every_figure_atomically(tmp_path, runs):
    out = tmp_path / "figures"
    written = plot_training(runs, out)
    assert [p.name for p in written] == ["loss.png", "validation.png", "hard_mining.png", "p_y.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    with pytest.raises(FverifyError, match="not an empty folder"):
        plot_training(runs, out)


def test_a_run_without_validation_or_epochs_gets_only_what_it_has(tmp_path):
    write(tmp_path / "early" / "metrics.jsonl", [start(), interval(10, 1, 3.0), interval(20, 1, 2.0)])
    written = plot_training(read_runs([tmp_path / "early"]), tmp_path / "out")
    assert [p.name for p in written] == ["loss.png"]
    write(tmp_path / "noval" / "metrics.jsonl", [start(), epoch(1, 20, [1] * 20, validation=False)])
    written = plot_training(read_runs([tmp_path / "noval"]), tmp_path / "out2")
    assert [p.name for p in written] == ["loss.png", "hard_mining.png", "p_y.png"]


def test_an_interval_without_a_loss_is_a_gap(axes, tmp_path):
    # null: no image of the interval decoded
    path = write(tmp_path / "metrics.jsonl", [start(), interval(10, 1, 30.0), interval(20, 1, None),
                                              interval(30, 1, None), interval(40, 1, 2.0)])
    assert draw_loss(axes, {"run": read_train_metrics(path)})
    np.testing.assert_array_equal(axes.get_lines()[0].get_ydata(), [30.0, np.nan, np.nan, 2.0])
    assert axes.get_yscale() == "log"  # more than a decade


def test_a_list_of_runs_is_labelled(tmp_path, runs):
    written = plot_training(list(runs.values()), tmp_path / "out")
    assert [p.name for p in written] == ["loss.png", "validation.png", "hard_mining.png", "p_y.png"]


def test_labels_tell_runs_apart(tmp_path):
    for name in ("a", "b"):
        example_run(tmp_path / name, "arcface", epochs=1)
    example_run(tmp_path / "c", "cosface", epochs=1)
    metrics = [read_train_metrics(tmp_path / name) for name in ("a", "b", "c")]
    assert run_labels(metrics) == ["arcface (a)", "arcface (b)", "cosface"]
    with pytest.raises(FverifyError, match="the same run is given twice"):
        read_runs([tmp_path / "a", tmp_path / "a" / "metrics.jsonl"])
