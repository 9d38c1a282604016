import csv

import matplotlib
import numpy as np
import pytest

from fverify.report.hm_curve_plot import (draw_angle_factors, draw_angle_losses, draw_batch_factors,
                                          draw_likelihood, write_csv, write_figure)
from fverify.report.hm_curves import (HMSetting, angle_curves, batch_weights, likelihood_curves)

matplotlib.use("Agg")


def test_likelihood_figure_draws_the_curves_and_marks_the_crossing(axes):
    settings = [HMSetting(), HMSetting(form="alg1")]
    curves = likelihood_curves(settings, points=49)
    draw_likelihood(axes, curves)
    lines = {line.get_label(): line for line in axes.get_lines()}
    ce = lines["cross-entropy  −log p"]
    np.testing.assert_array_equal(ce.get_xdata(), curves.p)
    np.testing.assert_allclose(ce.get_ydata(), -np.log(curves.p), rtol=1e-14)
    for setting in settings:
        np.testing.assert_array_equal(lines[setting.label].get_ydata(), curves.hard_mining[setting])
    markers = [line for label, line in lines.items() if "crossing" in label]
    assert [float(m.get_xdata()[0]) for m in markers] == [curves.crossings[s].p for s in settings]
    # The marker sits on the cross-entropy curve.
    assert float(markers[0].get_ydata()[0]) == pytest.approx(-np.log(curves.crossings[settings[0]].p))


def test_angle_and_batch_figures_plot_the_computed_values(axes):
    curves = angle_curves(["arcface", "cosface"], [HMSetting()], step_deg=10.0)
    draw_angle_losses(axes, curves)
    ys = [line.get_ydata() for line in axes.get_lines()]
    assert len(ys) == 4  # each head, then its HM version
    np.testing.assert_array_equal(ys[2], curves.losses["cosface"])
    np.testing.assert_array_equal(ys[3], curves.hard_mining["cosface", HMSetting()])
    axes.clear()
    draw_angle_factors(axes, curves)
    np.testing.assert_array_equal(axes.get_lines()[0].get_ydata(), curves.factors["arcface", HMSetting()])
    assert axes.get_xlim() == (0.0, 180.0)
    axes.clear()
    batch = batch_weights("arcface", [HMSetting()], np.array([40.0, 60.0, 80.0]))
    draw_batch_factors(axes, batch)
    per_sample, whole_batch = axes.get_lines()
    np.testing.assert_array_equal(per_sample.get_ydata(), batch.sample[HMSetting()])
    assert set(whole_batch.get_ydata()) == {batch.batch[HMSetting()]}


def test_figure_and_csv_are_written_atomically(tmp_path):
    write_figure(tmp_path / "f.png", lambda axes: axes[1].plot([0, 1]), panels=2)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    values = np.array([0.1, 1 / 3])
    write_csv(tmp_path / "v.csv", {"p": values, "loss": -np.log(values)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "v.csv"]
    rows = list(csv.reader((tmp_path / "v.csv").open()))
    assert rows[0] == ["p", "loss"]
    assert [float(x) for x in rows[2]] == [1 / 3, -np.log(1 / 3)]  # full precision
