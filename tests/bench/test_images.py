import json

import cv2
import numpy as np

from fverify.bench.images import PHOTO_SIZE, write_photos
from fverify.cli import main


def test_photos_are_lfw_size_jpegs(tmp_path):
    photos = write_photos(tmp_path, 3, seed=0)
    for i in range(3):
        data = photos.read_bytes(i)
        assert data[:2] == b"\xff\xd8" and 12_000 < len(data) < 25_000  # LFW's are ~15 KB
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (PHOTO_SIZE, PHOTO_SIZE, 3)


def test_bench_images_prints_and_saves(tmp_path, capsys):
    assert main(["bench", "images", "--images", "3", "--repeats", "1", "--out", str(tmp_path)]) == 0
    assert "faster than decoding" in capsys.readouterr().out
    assert json.loads((tmp_path / "images.json").read_text())["images"] == 3
