"""The report's figures: the DET points against hand-counted rates, and one PNG of each kind
per protocol, sized as recorded."""
import numpy as np
import pytest

from fverify.metrics.roc import roc_curve
from fverify.report.figures import DET_TICK_GAP, DET_TICKS, FIGURES, _spaced, det_points, draw_figures, likelihood_figure
from fverify.report.hm_curves import hm_settings
from fverify.report.runs import load_runs
from fverify.report.statistics import build_statistics


def test_det_points_are_the_roc_points_with_both_rates_strictly_inside_0_and_1():
    # scores 4 3 2 1 with labels 1 0 1 0: cuts accept the top 0..4 -> (FAR, TAR) =
    # (0,0) (0,.5) (.5,.5) (.5,1) (1,1); FRR = 1 - TAR. Only (.5, .5) has both rates in (0, 1).
    roc = roc_curve(np.array([4.0, 3.0, 2.0, 1.0]), np.array([True, False, True, False]))
    far, frr = det_points(roc)
    assert far.tolist() == [0.5] and frr.tolist() == [0.5]


def test_det_points_keep_every_interior_operating_point():
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2 == 0
    scores = rng.normal(size=40) + labels
    roc = roc_curve(scores, labels)
    far, frr = det_points(roc)
    # recount each operating point from the scores themselves
    for rate_far, rate_frr, threshold in zip(roc.fpr, 1 - roc.tpr, roc.thresholds):
        inside = 0 < rate_far < 1 and 0 < rate_frr < 1
        assert inside == bool(np.any((far == rate_far) & (frr == rate_frr)))
    accepted = scores[None, :] > roc.thresholds[:, None]
    assert np.array_equal(roc.fpr, accepted[:, ~labels].mean(axis=1))


def test_det_ticks_are_thinned_where_the_probit_scale_packs_them():
    from scipy.stats import norm

    ticks = [t for t in DET_TICKS if 1 / 3000 <= t <= 0.99]
    kept = _spaced(ticks, norm.ppf)
    gaps = np.diff(norm.ppf(kept))
    assert gaps.min() >= DET_TICK_GAP and 0.5 in kept
    # 0.05% and 0.1% (0.21 apart) cannot both be labelled; 1%, 10%, 90%, 99% stay
    assert not {5e-4, 1e-3} <= set(kept) and {0.01, 0.1, 0.9, 0.99} <= set(kept)


def test_one_figure_of_each_kind_per_protocol(report_runs):
    statistics = build_statistics(load_runs([str(report_runs[name]) for name in ("lfw-coarse", "ytf-fine")]))
    figures = draw_figures(statistics)
    assert [f.name for f in figures] == [f"{kind}-{protocol}.png" for protocol in ("lfw", "ytf") for kind in FIGURES]
    for figure in figures:
        assert figure.png[:8] == b"\x89PNG\r\n\x1a\n" and len(figure.png) < 150_000
        assert (figure.width, figure.height) == (int.from_bytes(figure.png[16:20], "big"),
                                                 int.from_bytes(figure.png[20:24], "big"))
        assert figure.caption.startswith(figure.title)
    assert "1/15 negative pairs" in figures[0].caption  # ROC drawn down to 1/n_negatives


@pytest.mark.parametrize("protocol, expected", [("lfw", "lfw"), ("cfp fp.bin", "cfp-fp.bin"), ("../x", "x")])
def test_figure_file_names_are_safe(protocol, expected):
    from fverify.report.figures import _slug

    assert _slug(protocol) == expected


def test_likelihood_figure_is_fig1_for_the_given_settings():
    figure = likelihood_figure(hm_settings(form=("eq2", "alg1")))
    assert figure.name == "hm-curve.png" and figure.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert (figure.width, figure.height) == (640, 480)  # 6.4 x 4.8 inches at the report's 100 dpi
    assert "Fig. 1" in figure.caption
