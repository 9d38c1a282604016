"""The torch MTCNN cascade on real photos (skipped when the shared folder is absent)."""
import numpy as np
import pytest

from fverify.align.mtcnn import MtcnnSettings, pyramid_scales
from fverify.errors import FverifyError
from tests.align.conftest import read_rgb

LONGEST_SIDE = 400  # pixels: photos are shrunk first so the suite stays fast (faces stay > 60 px)


def shrink(image, side=LONGEST_SIDE):
    import cv2

    scale = side / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def single_face_photos(real_photos):
    paths = sorted(real_photos.glob("img*.jpg"))
    assert len(paths) >= 60
    return paths, [shrink(read_rgb(p)) for p in paths]


def test_a_face_is_found_in_every_single_face_photo(detector, single_face_photos):
    paths, images = single_face_photos
    results = detector.detect(images)
    missing = [p.name for p, faces in zip(paths, results) if not len(faces)]
    assert missing == []
    for image, faces in zip(images, results):
        assert faces.scores[0] > 0.85  # a confident detection (O-Net keeps faces above 0.8)
        box, points = faces.boxes[0], faces.landmarks[0]
        # The best face's landmarks lie in its box, eyes above the mouth, left eye left.
        assert (points[:, 0] >= box[0] - 2).all() and (points[:, 0] <= box[2] + 2).all()
        assert points[:2, 1].max() < points[3:, 1].min()
        assert points[0, 0] < points[1, 0] and points[3, 0] < points[4, 0]


@pytest.mark.parametrize("name,at_least", [("couple.jpg", 2), ("selfie-many-people.jpg", 4)])
def test_group_photos_give_several_faces(detector, real_photos, name, at_least):
    faces = detector.detect([shrink(read_rgb(real_photos / name), 800)])[0]
    assert len(faces) >= at_least
    assert (np.diff(faces.scores) <= 0).all()  # best first


def test_a_photo_without_a_face_gives_none(detector):
    smooth = np.tile(np.linspace(0, 255, 300, dtype=np.uint8)[:, None, None], (1, 200, 3))
    assert len(detector.detect([smooth])[0]) == 0


def test_batching_does_not_change_detections(detector, single_face_photos):
    _, images = single_face_photos
    square = [image[:300, :300] for image in images[:3]]  # one size: batched together
    mixed = [images[0], square[1], square[2], images[3]]
    for batch in (square, mixed):
        for image, batched in zip(batch, detector.detect(batch)):
            alone = detector.detect([image])[0]
            assert len(alone) == len(batched)
            np.testing.assert_allclose(alone.landmarks, batched.landmarks, atol=1e-3)


def test_the_pyramid_follows_the_package_formula():
    # 250 px: 12/20 * 0.709^k while round(-(log(250/12)/log(0.709) + 1)) = 8 levels
    scales = pyramid_scales(250, 300, MtcnnSettings())
    assert len(scales) == 8
    np.testing.assert_allclose(scales[0], 0.6)
    np.testing.assert_allclose(scales[-1], 0.6 * 0.709 ** 7)


def test_images_that_are_not_rgb_uint8_are_refused(detector):
    with pytest.raises(FverifyError, match="not RGB uint8"):
        detector.detect([np.zeros((50, 50), dtype=np.uint8)])
