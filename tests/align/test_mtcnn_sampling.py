"""The cascade's resampling against loop references of what TensorFlow does in the ``mtcnn``
package: ``resize(method=AREA)`` for the pyramid, ``crop_and_resize`` for R/O-Net crops."""
import numpy as np
import torch

from fverify.align.mtcnn import crop_and_resize
from fverify.align.resize import area_resize


def area_resize_reference(image, height, width):
    """Each output pixel: the average of the input over its footprint, input pixels weighted by
    the fraction of them inside it (TF's area resize, align_corners=False)."""
    in_height, in_width = image.shape[:2]
    sy, sx = in_height / height, in_width / width

    def weights(start, stop, extent):
        w = np.zeros(extent)
        for k in range(int(np.floor(start)), int(np.ceil(stop))):
            w[k] = min(stop, k + 1) - max(start, k)
        return w

    out = np.zeros((height, width, image.shape[2]))
    for i in range(height):
        wy = weights(i * sy, (i + 1) * sy, in_height)
        for j in range(width):
            wx = weights(j * sx, (j + 1) * sx, in_width)
            out[i, j] = np.einsum("h,w,hwc->c", wy, wx, image) / (sy * sx)
    return out


def tf_area_kernel_reference(image, height, width):
    """TensorFlow's ``resize_area_op.cc`` as its loops run, pixel by pixel in float32 scalars:
    each input row's sum along x (first pixel weighted, inner ones added, last weighted), the
    rows' weighted sum in order, then one multiplication."""
    f32 = np.float32
    in_height, in_width = image.shape[:2]
    sy, sx = f32(in_height) / f32(height), f32(in_width) / f32(width)

    def weight(v, begin, end, scale):
        if f32(v) < begin:
            return scale if f32(v) + f32(1) > end else f32(v) + f32(1) - begin
        return end - f32(v) if f32(v) + f32(1) > end else f32(1)

    out = np.zeros((height, width, image.shape[2]), np.float32)
    scale = f32(1.0 / float(sy * sx))
    for y in range(height):
        top, bottom = f32(y) * sy, f32(y + 1) * sy
        for x in range(width):
            left, right = f32(x) * sx, f32(x + 1) * sx
            first, last = int(np.floor(left)), int(np.ceil(right))
            for c in range(image.shape[2]):
                total = f32(0)
                for i in range(int(np.floor(top)), int(np.ceil(bottom))):
                    row = image[min(i, in_height - 1)]
                    along = row[first, c] * weight(first, left, right, sx)
                    if first + 1 != last:
                        for j in range(first + 1, last - 1):
                            along = along + row[j, c]
                        along = along + row[min(last - 1, in_width - 1), c] * weight(last - 1, left, right, sx)
                    total = total + along * weight(i, top, bottom, sy)
                out[y, x, c] = total * scale
    return out


def crop_and_resize_reference(image, box, size):
    """``tf.image.crop_and_resize`` for one box (pixels, divided by the image size as the
    package does): bilinear inside the image, 0 for a sample point outside it."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box[0] / width, box[1] / height, box[2] / width, box[3] / height
    out = np.zeros((size, size, image.shape[2]))
    for i in range(size):
        y = y1 * (height - 1) + i * (y2 - y1) * (height - 1) / (size - 1)
        if not 0 <= y <= height - 1:
            continue
        for j in range(size):
            x = x1 * (width - 1) + j * (x2 - x1) * (width - 1) / (size - 1)
            if not 0 <= x <= width - 1:
                continue
            top, left = int(np.floor(y)), int(np.floor(x))
            bottom, right = min(top + 1, height - 1), min(left + 1, width - 1)
            fy, fx = y - top, x - left
            upper = image[top, left] + (image[top, right] - image[top, left]) * fx
            lower = image[bottom, left] + (image[bottom, right] - image[bottom, left]) * fx
            out[i, j] = upper + (lower - upper) * fy
    return out


def test_pyramid_levels_are_exact_area_averages():
    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, (2, 37, 29, 3)).astype(np.float32)
    level = area_resize(torch.from_numpy(batch), 26, 20).numpy()  # non-integer footprints
    assert level.shape == (2, 26, 20, 3)
    for image, resized in zip(batch, level):
        np.testing.assert_allclose(resized, area_resize_reference(image.astype(np.float64), 26, 20), atol=1e-5)


def test_pyramid_levels_carry_tensorflows_rounding_bit_for_bit():
    """Same float32 operations in the same order as TF's kernel, so the same bits: OpenCV's
    area resize, the same average in another order, differs by up to 2e-6 here."""
    rng = np.random.default_rng(3)
    batch = rng.uniform(-1, 1, (1, 41, 33, 3)).astype(np.float32)
    for height, width in [(29, 23), (12, 9), (5, 4), (41, 33), (50, 47), (1, 1), (41, 1), (2, 3)]:
        ours = area_resize(torch.from_numpy(batch), height, width).numpy()[0]
        assert np.array_equal(ours, tf_area_kernel_reference(batch[0], height, width)), (height, width)


def test_crops_sample_like_tf_crop_and_resize():
    rng = np.random.default_rng(1)
    batch = rng.uniform(-1, 1, (2, 30, 40, 3)).astype(np.float32)
    boxes = np.array([[3.2, 4.7, 20.9, 22.4],     # inside
                      [-6.0, -3.5, 12.0, 14.5],  # over the top-left edge: zeros there
                      [25.0, 10.0, 47.0, 32.0],  # over the bottom-right edge
                      [0.0, 0.0, 40.0, 30.0]], dtype=np.float32)  # the whole image
    owner = np.array([0, 1, 0, 1])
    crops = crop_and_resize(torch.from_numpy(batch), torch.from_numpy(boxes), torch.from_numpy(owner), 9)
    assert crops.shape == (4, 3, 9, 9)
    for crop, box, image in zip(crops.numpy(), boxes, owner):
        expected = crop_and_resize_reference(batch[image].astype(np.float64), box.astype(np.float64), 9)
        np.testing.assert_allclose(crop.transpose(1, 2, 0), expected, atol=1e-5)
