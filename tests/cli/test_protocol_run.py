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
    assert "fold rule  one fold per header block (pairs.txt: 2 blocks of 20 pairs)" in out
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
    assert "fold rule  the split column of the file (splits 1..k)" in out
    assert main(args + ["--aggregation", "first_k"]) == 2
    assert "needs k >= 1" in capsys.readouterr().err


def test_pairs_validate(lfw_dir, tmp_path, capsys):
    images = sorted(p.relative_to(lfw_dir).as_posix() for p in lfw_dir.rglob("*.jpg"))
    rows = [f"{images[i]},{images[i + 1]},{i % 2},{i % 4 // 2}" for i in range(8)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    assert main(["pairs", "--data", str(lfw_dir), "--pairs-csv", str(tmp_path / "p.csv"), "--validate"]) == 0
    out = capsys.readouterr().out
    assert "pairs      8  (4 same, 4 different)" in out and "fold rule  the fold column of the file\n" in out


def test_pairs_outside_data_need_the_flag_for_pairs_and_bin_pack(lfw_dir, tmp_path, capsys):
    """The CSV sits beside a copy of the LFW tree and names its images as ../lfw/...: refused
    from a sibling --data, read with --allow-outside-data (by `pairs` and `bin pack --from pairs`)."""
    images = sorted(p.relative_to(lfw_dir).as_posix() for p in lfw_dir.rglob("*.jpg"))
    rows = [f"../{lfw_dir.name}/{images[i]},{images[i + 1]},{i % 2}" for i in range(20)]
    csv = tmp_path / "p.csv"
    csv.write_text("\n".join(rows) + "\n")
    args = ["--data", str(lfw_dir), "--pairs-csv", str(csv)]
    assert main(["pairs", *args, "--validate"]) == 2
    err = capsys.readouterr().err
    assert f"p.csv:1: image path '../{lfw_dir.name}/{images[0]}' must be relative to --data and stay inside it" in err
    assert "--allow-outside-data" in err
    assert main(["pairs", *args, "--validate", "--allow-outside-data"]) == 0
    assert "pairs      20  (10 same, 10 different)" in capsys.readouterr().out
    out_bin = tmp_path / "p.bin"
    assert main(["bin", "pack", "--from", "pairs", *args, str(out_bin)]) == 2
    assert "must be relative to --data and stay inside it" in capsys.readouterr().err
    assert not out_bin.exists()
    assert main(["bin", "pack", "--from", "pairs", *args, "--allow-outside-data", str(out_bin)]) == 0
    assert f"wrote {out_bin}: 20 pairs, 40 images" in capsys.readouterr().out


def test_exit_status_of_a_real_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fverify", "lfw", "--data", str(tmp_path), "--validate"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "none of the first 50 listed images exists" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("rows, message, advice", [
    (["{0},{1},1,1", "{1},{2},0,1", "{2},{3},1,1", "{3},{0},0,1"],
     "all 4 pairs are in one fold", "fix the fold column, or drop it"),
    (["{0},{1},1", "{1},{2},0"], "found 1 and 1", "add a fold column, or list more pairs"),
])
def test_pairs_that_cannot_make_two_folds_fail_validation(lfw_dir, tmp_path, capsys, rows, message, advice):
    images = sorted(p.relative_to(lfw_dir).as_posix() for p in lfw_dir.rglob("*.jpg"))[:4]
    (tmp_path / "p.csv").write_text("\n".join(row.format(*images) for row in rows) + "\n")
    assert main(["pairs", "--data", str(lfw_dir), "--pairs-csv", str(tmp_path / "p.csv"), "--validate"]) == 2
    err = capsys.readouterr().err
    assert message in err and advice in err


def test_a_one_fold_lfw_pairs_file_fails_validation(lfw_dir, tmp_path, capsys):
    lines = (lfw_dir / "pairs.txt").read_text().splitlines()
    matched, mismatched = lines[1], lines[11]  # fold 1's first matched and mismatched pairs
    (tmp_path / "pairs.txt").write_text(f"1\t1\n{matched}\n{mismatched}\n")
    assert main(["lfw", "--data", str(lfw_dir), "--pairs", str(tmp_path / "pairs.txt"), "--validate"]) == 2
    err = capsys.readouterr().err
    assert "all 2 pairs are in one fold" in err and "View 2's is '10\\t300'" in err
