import numpy as np

from fverify.cli.options import FLIP_MODES as CLI_FLIP_MODES
from fverify.embedding.flip import FLIP_MODES, embed_with_flip
from tests.embedding.fake_embedder import PixelEmbedder, face

FACES = np.stack([face(0), face(1)])


def test_sum_is_embedding_plus_mirror_embedding():
    embedder = PixelEmbedder()
    expected = FACES[:, 0, :, 0].astype(np.float32) + FACES[:, 0, ::-1, 0]
    np.testing.assert_array_equal(embed_with_flip(embedder, FACES, "sum"), expected)


def test_concat_stacks_plain_then_mirror():
    out = embed_with_flip(PixelEmbedder(), FACES, "concat")
    assert out.shape == (2, 16)
    np.testing.assert_array_equal(out[:, :8], FACES[:, 0, :, 0])
    np.testing.assert_array_equal(out[:, 8:], FACES[:, 0, ::-1, 0])


def test_none_embeds_once_and_flip_modes_batch_face_and_mirror_together():
    embedder = PixelEmbedder()
    np.testing.assert_array_equal(embed_with_flip(embedder, FACES, "none"), FACES[:, 0, :, 0])
    assert embedder.faces_seen == 2
    embed_with_flip(embedder, FACES, "sum")
    assert embedder.faces_seen == 6


def test_cli_offers_exactly_the_library_modes():
    assert CLI_FLIP_MODES == FLIP_MODES == ("sum", "concat", "none")
