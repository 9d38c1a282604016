"""``fverify lfw|ytf|pairs --validate`` and the shared run path, called in-process."""
import subprocess
import sys

import pytest

from fverify.cli import main


@pytest.fixture(scope="module")
def lfw_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "lfw"
    assert main(["synth", "lfw", str(out), "--folds", "2", "--pairs-per-fold", "10",
                 "--people-per-fold", "8", "--seed", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def ytf_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "ytf"
    assert main(["synth", "ytf", str(out), "--splits", "2", "--pairs-per-split", "3",
                 "--people-per-split", "4", "--max-frames", "5"]) == 0
    return out


def test_lfw_validate_prints_counts_and_warns_about_a_non_official_list(lfw_dir, capsys):
    assert main(["lfw", "--data", str(lfw_dir), "--pairs", str(lfw_dir / "pairs.txt"), "--validate"]) == 0
    out, err = capsys.readouterr()
    assert "pairs      40  (20 same, 20 different)" in out
    assert "folds      2  (each 10 same + 10 different)" in out
    assert "missing    0" in out and "protocol   lfw" in out
    assert "warning:" in err and "differs from the official lfw/pairs.txt" in err


def test_missing_image_fails_validation_with_the_list(lfw_dir, tmp_path, capsys):
    import shutil
    copy = tmp_path / "lfw"
    shutil.copytree(lfw_dir, copy)
    name, number, _ = (copy / "pairs.txt").read_text().splitlines()[1].split("\t")
    victim = copy / name / f"{name}_{int(number):04d}.jpg"  # the first image of the first pair
    victim.unlink()
    assert main(["lfw", "--data", str(copy), "--pairs", str(copy / "pairs.txt"), "--validate"]) == 2
    err = capsys.readouterr().err
    assert "1 of " in err and "images are missing" in err and victim.name in err


def test_without_validate_or_model_a_model_is_asked_for(lfw_dir, capsys):
    assert main(["lfw", "--data", str(lfw_dir), "--pairs", str(lfw_dir / "pairs.txt")]) == 2
    assert "a model is needed to run lfw" in capsys.readouterr().err


def test_ytf_validate_records_the_aggregation_setting(ytf_dir, capsys):
    args = ["ytf", "--data", str(ytf_dir), "--splits", str(ytf_dir / "splits.txt"), "--validate"]
    assert main(args + ["--aggregation", "random_k", "--k", "2", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "items      " in out and " videos" in out and "frames     " in out
    assert "setting    {'aggregation': 'random_k', 'k': 2, 'seed': 4}" in out
    assert main(args + ["--aggregation", "first_k"]) == 2
    assert "needs k >= 1" in capsys.readouterr().err


def test_pairs_validate(lfw_dir, tmp_path, capsys):
    images = sorted(p.relative_to(lfw_dir).as_posix() for p in lfw_dir.rglob("*.jpg"))
    rows = [f"{images[i]},{images[i + 1]},{i % 2},{i % 4 // 2}" for i in range(8)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    assert main(["pairs", "--data", str(lfw_dir), "--pairs-csv", str(tmp_path / "p.csv"), "--validate"]) == 0
    assert "pairs      8  (4 same, 4 different)" in capsys.readouterr().out


def test_exit_status_of_a_real_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fverify", "lfw", "--data", str(tmp_path), "--validate"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "none of the first 50 listed images exists" in result.stderr
    assert "Traceback" not in result.stderr
