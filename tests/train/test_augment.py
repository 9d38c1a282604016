import numpy as np
import torch

from fverify.train.augment import flip_batch, flip_mask


def test_flips_are_fair_and_a_function_of_seed_epoch_and_index():
    indices = np.arange(20000)
    mask = flip_mask(0, 1, indices)
    # p = 0.5: within 4 standard deviations (sd = 0.5 / sqrt(20000) = 0.0035)
    assert abs(mask.mean() - 0.5) < 0.014
    # any batching of the same indices gives the same decisions
    assert np.array_equal(np.concatenate([flip_mask(0, 1, part) for part in np.array_split(indices, 7)]), mask)
    # other epochs and seeds decide independently (about half agree)
    for other in (flip_mask(0, 2, indices), flip_mask(1, 1, indices)):
        assert abs((other == mask).mean() - 0.5) < 0.014


def test_flip_batch_mirrors_the_width_axis_of_chosen_images():
    images = torch.arange(2 * 3 * 2 * 4, dtype=torch.uint8).reshape(2, 3, 2, 4)
    out = flip_batch(images, np.array([True, False]))
    assert torch.equal(out[0], images[0][:, :, [3, 2, 1, 0]]) and torch.equal(out[1], images[1])
