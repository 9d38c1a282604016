"""The cascade's resampling against loop references of what TensorFlow does in the ``mtcnn``
package: ``resize(method=AREA)`` for the pyramid, ``crop_and_resize`` for R/O-Net crops."""
import numpy as np
import torch

from fverify.align.mtcnn import crop_and_resize, pyramid_level


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
    level = pyramid_level(batch, 0.709)  # 26 x 20: non-integer footprints
    assert level.shape == (2, 26, 20, 3)
    for image, resized in zip(batch, level):
        np.testing.assert_allclose(resized, area_resize_reference(image.astype(np.float64), 26, 20), atol=1e-5)


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
