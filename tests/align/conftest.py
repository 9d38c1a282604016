from pathlib import Path

import cv2
import numpy as np
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


def write_raw_folder(folder: Path, numbers=(1, 2, 3, 4, 5, 6)) -> list[str]:
    """Small copies (longer side 250 px, as LFW's) of the real photos ``img<n>.jpg`` and one
    image without a face (``ramp.png``) in ``folder``; returns their names."""
    if not (REAL_PHOTOS / "img1.jpg").is_file():
        pytest.skip(f"the real photos are not at {REAL_PHOTOS}")
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for number in numbers:
        image = cv2.imread(str(REAL_PHOTOS / f"img{number}.jpg"))
        scale = 250 / max(image.shape[:2])
        cv2.imwrite(str(folder / f"img{number}.jpg"), cv2.resize(image, None, fx=scale, fy=scale,
                                                                 interpolation=cv2.INTER_AREA))
        names.append(f"img{number}.jpg")
    ramp = np.tile(np.linspace(0, 255, 250, dtype=np.uint8)[:, None, None], (1, 250, 3))
    cv2.imwrite(str(folder / "ramp.png"), ramp)
    return [*names, "ramp.png"]
