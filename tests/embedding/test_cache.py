import os
import shutil

import cv2
import numpy as np
import pytest

from fverify.data.images import ImageFiles
from fverify.embedding.cache import EmbeddingCache, default_cache_dir
from fverify.embedding.extract import extract_embeddings
from tests.embedding.fake_embedder import PixelEmbedder, RefusingEmbedder, face, png, write_faces


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
    target.write_bytes(png(face(42)))  # re-aligned in place, its old mtime restored
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = run(images, PixelEmbedder(), cache)
    assert not again.from_cache
    row = face(42)[0, :, 0].astype(np.float32)
    np.testing.assert_array_equal(again.embeddings[2], row + row[::-1])  # flip "sum"


def test_a_touched_but_unchanged_image_keeps_its_entry(images, cache):
    run(images, PixelEmbedder(), cache)
    target = images.root / images.relative_paths[2]
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert run(images, RefusingEmbedder(), cache).from_cache


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


def bmp(rgb):
    """Uncompressed BMP bytes: every 8x8 face has the same file size, whatever its pixels."""
    ok, encoded = cv2.imencode(".bmp", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()


def test_different_images_with_equal_sizes_and_mtimes_never_share_an_entry(tmp_path, cache):
    # What `cp -p`, `rsync -a` or a tar extract of another image set of the same sizes gives.
    sets = {}
    for name, offset in (("a", 0), ("b", 100)):
        for i in range(4):
            path = tmp_path / name / "p" / f"{i}.bmp"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bmp(face(i + offset)))
            os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
        sets[name] = ImageFiles(tmp_path / name, [f"p/{i}.bmp" for i in range(4)])
    sizes = {(tmp_path / n / p).stat().st_size for n in "ab" for p in sets[n].relative_paths}
    assert len(sizes) == 1
    run(sets["a"], PixelEmbedder(), cache)
    second = run(sets["b"], PixelEmbedder(), cache)
    assert not second.from_cache
    expected = np.stack([face(i + 100)[0, :, 0] for i in range(4)]).astype(np.float32)
    np.testing.assert_array_equal(second.embeddings, expected + expected[:, ::-1])  # flip "sum"


def test_identical_copies_elsewhere_are_served_from_the_cache(images, cache, tmp_path):
    first = run(images, PixelEmbedder(), cache)
    copy = tmp_path / "copy"
    shutil.copytree(images.root, copy)  # new mtimes, same bytes
    again = run(ImageFiles(copy, images.relative_paths), RefusingEmbedder(), cache)
    assert again.from_cache
    np.testing.assert_array_equal(again.embeddings, first.embeddings)


def test_a_file_name_that_is_not_utf8_is_cached(tmp_path, cache):
    name = os.fsdecode(b"p/caf\xe9.png")  # Latin-1 bytes: decoded with a surrogate escape
    (tmp_path / "p").mkdir()
    (tmp_path / name).write_bytes(png(face(3)))
    images = ImageFiles(tmp_path, [name])
    assert not run(images, PixelEmbedder(), cache).from_cache
    assert run(images, RefusingEmbedder(), cache).from_cache
