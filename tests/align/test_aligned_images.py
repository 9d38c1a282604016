"""Aligning an image list on the fly (``--align``): cached crops, recorded settings, cache keys."""
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
    """Cached crops never answer for other code: the settings carry the alignment source's
    hash (an edit to the cascade moved faces once: a new pyramid resize)."""
    import fverify.align.aligner as aligner

    before = alignment_settings("arcface", "largest")
    assert len(before["code_sha256"]) == 64
    monkeypatch.setattr(aligner, "source_sha256", lambda package: "edited " + package)
    after = alignment_settings("arcface", "largest")
    assert after["code_sha256"] == "edited fverify.align"
    assert json_sha256(after) != json_sha256(before)


def test_the_package_detector_records_its_versions_not_fverify_code():
    record = alignment_settings("arcface", "largest", detector="mtcnn-tf")
    assert "code_sha256" not in record and {"mtcnn", "tensorflow"} <= record.keys()


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
