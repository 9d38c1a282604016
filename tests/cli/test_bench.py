from fverify.cli import main
from fverify.cli.bench import BENCH_TARGETS


def test_bench_eval_prints_and_saves_the_report(tmp_path, capsys):
    assert main(["bench", "eval", "--pairs", "600", "--repeats", "1", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    saved = (tmp_path / "eval.txt").read_text()
    assert "fverify exact" in saved and saved.strip() in printed
    assert f"wrote {tmp_path / 'eval.txt'}" in printed


def test_bench_targets_are_a_registry():
    assert list(BENCH_TARGETS) == ["eval"]
