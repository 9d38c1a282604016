import numpy as np
import pytest

from fverify.data.images import ImageBytes, ImageFiles
from fverify.errors import FverifyError
from fverify.protocols.evalset import EvalSet, counts, missing_error
from fverify.protocols.protocol import Protocol


def protocol(kind="image", items=("a", "b", "c")):
    return Protocol("toy", items, np.array([[0, 1], [1, 2], [0, 2], [2, 1]]),
                    np.array([True, False, True, False]), np.array([0, 0, 1, 1]), "toy.txt",
                    "0" * 32, item_kind=kind, fold_rule="toy folds", fold_fix="fix the toy")


def test_image_evalset_aligns_images_with_items():
    evalset = EvalSet(protocol(), ImageBytes([b"1", b"2", b"3"], "t.bin"), None, "t.bin")
    assert evalset.frames_per_item().tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="2 images for 3 items"):
        EvalSet(protocol(), ImageBytes([b"1", b"2"], "t.bin"), None, "t.bin")


@pytest.mark.parametrize("image_item", [[0, 0, 2, 2], [0, 1, 1], [1, 1, 2, 2], [0, 2, 1, 2]])
def test_video_frames_must_be_grouped_in_item_order_covering_every_item(image_item):
    images = ImageFiles("/x", [f"f{i}.jpg" for i in range(len(image_item))])
    with pytest.raises(ValueError):
        EvalSet(protocol("video"), images, np.array(image_item), "/x")


def test_counts_of_a_video_evalset():
    images = ImageFiles("/x", [f"f{i}.jpg" for i in range(6)])
    evalset = EvalSet(protocol("video"), images, np.array([0, 0, 0, 1, 2, 2]), "/x")
    found = counts(evalset)
    assert found["pairs"] == 4 and found["positives"] == 2 and found["negatives"] == 2
    assert found["folds"] == [{"fold": 0, "positives": 1, "negatives": 1},
                              {"fold": 1, "positives": 1, "negatives": 1}]
    assert found["items"] == 3 and found["images"] == 6 and found["missing"] == 0
    assert found["fold_rule"] == "toy folds"
    assert found["frames_per_video"] == {"min": 1, "median": 2.0, "max": 3}


def test_missing_error_lists_ten_examples_per_group():
    error = missing_error([("12 of 20 images are missing", [f"m{i}" for i in range(12)]),
                           ("1 of 20 videos are empty", ["v"])], "/root", "fix it")
    assert isinstance(error, FverifyError)
    text = str(error)
    assert text.startswith("/root: 12 of 20 images are missing:\n    m0\n")
    assert "m9" in text and "m10" not in text and "... and 2 more" in text
    assert "1 of 20 videos are empty:\n    v" in text and text.endswith("-> fix it")
