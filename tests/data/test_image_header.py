import cv2
import numpy as np
import pytest

from fverify.data.image_header import check_images, image_size
from fverify.data.images import ImageBytes, ImageFiles
from fverify.errors import FverifyError


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth colour image with noise: JPEG then holds several 0xFF bytes in its scan data."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, width)[None, :, None] * np.ones((height, 1, 3))
    return np.clip(ramp + rng.normal(0, 40, (height, width, 3)), 0, 255).astype(np.uint8)


def encode(image: np.ndarray, ext: str, *params: int) -> bytes:
    ok, encoded = cv2.imencode(ext, image, list(params))
    assert ok
    return encoded.tobytes()


@pytest.mark.parametrize("ext, params", [
    (".jpg", ()),
    (".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
    (".jpg", (cv2.IMWRITE_JPEG_RST_INTERVAL, 2)),
    (".png", ()),
    (".bmp", ()),
])
@pytest.mark.parametrize("shape", [(112, 112), (37, 250), (250, 96)])
def test_the_size_read_from_the_header_is_the_decoded_size(ext, params, shape):
    data = encode(photo(*shape), ext, *params)
    assert image_size(data, "x") == cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2]
    assert image_size(data, "x") == shape


def test_grey_jpeg_and_bytes_after_its_end_are_accepted():
    grey = encode(photo(20, 30)[..., 0], ".jpg")
    assert image_size(grey, "x") == (20, 30)
    assert image_size(grey + b"\x00" * 16 + b"trailer", "x") == (20, 30)


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_every_cut_of_a_file_is_refused(ext):
    data = encode(photo(40, 50), ext)
    cuts = range(2, len(data) - 1)
    for length in cuts:
        with pytest.raises(FverifyError, match="truncated|corrupt"):
            image_size(data[:length], f"cut at {length}")


def test_a_damaged_png_chunk_is_refused_by_its_checksum():
    data = bytearray(encode(photo(40, 50), ".png"))
    data[len(data) // 2] ^= 0x01
    with pytest.raises(FverifyError, match="checksum mismatch"):
        image_size(bytes(data), "x")


def test_not_an_image_is_refused():
    with pytest.raises(FverifyError, match="x: cannot decode"):
        image_size(b"GIF89a not really", "x")


def test_check_images_lists_every_bad_file_and_checks_sizes(tmp_path):
    good = encode(photo(8, 8), ".jpg")
    for i in range(24):
        (tmp_path / f"{i}.jpg").write_bytes(good if i % 2 == 0 else good[:-40])
    images = ImageFiles(tmp_path, [f"{i}.jpg" for i in range(24)])
    with pytest.raises(FverifyError, match=r"12 of 24 images cannot be used:\n.*/1\.jpg: truncated JPEG") as error:
        check_images(images)
    assert "/19.jpg" in str(error.value) and "/21.jpg" not in str(error.value)  # the first 10 named
    assert "... and 2 more" in str(error.value)
    blobs = ImageBytes([good, encode(photo(9, 8), ".png"), good], "set.bin")
    assert check_images(blobs).describe_sizes() == "8x8 (2), 8x9 (1)"
    with pytest.raises(FverifyError, match=r"1 of 3 images are not 8x8 pixels.*found: 8x9 \(1\)\):\n"
                                           r"    set.bin\[image 1\]"):
        check_images(blobs, input_size=(8, 8))
