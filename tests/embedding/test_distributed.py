"""Sharded extraction under torch.distributed (gloo, 2 CPU processes) equals one process."""
import numpy as np
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from fverify.data.images import ImageFiles
from fverify.embedding.cache import EmbeddingCache
from fverify.embedding.distributed import shard
from fverify.embedding.extract import extract_embeddings
from tests.embedding.fake_embedder import PixelEmbedder, write_faces

WORLD = 2


def test_shards_cover_every_item_once():
    for n in range(0, 9):
        for world in (1, 2, 3):
            covered = [i for rank in range(world) for i in range(n)[shard(n, rank, world)]]
            assert covered == list(range(n))


def _worker(rank: int, rendezvous: str, images: ImageFiles, cache_root: str, out_prefix: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=WORLD)
    try:
        embedder = PixelEmbedder()
        result = extract_embeddings(images, embedder, flip="concat", batch_size=2, workers=0, progress=False,
                                    cache=EmbeddingCache(cache_root))
        np.save(f"{out_prefix}{rank}.npy", result.embeddings)
        np.save(f"{out_prefix}{rank}.seen.npy", np.array(embedder.faces_seen))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("count", [7, 1])  # uneven shards; a rank with nothing to embed
def test_two_ranks_give_every_rank_the_single_process_result(tmp_path, count):
    images = write_faces(tmp_path / "data", count)
    images = ImageFiles(images.root, [*images.relative_paths, images.relative_paths[0]])  # a repeat
    single = extract_embeddings(images, PixelEmbedder(), flip="concat", progress=False).embeddings
    out_prefix = str(tmp_path / "rank")
    mp.spawn(_worker, args=(str(tmp_path / "rendezvous"), images, str(tmp_path / "cache"), out_prefix),
             nprocs=WORLD, join=True)
    seen = [int(np.load(f"{out_prefix}{rank}.seen.npy")) for rank in range(WORLD)]
    assert sum(seen) == 2 * count  # each distinct image and its mirror embedded once across ranks
    for rank in range(WORLD):
        np.testing.assert_array_equal(np.load(f"{out_prefix}{rank}.npy"), single)
    cached = list((tmp_path / "cache").glob("*.npy"))
    assert len(cached) == 1 and np.array_equal(np.load(cached[0]), single)  # written once, by rank 0
