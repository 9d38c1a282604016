"""Aligning an image list on the fly (``--align``): cached crops, recorded settings, cache keys."""
import importlib.util
import re

import numpy as np
import pytest

from fverify.align.aligned_images import AlignedImages, align_images, alignment_settings
from fverify.align.templates import TEMPLATES
from fverify.data.images import ImageFiles, read_image
from fverify.embedding.cache import EmbeddingCache
from fverify.hashing import json_sha256
from tests.align.conftest import write_raw_folder

pytest.importorskip("lz4.frame")

MODEL = {"sha256": "0" * 64, "format": "test"}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    return ImageFiles(folder, write_raw_folder(folder, numbers=(1, 3)))


@pytest.fixture(scope="module")
def aligned(raw, tmp_path_factory):
    root = tmp_path_factory.mktemp("crops")
    return {name: align_images(raw, alignment_settings(name, "largest"), root, device="cpu", progress=False)
            for name in TEMPLATES}


def test_crops_have_the_template_size_and_the_faceless_image_is_listed(raw, aligned):
    for name, images in aligned.items():
        assert len(images) == len(raw)
        assert {images[i].shape for i in range(len(images))} == {(TEMPLATES[name].height, TEMPLATES[name].width, 3)}
        assert images.alignment["fallback"]["images"] == [raw.describe(2)]  # ramp.png
        assert images.alignment["settings"]["template"] == name
        assert set(images.alignment["settings"]["weights_sha256"]) == {"pnet", "rnet", "onet"}
        assert "ramp.png" in images.describe(2)


def test_a_second_alignment_reads_the_cached_crops(raw, aligned, monkeypatch):
    import fverify.align.aligned_images as module

    def no_detector(*_):
        raise AssertionError("nothing should be aligned again")

    monkeypatch.setattr(module, "_aligner", no_detector)
    first = aligned["arcface"]
    again = align_images(raw, first.alignment["settings"], first.crops.root.parent, progress=False)
    assert again.identity() == first.identity() and again.alignment == first.alignment
    assert np.array_equal(again[0], first[0])


def test_the_embedding_cache_key_covers_the_alignment(raw, aligned, tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = {name: cache.key(images, MODEL, "sum") for name, images in aligned.items()}
    unaligned, _ = cache.key(raw, MODEL, "sum")
    assert len({unaligned, *(key for key, _ in keys.values())}) == 3
    assert keys["sphereface"][1]["alignment"]["template"] == "sphereface"
    # Another face choice (same crops here: one face per photo) is another key.
    other = AlignedImages(raw, aligned["arcface"].crops,
                          {**aligned["arcface"].alignment, "settings": alignment_settings("arcface", "nearest-centre")})
    assert cache.key(other, MODEL, "sum")[0] != keys["arcface"][0]


def test_an_edit_to_the_alignment_code_makes_another_key(monkeypatch):
    """Cached crops never answer for other code: the settings carry the hash of the modules
    that make a crop (an edit to the cascade moved faces once: a new pyramid resize) and the
    numpy and OpenCV versions."""
    import cv2

    import fverify.align.aligner as aligner

    before = alignment_settings("arcface", "largest")
    assert len(before["code_sha256"]) == 64
    assert (before["numpy"], before["opencv"]) == (np.__version__, cv2.__version__)
    aligner.code_record.cache_clear()
    monkeypatch.setattr(aligner, "source_sha256", lambda package, modules: f"edited {package} {len(modules)}")
    try:
        after = alignment_settings("arcface", "largest")
    finally:
        aligner.code_record.cache_clear()
    assert after["code_sha256"] == f"edited fverify.align {len(aligner.CROP_MODULES)}"
    assert json_sha256(after) != json_sha256(before)


def test_the_package_detector_records_its_distributions_too():
    """fverify's warp still makes its crops, so its code counts; TensorFlow may be installed as
    tensorflow-cpu or another distribution: the record names whichever provides it."""
    record = alignment_settings("arcface", "largest", detector="mtcnn-tf")
    assert record["code_sha256"] == alignment_settings("arcface", "largest")["code_sha256"]
    for module in ("mtcnn", "tensorflow"):
        if importlib.util.find_spec(module) is None:
            assert record[module] is None
        else:
            assert re.fullmatch(r"\S+ \d\S*(, \S+ \d\S*)*", record[module]), record[module]


def test_a_crop_answers_only_for_its_source_bytes(raw, aligned, tmp_path):
    """A changed source under the same name is aligned again, not read from the crop cache."""
    import shutil

    folder = tmp_path / "raw"
    shutil.copytree(raw.root, folder)
    shutil.copy(raw.root / "img3.jpg", folder / "img1.jpg")  # another face, same name
    settings = aligned["arcface"].alignment["settings"]
    again = align_images(ImageFiles(folder, raw.relative_paths), settings,
                         aligned["arcface"].crops.root.parent, progress=False)
    assert again.crops.relative_paths[0] != aligned["arcface"].crops.relative_paths[0]
    assert np.array_equal(again[0], aligned["arcface"][1])  # img3's crop
    assert read_image(again.crops.root / again.crops.relative_paths[0]).shape == (112, 112, 3)
