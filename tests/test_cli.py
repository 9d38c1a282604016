import os
import subprocess
import sys
from pathlib import Path

from fverify import __version__
from fverify.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: fverify" in capsys.readouterr().out


def test_version_from_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-m", "fverify", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"fverify {__version__}"


def test_output_into_a_closed_pipe_is_quiet():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before fverify prints its first line
    result = subprocess.run(
        [sys.executable, "-m", "fverify", "evaluate", "reports/example/lfw-scores.csv"],
        stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""
