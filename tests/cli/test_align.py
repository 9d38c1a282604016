"""``fverify align`` on a small LFW-layout tree of real photos plus one image without a face."""
import json

import cv2
import numpy as np
import pytest

from fverify.cli import main
from fverify.data.images import read_image
from tests.align.conftest import REAL_PHOTOS

pytest.importorskip("lz4.frame")


@pytest.fixture(scope="module")
def lfw_tree(tmp_path_factory):
    if not (REAL_PHOTOS / "img1.jpg").is_file():
        pytest.skip(f"the real photos are not at {REAL_PHOTOS}")
    source = tmp_path_factory.mktemp("raw")
    for person, number in [("Angelina_Jolie", 1), ("Angelina_Jolie", 2), ("Jennifer_Aniston", 3)]:
        image = cv2.imread(str(REAL_PHOTOS / f"img{number}.jpg"))
        side = min(image.shape[:2])  # an LFW-like 250x250 centred on the face
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        folder = source / person
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / f"{person}_{number:04d}.jpg"),
                    cv2.resize(image[top:top + side, left:left + side], (250, 250)))
    (source / "Nobody").mkdir()
    ramp = np.tile(np.linspace(0, 255, 250, dtype=np.uint8)[:, None, None], (1, 250, 3))
    cv2.imwrite(str(source / "Nobody" / "Nobody_0001.png"), ramp)
    return source


def manifest(destination):
    return json.loads((destination / "align-manifest.json").read_text())


def test_aligns_mirrors_lists_the_fallback_and_resumes(lfw_tree, tmp_path, capsys):
    destination = tmp_path / "aligned"
    argv = ["align", str(lfw_tree), str(destination), "--layout", "lfw", "--device", "cpu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "4 aligned now" in out and "Nobody/Nobody_0001.png" in out
    written = sorted(p.relative_to(destination).as_posix() for p in destination.rglob("*_000*"))
    assert written == ["Angelina_Jolie/Angelina_Jolie_0001.jpg", "Angelina_Jolie/Angelina_Jolie_0002.jpg",
                       "Jennifer_Aniston/Jennifer_Aniston_0003.jpg", "Nobody/Nobody_0001.png"]
    assert all(read_image(destination / name).shape == (112, 112, 3) for name in written)
    record = manifest(destination)
    assert record["settings"]["face_choice"] == "nearest-centre"
    assert record["summary"]["fallback"]["images"] == ["Nobody/Nobody_0001.png"]
    faces = {entry["image"]: entry for entry in record["images"]}
    assert faces["Nobody/Nobody_0001.png"]["fallback"] == "centre-crop"
    person = faces["Angelina_Jolie/Angelina_Jolie_0001.jpg"]
    assert person["fallback"] is None and person["score"] > 0.9 and len(person["landmarks"]) == 5

    # A second run aligns nothing; a crop lost in a kill is redone, alone.
    assert main(argv) == 0
    assert manifest(destination)["summary"]["aligned_now"] == 0
    (destination / written[2]).unlink()
    assert main(argv) == 0
    assert manifest(destination)["summary"]["aligned_now"] == 1
    assert (destination / written[2]).is_file()
    # A source replaced under the same name is aligned again, not answered from the old crop.
    moved = lfw_tree / "Angelina_Jolie" / "Angelina_Jolie_0001.jpg"
    original = moved.read_bytes()
    try:
        cv2.imwrite(str(moved), cv2.flip(cv2.imread(str(moved)), 1))
        assert main(argv) == 0
        assert manifest(destination)["summary"]["aligned_now"] == 1
    finally:
        moved.write_bytes(original)
    capsys.readouterr()

    # Other settings into the same tree are refused, not mixed.
    assert main(argv + ["--template", "sphereface"]) == 2
    assert "other settings (template: 'arcface' there, 'sphereface' now)" in capsys.readouterr().err


def test_a_wrong_layout_is_refused_before_any_work(lfw_tree, tmp_path, capsys):
    assert main(["align", str(lfw_tree), str(tmp_path / "out"), "--layout", "ytf"]) == 2
    assert "depth 2" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
