import json

import pytest

from fverify.cli import main
from fverify.cli.bench import BENCH_TARGETS


def test_bench_targets_are_a_registry():
    assert list(BENCH_TARGETS) == ["eval", "embed", "precision", "images", "data", "train", "align"]


def test_bench_eval_prints_and_saves_the_report(tmp_path, capsys):
    assert main(["bench", "eval", "--pairs", "600", "--repeats", "1", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    saved = (tmp_path / "eval.txt").read_text()
    assert "fverify exact" in saved and saved.strip() in printed
    figures = json.loads((tmp_path / "eval.json").read_text())
    assert figures["sizes"][0]["pairs"] == 600


def test_bench_embed_prints_and_writes_figures(tmp_path, capsys):
    code = main(["bench", "embed", "--images", "4", "--naive-images", "1", "--arch", "mobilefacenet",
                 "--batch-size", "4", "--dtypes", "float32", "--rounds", "1", "--out", str(tmp_path)])
    assert code == 0
    assert "naive loop" in capsys.readouterr().out
    figures = json.loads((tmp_path / "embed.json").read_text())
    assert figures["pipeline"]["float32"]["images_per_s"] > 0


def test_bench_data_prints_and_writes_figures(tmp_path, capsys):
    code = main(["bench", "data", "--images", "3", "--batch-size", "2", "--workers", "0",
                 "--rounds", "1", "--out", str(tmp_path)])
    assert code == 0
    assert "recordio, 1 process" in capsys.readouterr().out
    figures = json.loads((tmp_path / "data.json").read_text())
    assert figures["identical"] and figures["images"] == 3


def test_bench_rejects_unknown_dtypes(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "embed", "--dtypes", "int8"])
    assert "unknown dtypes" in capsys.readouterr().err


def test_bench_align_prints_and_writes_figures(tmp_path, capsys):
    pytest.importorskip("lz4.frame")
    from tests.align.conftest import write_raw_folder

    photos = tmp_path / "photos"
    write_raw_folder(photos, numbers=(1,))
    code = main(["bench", "align", "--photos", str(photos), "--images", "2", "--large", "1",
                 "--batch-size", "2", "--repeats", "1", "--device", "cpu", "--out", str(tmp_path / "out")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 photos in" in printed and "torch" in printed
    figures = json.loads((tmp_path / "out" / "align.json").read_text())
    rates = figures["ms_per_image"]["torch"]
    assert set(rates) == {"lfw_size/batched", "lfw_size/one_at_a_time", "large/batched", "large/one_at_a_time"}
    assert all(ms > 0 for ms in rates.values())
    assert figures["images"] == {"lfw_size": 2, "large": 1}
    if "mtcnn-tf" in figures["skipped"]:
        assert "not installed" in figures["skipped"]["mtcnn-tf"] and "skipped" in printed
