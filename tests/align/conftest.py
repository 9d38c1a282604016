from pathlib import Path

import cv2
import pytest

REAL_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "realfaces" / "deepface"


@pytest.fixture(scope="session")
def real_photos() -> Path:
    if not (REAL_PHOTOS / "img1.jpg").is_file():
        pytest.skip(f"the real photos are not at {REAL_PHOTOS}")
    return REAL_PHOTOS


def read_rgb(path: Path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def detector():
    pytest.importorskip("lz4.frame")
    from fverify.align.mtcnn import MtcnnDetector

    return MtcnnDetector("cpu")
