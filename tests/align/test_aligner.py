"""Alignment on real photos: eyes land on the template; no face takes the named fallback."""
import numpy as np
import pytest

from fverify.align.aligner import FALLBACK, Aligner, AlignmentSettings
from fverify.align.similarity import similarity_transform
from fverify.align.templates import TEMPLATES
from tests.align.test_mtcnn import shrink
from tests.align.conftest import read_rgb

CANVAS_MARGIN = 50  # pixels of grey around a crop so the detector sees the whole face again


@pytest.fixture(scope="module")
def aligner():
    pytest.importorskip("lz4.frame")
    return Aligner(AlignmentSettings())


def test_detected_eyes_land_on_the_template(aligner, real_photos):
    paths = sorted(real_photos.glob("img*.jpg"))[::4]
    aligned = aligner.align([shrink(read_rgb(p)) for p in paths])
    assert not any(a.fallback for a in aligned)
    canvases = []
    for a in aligned:
        assert a.crop.shape == (112, 112, 3)
        canvas = np.full((112 + 2 * CANVAS_MARGIN,) * 2 + (3,), 128, dtype=np.uint8)
        canvas[CANVAS_MARGIN:-CANVAS_MARGIN, CANVAS_MARGIN:-CANVAS_MARGIN] = a.crop
        canvases.append(canvas)
    # Detect again on the aligned crops: an independent measurement of where the eyes went.
    to_template, to_prediction = [], []
    for path, a, faces in zip(paths, aligned, aligner.detector.detect(canvases)):
        assert len(faces), f"{path.name}: no face after alignment"
        eyes = faces.landmarks[0][:2] - CANVAS_MARGIN
        matrix = similarity_transform(a.landmarks, TEMPLATES["arcface"].points)
        predicted = a.landmarks[:2] @ matrix[:, :2].T + matrix[:, 2]
        to_prediction.append(np.linalg.norm(eyes - predicted, axis=1).max())
        to_template.append(np.linalg.norm(eyes - TEMPLATES["arcface"].points[:2], axis=1))
    # The warp puts each eye where the transform says (up to the detector's own jitter) ...
    assert max(to_prediction) <= 3.0, dict(zip([p.name for p in paths], np.round(to_prediction, 2)))
    # ... and the eyes land on the template: the rest is how these faces' five points differ
    # from the template's shape, which a similarity cannot remove.
    assert np.mean(to_template) <= 3.0 and np.max(to_template) <= 5.0


def test_sphereface_template_is_the_arcface_face_8px_narrower(real_photos):
    pytest.importorskip("lz4.frame")
    image = shrink(read_rgb(real_photos / "img1.jpg"))
    arcface = Aligner(AlignmentSettings(template="arcface")).align([image])[0].crop
    sphereface = Aligner(AlignmentSettings(template="sphereface")).align([image])[0].crop
    assert sphereface.shape == (112, 96, 3)
    difference = np.abs(sphereface.astype(int) - arcface[:, 8:104].astype(int))
    assert difference.max() <= 1


def test_no_face_takes_the_centre_crop_fallback_and_says_so(aligner):
    smooth = np.tile(np.linspace(0, 255, 300, dtype=np.uint8)[:, None, None], (1, 200, 3))
    result = aligner.align([smooth])[0]
    assert result.fallback and result.record()["fallback"] == FALLBACK
    assert result.record()["faces_found"] == 0 and result.landmarks is None
    # The centre 200x200 of the 300x200 gradient, shrunk to 112: rows 50..249 of the ramp.
    expected_first_row = np.linspace(0, 255, 300)[50:250].reshape(112 * 0 + 1, -1)
    assert result.crop.shape == (112, 112, 3)
    assert abs(int(result.crop[0, 0, 0]) - np.mean(expected_first_row[0, :2])) <= 2


def test_face_choice_policies(aligner, real_photos):
    from fverify.align.choice import largest, nearest_centre

    image = shrink(read_rgb(real_photos / "couple.jpg"), 800)
    faces = aligner.detector.detect([image])[0]
    assert len(faces) >= 2
    areas = np.prod(faces.boxes[:, 2:] - faces.boxes[:, :2], axis=1)
    assert largest(faces, *image.shape[:2]) == int(np.argmax(areas))
    centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2 - [(image.shape[1] - 1) / 2,
                                                               (image.shape[0] - 1) / 2]
    assert nearest_centre(faces, *image.shape[:2]) == int(np.argmin(np.hypot(*centres.T)))
