import numpy as np
import pytest

from fverify.data.images import ImageBytes, ImageFiles
from fverify.embedding.extract import extract_embeddings, unique_images
from fverify.errors import FverifyError
from tests.embedding.fake_embedder import PixelEmbedder, face, png, write_faces


@pytest.fixture
def images(tmp_path):
    return write_faces(tmp_path, 7)


def expected(indices, flip="none"):
    rows = np.stack([face(i)[0, :, 0] for i in indices]).astype(np.float32)
    return rows + np.stack([face(i)[0, ::-1, 0] for i in indices]) if flip == "sum" else rows


@pytest.mark.parametrize("workers", [0, 2])
def test_rows_follow_the_image_list_in_batches_and_workers(images, workers):
    result = extract_embeddings(images, PixelEmbedder(), flip="sum", batch_size=3, workers=workers, progress=False)
    np.testing.assert_array_equal(result.embeddings, expected(range(7), "sum"))
    assert not result.from_cache and result.cache_file is None


def test_each_distinct_image_is_embedded_once(images):
    repeated = ImageFiles(images.root, [*images.relative_paths, "p/3.png", "p/0.png"])
    embedder = PixelEmbedder()
    result = extract_embeddings(repeated, embedder, flip="none", batch_size=4, progress=False)
    assert embedder.faces_seen == 7
    np.testing.assert_array_equal(result.embeddings, expected([*range(7), 3, 0]))


def test_in_memory_images_are_deduplicated_by_their_bytes():
    blobs = [png(face(0)), png(face(1)), png(face(0))]
    embedder = PixelEmbedder()
    result = extract_embeddings(ImageBytes(blobs, "x.bin"), embedder, flip="none", progress=False)
    assert embedder.faces_seen == 2
    np.testing.assert_array_equal(result.embeddings, expected([0, 1, 0]))


def test_unique_images_inverse_rebuilds_the_list():
    keys = ["b", "a", "b", "c", "a"]
    unique, inverse = unique_images(ImageFiles("r", keys))
    assert unique.tolist() == [0, 1, 3]
    assert [keys[unique[j]] for j in inverse] == keys


@pytest.mark.parametrize("workers", [0, 1])
def test_undecodable_image_is_named_even_from_a_worker(images, workers):
    (images.root / "p" / "5.png").write_bytes(b"truncated")
    with pytest.raises(FverifyError, match=r"p/5.png: cannot decode"):
        extract_embeddings(images, PixelEmbedder(), batch_size=2, workers=workers, progress=False)


def test_wrong_size_says_faces_must_be_aligned(images):
    with pytest.raises(FverifyError, match="image is 8x8 pixels but the model takes 112x112") as caught:
        extract_embeddings(images, PixelEmbedder(input_size=(112, 112)), progress=False)
    assert "align" in caught.value.fix


def test_bad_settings_are_errors(images):
    with pytest.raises(FverifyError, match="unknown flip mode"):
        extract_embeddings(images, PixelEmbedder(), flip="both", progress=False)
    with pytest.raises(FverifyError, match="batch size"):
        extract_embeddings(images, PixelEmbedder(), batch_size=0, progress=False)
    with pytest.raises(FverifyError, match="decoding workers must be 0 or more"):
        extract_embeddings(images, PixelEmbedder(), workers=-1, progress=False)
