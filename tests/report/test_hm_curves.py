"""The hard-mining curves against the formulas, worked out independently here in float64."""
import math

import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.report.hm_curves import (HMSetting, angle_curves, batch_weights, crossing_likelihood,
                                      hm_settings, likelihood_curves, probe_losses)

C = 10_575


def hm_by_hand(loss, alpha=1.5, beta=1.1, A=35.0, B=0.75, form="eq2"):
    """Paper Eq. 2 (eq2) and Algorithm 1 (alg1: beta L instead of L), numpy float64."""
    base = beta * loss if form == "alg1" else loss
    return alpha * base / (1.0 + np.exp(-A * (beta * loss - B)))


def crossing_by_hand(alpha=1.5, beta=1.1, A=35.0, B=0.75, form="eq2"):
    """HM = CE <=> gain * sigmoid(A (beta L - B)) = 1 <=> A (beta L - B) = -ln(gain - 1)."""
    gain = alpha * beta if form == "alg1" else alpha
    loss = (B - math.log(gain - 1.0) / A) / beta
    return math.exp(-loss)


def test_settings_are_every_combination_forms_slowest():
    settings = hm_settings(A=(35.0, 10.0), form=("eq2", "alg1"))
    assert [(s.form, s.A) for s in settings] == [("eq2", 35.0), ("eq2", 10.0),
                                                 ("alg1", 35.0), ("alg1", 10.0)]
    assert settings[0].name == "eq2_alpha1.5_beta1.1_A35_B0.75"


def test_too_many_or_repeated_or_invalid_settings_are_refused():
    with pytest.raises(FverifyError, match="7 hard-mining settings"):
        hm_settings(A=tuple(range(1, 8)))
    with pytest.raises(FverifyError, match="twice"):
        hm_settings(B=(0.75, 0.75))
    with pytest.raises(FverifyError, match="alpha must be positive"):
        hm_settings(alpha=(-1.0,))


def test_likelihood_curves_follow_the_formula():
    settings = hm_settings(A=(35.0, 10.0), B=(0.75, 1.5), form=("eq2",)) + hm_settings(form=("alg1",))
    curves = likelihood_curves(settings, points=99)
    np.testing.assert_allclose(curves.p, np.arange(1, 100) / 100, rtol=0, atol=1e-15)
    np.testing.assert_allclose(curves.cross_entropy, -np.log(curves.p), rtol=1e-14, atol=0)
    for setting, values in curves.hard_mining.items():
        np.testing.assert_allclose(values, hm_by_hand(-np.log(curves.p), **setting.kwargs()),
                                   rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("form", ["eq2", "alg1"])
def test_crossing_point_against_the_hand_value(form):
    assert crossing_likelihood(HMSetting(form=form)) == pytest.approx(crossing_by_hand(form=form),
                                                                      abs=1e-10)
    other = HMSetting(alpha=2.0, beta=1.0, A=5.0, B=2.0, form=form)
    assert crossing_likelihood(other) == pytest.approx(
        crossing_by_hand(alpha=2.0, beta=1.0, A=5.0, B=2.0, form=form), abs=1e-10)


def test_paper_defaults_cross_just_below_one_half():
    # (0.75 + ln 2 / 35) / 1.1 = 0.69982 nats, p = 0.49667: worked out on paper.
    crossing = likelihood_curves([HMSetting()]).crossings[HMSetting()]
    assert crossing.p == pytest.approx(0.49667, abs=5e-6)
    assert crossing.loss == pytest.approx(0.69982, abs=5e-6)


def test_no_crossing_when_hm_stays_below_cross_entropy():
    # alpha < 1: w(L) < 1 for every loss.
    assert crossing_likelihood(HMSetting(alpha=0.9)) is None
    assert likelihood_curves([HMSetting(alpha=0.9)]).crossings[HMSetting(alpha=0.9)] is None


def test_margin_heads_against_the_angle_by_hand():
    curves = angle_curves(["softmax", "arcface", "cosface", "sphereface"], [HMSetting()],
                          step_deg=1.0)
    theta = np.deg2rad(curves.angle_deg)
    assert curves.angle_deg[[0, 60, -1]].tolist() == [0.0, 60.0, 180.0]
    # Every negative at cos 0, so CE = log(1 + (C - 1) exp(-target logit)). The head computes
    # log-sum-exp minus the target logit (|logit| <= 64): absolute error ~1e-14, hence atol. At
    # 0 and 180 degrees the heads clamp cos to 1 - 1e-6: compared inside (0, 180).
    expected = {
        "softmax": 64 * np.cos(theta),                      # ||x|| = 64, unit weights, no bias
        "cosface": 64 * (np.cos(theta) - 0.35),
        "arcface": np.where(theta + 0.5 <= math.pi, 64 * np.cos(theta + 0.5),
                            64 * (np.cos(theta) - 0.5 * math.sin(0.5))),
    }
    for head, target_logit in expected.items():
        np.testing.assert_allclose(curves.losses[head][1:-1],
                                   np.log1p((C - 1) * np.exp(-target_logit))[1:-1],
                                   rtol=1e-9, atol=1e-12, err_msg=head)
    # SphereFace at lambda_min = 5, m = 4, at 60 degrees: psi = -cos(240 deg) - 2 = -1.5, target
    # cos (5 cos 60 + psi) / 6 = 1/6, logit 64 / 6.
    assert curves.losses["sphereface"][60] == pytest.approx(math.log1p((C - 1) * math.exp(-64 / 6)),
                                                            rel=1e-9)
    for head, losses in curves.losses.items():
        np.testing.assert_allclose(curves.hard_mining[head, HMSetting()], hm_by_hand(losses),
                                   rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(curves.factors[head, HMSetting()] * losses, hm_by_hand(losses),
                                   rtol=1e-12, atol=1e-300)


def test_batch_and_sample_reductions_by_hand():
    angles = np.array([30.0, 50.0, 55.0, 70.0, 90.0])
    settings = [HMSetting(), HMSetting(form="alg1")]
    batch = batch_weights("arcface", settings, angles)
    theta = np.deg2rad(angles)
    losses = np.log1p((C - 1) * np.exp(-64 * np.cos(theta + 0.5)))
    np.testing.assert_allclose(batch.base_losses, losses, rtol=1e-9, atol=1e-12)
    for setting in settings:
        gain = 1.5 * 1.1 if setting.form == "alg1" else 1.5
        np.testing.assert_allclose(batch.sample[setting],
                                   gain / (1 + np.exp(-35 * (1.1 * batch.base_losses - 0.75))), rtol=1e-10)
        assert batch.batch[setting] == pytest.approx(
            gain / (1 + math.exp(-35 * (1.1 * losses.mean() - 0.75))), rel=1e-12)
    # The point of the figure: samples at 30 and 50 degrees are mined away per sample, not per batch.
    assert batch.sample[HMSetting()][:2].max() < 1e-3 and batch.batch[HMSetting()] > 1.49


def test_unknown_head_is_a_user_error():
    with pytest.raises(FverifyError, match="unknown loss head 'arcfase'"):
        probe_losses("arcfase", np.array([10.0]))
