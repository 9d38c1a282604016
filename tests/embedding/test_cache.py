import os

import numpy as np
import pytest

from fverify.embedding.cache import EmbeddingCache, default_cache_dir
from fverify.embedding.extract import extract_embeddings
from tests.embedding.fake_embedder import PixelEmbedder, RefusingEmbedder, write_faces


@pytest.fixture
def images(tmp_path):
    return write_faces(tmp_path / "data", 5)


@pytest.fixture
def cache(tmp_path):
    return EmbeddingCache(tmp_path / "cache")


def run(images, embedder, cache, flip="sum"):
    return extract_embeddings(images, embedder, flip=flip, batch_size=2, progress=False, cache=cache)


def test_second_run_does_no_model_work(images, cache):
    first = run(images, PixelEmbedder(), cache)
    assert first.cache_file is not None and first.cache_file.exists() and not first.from_cache
    assert first.cache_file.with_suffix(".json").exists()
    second = run(images, RefusingEmbedder(), cache)
    assert second.from_cache
    np.testing.assert_array_equal(second.embeddings, first.embeddings)


def test_settings_that_change_numbers_change_the_key(images, cache):
    run(images, PixelEmbedder(), cache)
    for embedder, flip in ((PixelEmbedder(), "concat"), (PixelEmbedder(dtype="bfloat16"), "sum")):
        embedder_seen = run(images, embedder, cache, flip)
        assert not embedder_seen.from_cache
    assert len(list(cache.root.glob("*.npy"))) == 3


def test_rewritten_image_files_are_not_served_stale(images, cache):
    run(images, PixelEmbedder(), cache)
    target = images.root / images.relative_paths[2]
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not run(images, PixelEmbedder(), cache).from_cache


def test_a_corrupt_cache_file_is_recomputed(images, cache):
    first = run(images, PixelEmbedder(), cache)
    first.cache_file.write_bytes(b"garbage")
    again = run(images, PixelEmbedder(), cache)
    assert not again.from_cache
    np.testing.assert_array_equal(np.load(again.cache_file), first.embeddings)


def test_models_of_unknown_identity_are_not_cached(images, cache):
    class Opaque(PixelEmbedder):
        def cache_identity(self):
            return None

    result = run(images, Opaque(), cache)
    assert result.cache_file is None and not cache.root.exists()


def test_default_cache_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FVERIFY_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("FVERIFY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "fverify" / "embeddings"
