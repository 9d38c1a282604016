import subprocess
import sys

from fverify import __version__
from fverify.cli import main


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: fverify" in capsys.readouterr().out


def test_version_from_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-m", "fverify", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"fverify {__version__}"
