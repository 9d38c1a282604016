import csv

import numpy as np
import pytest

from fverify.cli import main


def read_columns(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: np.array([float(row[name]) for row in rows]) for name in rows[0]}


def test_hm_curve_csv_is_the_formula(tmp_path, capsys):
    code = main(["plot", "hm-curve", "--form", "eq2,alg1", "--A", "35,10", "--points", "99",
                 "--out", str(tmp_path / "fig1.png"), "--csv", str(tmp_path / "fig1.csv")])
    assert code == 0
    assert (tmp_path / "fig1.png").read_bytes()[:4] == b"\x89PNG"
    columns = read_columns(tmp_path / "fig1.csv")
    p = columns.pop("p")
    np.testing.assert_allclose(p, np.arange(1, 100) / 100, atol=1e-15)
    loss = -np.log(p)  # float64, by hand
    np.testing.assert_allclose(columns.pop("cross_entropy"), loss, rtol=1e-14)
    assert sorted(columns) == sorted(f"hm_{form}_alpha1.5_beta1.1_A{A}_B0.75"
                                     for form in ("eq2", "alg1") for A in (35, 10))
    for name, values in columns.items():
        A = 35.0 if "_A35_" in name else 10.0
        gain = 1.5 * 1.1 if name.startswith("hm_alg1") else 1.5
        np.testing.assert_allclose(values, gain * loss / (1 + np.exp(-A * (1.1 * loss - 0.75))),
                                   rtol=1e-12, err_msg=name)
    printed = capsys.readouterr().out
    assert "HM eq2 (α=1.5, β=1.1, A=35, B=0.75): crosses cross-entropy at p = 0.496674" in printed


@pytest.mark.parametrize("view, first_column", [("angle", "theta_deg"), ("batch", "sample")])
def test_other_views_write_figure_and_csv(tmp_path, view, first_column):
    assert main(["plot", "hm-curve", "--view", view, "--heads", "arcface", "--step", "15",
                 "--batch-size", "8", "--classes", "100", "--out", str(tmp_path / "f.png"),
                 "--csv", str(tmp_path / "f.csv")]) == 0
    header = (tmp_path / "f.csv").read_text().splitlines()[0].split(",")
    assert header[0] == first_column and len(header) >= 3


def test_bad_settings_are_refused(tmp_path, capsys):
    out = str(tmp_path / "f.png")
    with pytest.raises(SystemExit):
        main(["plot", "hm-curve", "--alpha", "-1", "--out", out])
    assert "above 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["plot", "hm-curve", "--form", "eq3", "--out", out])
    assert main(["plot", "hm-curve", "--view", "batch", "--head", "arcfase", "--out", out]) == 2
    assert "unknown loss head 'arcfase'" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_plot_training_overlays_runs(tmp_path, capsys):
    from tests.report.metrics_file import example_run

    example_run(tmp_path / "base", "arcface", epochs=2)
    example_run(tmp_path / "hm", "hm-arcface", epochs=2, active=True)
    out = tmp_path / "figures"
    assert main(["plot", "training", str(tmp_path / "base"), str(tmp_path / "hm"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: loss.png, validation.png, hard_mining.png, p_y.png" in printed
    assert "hm-arcface: " in printed and "(8 interval and 2 epoch records)" in printed


def test_plot_training_refuses_another_schema_before_writing(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"schema": "fverify.run/1", "kind": "start"}\n')
    assert main(["plot", "training", str(run), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{run / 'metrics.jsonl'}:1: schema 'fverify.run/1', not 'fverify.train-metrics/1'" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
