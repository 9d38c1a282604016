"""The wheel must carry the official protocol lists byte for byte, and the training recipes."""
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from fverify.protocols.official import manifest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_protocol_lists(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("fverify-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name, (md5, _) in manifest().items():
            data = archive.read(f"fverify/_protocol_lists/{name}")
            assert hashlib.md5(data).hexdigest() == md5, name
        assert "fverify/_protocol_lists/MANIFEST" in archive.namelist()
        # the bundled training recipes (fverify train --list-recipes)
        assert {"fverify/train/recipes/base.toml", "fverify/train/recipes/hm-arcface.toml"} <= set(archive.namelist())
