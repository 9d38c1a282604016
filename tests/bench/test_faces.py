import numpy as np

from fverify.bench.faces import SIZE, write_identities


def test_identities_are_deterministic_jpegs_more_alike_within_than_across(tmp_path):
    images, labels = write_identities(tmp_path / "a", identities=3, images_per_identity=3, seed=5)
    again, _ = write_identities(tmp_path / "b", identities=3, images_per_identity=3, seed=5)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert images.relative_paths[4] == "id00001/001.jpg"
    pixels = np.stack([images[i] for i in range(len(images))]).astype(np.float64)
    assert pixels.shape == (9, SIZE, SIZE, 3)
    np.testing.assert_array_equal(pixels[7], again[7])
    distance = np.abs(pixels[:, None] - pixels[None]).mean(axis=(2, 3, 4))
    same = labels[:, None] == labels[None]
    off_diagonal = ~np.eye(9, dtype=bool)
    assert distance[same & off_diagonal].mean() < distance[~same].mean()
