import pickle

import cv2
import numpy as np
import pytest

from fverify.data.images import ImageBytes, ImageFiles, decode_image, encode_image, read_image
from fverify.errors import FverifyError


def png_bytes(rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()


@pytest.fixture
def red_image():
    image = np.zeros((4, 5, 3), dtype=np.uint8)
    image[..., 0] = 200  # red channel in RGB order
    return image


def test_decode_returns_rgb(red_image):
    decoded = decode_image(png_bytes(red_image), "mem")
    np.testing.assert_array_equal(decoded, red_image)


def test_grey_image_becomes_three_channels():
    ok, encoded = cv2.imencode(".png", np.full((3, 3), 77, dtype=np.uint8))
    assert decode_image(encoded.tobytes(), "mem").shape == (3, 3, 3)


def test_corrupt_bytes_name_the_source():
    with pytest.raises(FverifyError, match=r"lfw.bin\[image 1\]: cannot decode"):
        ImageBytes([b"", b"not an image"], "lfw.bin")[1]


def test_empty_bytes_are_an_fverify_error():
    with pytest.raises(FverifyError, match=r"lfw.bin\[image 0\]: empty image \(0 bytes\)"):
        ImageBytes([b""], "lfw.bin")[0]


def test_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(FverifyError, match="nope.jpg: cannot read image"):
        read_image(tmp_path / "nope.jpg")


def test_image_files_read_list_missing_and_survive_pickling(tmp_path, red_image):
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "A_0001.png").write_bytes(png_bytes(red_image))
    images = ImageFiles(tmp_path, ["A/A_0001.png", "A/A_0002.png"])
    np.testing.assert_array_equal(images[0], red_image)
    assert images.missing() == ["A/A_0002.png"]
    clone = pickle.loads(pickle.dumps(images))
    assert clone.identity() == images.identity()
    assert ImageFiles(tmp_path / "moved", images.relative_paths).identity() == images.identity()
    assert ImageFiles(tmp_path, ["A/A_0002.png"]).identity() != images.identity()


def test_encode_is_the_inverse_of_decode(red_image):
    assert encode_image(red_image, "png").startswith(b"\x89PNG")
    np.testing.assert_array_equal(decode_image(encode_image(red_image, "png"), "mem"), red_image)
    jpeg = encode_image(np.full((16, 16, 3), 90, dtype=np.uint8), "jpg")
    assert jpeg.startswith(b"\xff\xd8\xff")
    assert np.abs(decode_image(jpeg, "mem").astype(int) - 90).max() <= 2


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` RGB pixels and holds none of them."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


DECODE = """
import sys
from fverify.data.images import decode_image
from fverify.errors import FverifyError
try:
    decode_image(sys.stdin.buffer.read(), "bomb.png")
except FverifyError as error:
    print(error)
"""


def jpeg_bytes(side: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.zeros((side, side, 3), np.uint8))
    assert ok
    return encoded.tobytes()


@pytest.mark.parametrize("limit, data, shown", [
    (None, png_header_only(20000, 20000), "134,217,728"),  # OpenCV returns None for a PNG
    ("1000", png_header_only(40, 40), "1,000"),
    ("1000", jpeg_bytes(40), "1,000"),  # and raises for a JPEG
])
def test_an_image_over_the_decode_limit_is_an_fverify_error(limit, data, shown):
    """fverify lowers OpenCV's limit (2**30 pixels: a 2 MB JPEG of one colour would decode into
    3 GB) before OpenCV is imported; a limit the user set wins. 20000 x 20000 is under OpenCV's
    own limit, so only fverify's refuses it. In a fresh process: the limit is read at import."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    if limit:
        env["OPENCV_IO_MAX_IMAGE_PIXELS"] = limit
    done = subprocess.run([sys.executable, "-c", DECODE], input=data,
                          capture_output=True, env=env, check=True)
    message = done.stdout.decode()
    assert f"bomb.png: the image is larger than OpenCV's decode limit of {shown} pixels" in message
    assert "OPENCV_IO_MAX_IMAGE_PIXELS" in message
