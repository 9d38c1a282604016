from fverify.cli import main
from fverify.cli.bench import BENCH_TARGETS


def test_bench_eval_reports_checks_and_saves_the_report(tmp_path, capsys):
    assert main(["bench", "eval", "--pairs", "600", "2000", "--repeats", "1", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for size in ("600", "2,000"):
        assert f"{size:>10}  insightface loop (slices per threshold)" in printed
    assert printed.count("vectorised grid and lean loop identical to the loop: yes") == 2
    assert printed.count("exact training accuracy >= grid in every fold: yes") == 2
    assert printed.count("speed-up of exact:") == 2
    saved = (tmp_path / "eval.txt").read_text()
    assert saved.strip() in printed


def test_bench_targets_are_a_registry():
    assert "eval" in BENCH_TARGETS
