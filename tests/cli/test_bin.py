import pickle

import pytest

from fverify.cli import main


def test_pack_offers_the_image_protocols_only(capsys):
    with pytest.raises(SystemExit):
        main(["bin", "pack", "--from", "ytf", "x.bin"])
    assert "choose from 'bin', 'lfw', 'pairs'" in capsys.readouterr().err


def test_pack_then_validate(tmp_path, capsys):
    lfw = tmp_path / "lfw"
    assert main(["synth", "lfw", str(lfw), "--folds", "10", "--pairs-per-fold", "3",
                 "--people-per-fold", "5"]) == 0
    out_bin = tmp_path / "synth.bin"
    assert main(["bin", "pack", "--from", "lfw", "--data", str(lfw), "--pairs",
                 str(lfw / "pairs.txt"), str(out_bin)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {out_bin}: 60 pairs, 120 images" in out
    images, issame = pickle.loads(out_bin.read_bytes())
    assert len(images) == 120 and len(issame) == 60
    assert main(["bin", "--bin", str(out_bin), "--validate"]) == 0
    assert "folds      10  (each 3 same + 3 different)" in capsys.readouterr().out


def test_bin_errors(tmp_path, capsys):
    assert main(["bin", "--validate"]) == 2
    assert "bin needs --bin FILE" in capsys.readouterr().err
    assert main(["bin", "pack", "--from", "lfw", str(tmp_path / "x.bin")]) == 2
    assert "lfw needs --data" in capsys.readouterr().err
    (tmp_path / "evil.bin").write_bytes(b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00true\x85R.")
    assert main(["bin", "--bin", str(tmp_path / "evil.bin"), "--validate"]) == 2
    assert "refusing to load posix.system" in capsys.readouterr().err
