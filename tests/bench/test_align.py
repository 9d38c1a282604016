import numpy as np
import pytest

from fverify.bench.align import LFW_SIZE, lfw_size, load_images
from fverify.errors import FverifyError


def test_lfw_size_is_the_centred_square_at_250():
    image = np.zeros((300, 500, 3), dtype=np.uint8)
    image[:, 100:400] = 200  # the centred 300x300 square
    small = lfw_size(image)
    assert small.shape == (LFW_SIZE, LFW_SIZE, 3) and (small == 200).all()


def test_synthetic_images_come_in_both_sizes():
    small, big, source = load_images(None, 3, 2, seed=0)
    assert source == "synthetic faces" and len(small) == 3 and len(big) == 2
    assert small[0].shape == (250, 250, 3) and big[0].shape == (960, 1280, 3)


def test_a_folder_without_photos_is_an_error(tmp_path):
    with pytest.raises(FverifyError, match="no photos"):
        load_images(tmp_path, 1, 1, seed=0)
