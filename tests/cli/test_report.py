"""``fverify report``: parsing and printing around make_report, errors without a traceback,
and no torch in the process."""
import subprocess
import sys

from fverify.cli import main
from tests.report.conftest import report_runs  # noqa: F401 - the runs the report tests share


def test_report_prints_the_verdicts_and_the_files(report_runs, tmp_path, capsys):
    out = tmp_path / "report"
    code = main(["report", str(report_runs["lfw-coarse"]), str(report_runs["lfw-fine"]), "--out", str(out),
                 "--baseline", "fine", "--name", f"{report_runs['lfw-fine']}=fine", "--format", "md,csv"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 runs: 2 models x 1 protocols" in printed
    assert "between models:coarse and fine on lfw" in printed
    assert "1 paired comparison made (each model against the baseline fine)" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.md", "report.csv", "roc-lfw.png", "det-lfw.png", "scores-lfw.png", "folds-lfw.png"])


def test_a_refusal_is_one_message_and_exit_2(report_runs, tmp_path, capsys):
    assert main(["report", str(report_runs["lfw-coarse"]), "--out", str(tmp_path / "r"), "--name", "oops"]) == 2
    err = capsys.readouterr().err
    assert "fverify report: error: --name 'oops' is not RUN=LABEL" in err and "Traceback" not in err
    assert main(["report", str(tmp_path / "none*"), "--out", str(tmp_path / "r")]) == 2
    assert "matches no file or folder" in capsys.readouterr().err


def test_report_never_imports_torch(report_runs, tmp_path):
    code = (
        "import sys\n"
        "from fverify.cli import main\n"
        f"assert main(['report', {str(report_runs['ytf-coarse'])!r}, '--out', {str(tmp_path / 'r')!r}]) == 0\n"
        "assert 'torch' not in sys.modules, 'fverify report imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)
