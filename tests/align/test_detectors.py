"""The detector registry; the ``mtcnn`` package (TensorFlow) against the torch cascade on the
real photos, when TensorFlow is installed (``pip install 'fverify[mtcnn-tf]'``)."""
import importlib.util

import numpy as np
import pytest

from fverify.align.detectors import DETECTORS, PackageDetector, detector
from fverify.align.mtcnn import MtcnnSettings
from fverify.errors import FverifyError
from tests.align.conftest import read_rgb

HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None


def test_unknown_detectors_are_refused_with_the_known_names():
    with pytest.raises(FverifyError, match="mtcnn, mtcnn-tf"):
        detector("dlib", "cpu", MtcnnSettings())
    assert list(DETECTORS) == ["mtcnn", "mtcnn-tf"]


@pytest.mark.skipif(HAS_TENSORFLOW, reason="TensorFlow is installed here")
def test_the_package_detector_names_the_extra_when_tensorflow_is_missing():
    with pytest.raises(FverifyError, match=r"fverify\[mtcnn-tf\]"):
        PackageDetector("cpu", MtcnnSettings())


def box_iou(a, b):
    side = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None)
    inter = side[0] * side[1]
    return inter / (np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter)


@pytest.mark.skipif(not HAS_TENSORFLOW, reason="TensorFlow is not installed (pip install 'fverify[mtcnn-tf]')")
def test_the_torch_cascade_finds_the_packages_main_face(detector, real_photos):
    package = PackageDetector("cpu", MtcnnSettings())
    ious, distances = [], []
    for path in sorted(real_photos.glob("*.jpg")):
        image = read_rgb(path)
        theirs, ours = package.detect([image])[0], detector.detect([image])[0]
        assert len(theirs) and len(ours), path.name
        ious.append(box_iou(theirs.boxes[0], ours.boxes[0]))
        distances.append(np.abs(theirs.landmarks[0] - ours.landmarks[0]).max())
    print(f"{len(ious)} photos: min IoU {min(ious):.4f}, max landmark difference {max(distances):.2f} px")
    assert min(ious) >= 0.95
    assert max(distances) <= 1.5
