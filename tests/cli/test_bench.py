import json

import pytest

from fverify.cli import main
from fverify.cli.bench import BENCH_TARGETS


def test_bench_targets_are_a_registry():
    assert list(BENCH_TARGETS) == ["eval", "embed", "precision", "images", "data", "train"]


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
