import json

import pytest

from fverify.cli import main


def test_bench_embed_prints_and_writes_json(tmp_path, capsys):
    out = tmp_path / "embed.json"
    code = main(["bench", "embed", "--images", "4", "--naive-images", "1", "--arch", "mobilefacenet",
                 "--batch-size", "4", "--dtypes", "float32", "--rounds", "1", "--json", str(out)])
    assert code == 0
    assert "naive loop" in capsys.readouterr().out
    assert json.loads(out.read_text())["pipeline"]["float32"]["images_per_s"] > 0


def test_bench_rejects_unknown_dtypes(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "embed", "--dtypes", "int8"])
    assert "unknown dtypes" in capsys.readouterr().err
