from fverify.cli import main


def test_synth_writes_and_says_how_to_check(tmp_path, capsys):
    assert main(["synth", "ytf", str(tmp_path / "y"), "--splits", "2", "--pairs-per-split", "2",
                 "--people-per-split", "3", "--max-frames", "4", "--seed", "9"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'y'}: 6 people" in out and "seed 9" in out
    assert f"fverify ytf --data {tmp_path / 'y'} --splits {tmp_path / 'y' / 'splits.txt'} --validate" in out
    assert main(["synth", "ytf", str(tmp_path / "y")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
