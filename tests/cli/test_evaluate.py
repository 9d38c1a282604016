import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fverify.cli import main
from fverify.metrics.threshold import INSIGHTFACE_THRESHOLDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "reports" / "example"


def test_readme_quick_start_runs_on_the_bundled_example(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["evaluate", "reports/example/lfw-scores.csv"]) == 0
    out = capsys.readouterr().out
    assert "6000 pairs (3000 same, 3000 different), 10 folds (the fold column of the file)" in out
    assert "standard error std(ddof=1)/sqrt(k)" in out and "ddof=0 (what insightface prints)" in out
    assert re.search(r"accuracy  \d+\.\d{3}% ± \d\.\d{3}%", out)
    assert len(re.findall(r"^\s+\d\s+[-\d.e]+\s+\d+\.\d{3}%\s+\d+\.\d{3}%$", out, re.M)) == 10
    assert "AUC" in out and "EER" in out
    assert "TAR@FAR=1e-4  unresolvable (n_neg=3000)" in out and "TAR@FAR=1e-3  9" in out


def test_example_files_are_what_their_recipe_makes(monkeypatch, tmp_path):
    snippet = re.search(r"```python\n(.*?)```", (EXAMPLE / "README.md").read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "reports/example/README.md", "exec"), {"__name__": "recipe"})
    for name in ("lfw-scores.csv", "lfw-scores-b.csv"):
        assert (tmp_path / "reports" / "example" / name).read_bytes() == (EXAMPLE / name).read_bytes()


def test_json_run_result(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["evaluate", str(EXAMPLE / "lfw-scores.csv"), "--threshold", "grid", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["schema"] == "fverify.run/1" and result["threshold_method"] == "grid"
    assert result["protocol"]["name"] == "scores-csv" and len(result["protocol"]["md5"]) == 32
    assert result["model"] == {"path": None, "sha256": None, "training": None}
    grid = INSIGHTFACE_THRESHOLDS.tolist()
    assert all(fold["threshold"] in grid for fold in result["metrics"]["accuracy"]["folds"])
    assert f"wrote {out}" in capsys.readouterr().out


def test_compare_prints_and_writes_the_comparison(tmp_path, capsys):
    out = tmp_path / "cmp.json"
    a, b = str(EXAMPLE / "lfw-scores.csv"), str(EXAMPLE / "lfw-scores-b.csv")
    assert main(["evaluate", a, "--compare", b, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paired comparison" in printed and "McNemar exact" in printed and "bootstrap 95% CI" in printed
    document = json.loads(out.read_text())
    assert document["schema"] == "fverify.compare/1"
    assert document["mcnemar"]["a_only"] == 34 and document["mcnemar"]["b_only"] == 23
    assert document["bootstrap_ci95"][0] < 0 < document["bootstrap_ci95"][1]
    assert "no significant difference" in printed


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "fverify", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize(
    "text, message",
    [
        ("score,label,fold\n0.5,1,0\n0.4,x,0\n", "bad.csv:3: label 'x' is not 0 or 1"),
        ("score,fold\n0.5,0\n", "bad.csv:1: missing column 'label'"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    result = run_cli("evaluate", str(tmp_path / "bad.csv"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_compare_of_different_pairs_exits_2(tmp_path):
    lines = (EXAMPLE / "lfw-scores-b.csv").read_text().splitlines()
    (tmp_path / "short.csv").write_text("\n".join(lines[:-1]) + "\n")
    result = run_cli("evaluate", str(EXAMPLE / "lfw-scores.csv"), "--compare", str(tmp_path / "short.csv"))
    assert result.returncode == 2 and "5999 pairs, but" in result.stderr and "Traceback" not in result.stderr


def test_evaluate_never_imports_torch():
    code = (
        "import sys; from fverify.cli import main; "
        "main(['evaluate', 'reports/example/lfw-scores.csv', '--compare', 'reports/example/lfw-scores-b.csv']); "
        "print(sorted(m for m in ('torch', 'sklearn', 'pandas', 'cv2') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_extreme_finite_scores_give_finite_thresholds_in_the_json(tmp_path):
    # Positives score low here, so each fold's best training cut calls every pair same (3 of 4
    # right): its threshold is the float just below the lowest training score, -1.797e308 for
    # fold 1. (The lowest float itself is refused when read: nothing lies below it.)
    body = "-1.797e308,1,0\n0.1,1,0\n0.2,1,0\n1.797e308,0,0\n0.1,1,1\n0.2,1,1\n0.3,1,1\n0.9,0,1\n"
    (tmp_path / "extreme.csv").write_text("score,label,fold\n" + body)
    out = tmp_path / "run.json"
    assert main(["evaluate", str(tmp_path / "extreme.csv"), "--json", str(out)]) == 0
    folds = json.loads(out.read_text())["metrics"]["accuracy"]["folds"]
    assert [fold["threshold"] for fold in folds] == [np.nextafter(0.1, -np.inf), np.nextafter(-1.797e308, -np.inf)]
    assert [fold["accuracy"] for fold in folds] == [0.5, 0.75]
