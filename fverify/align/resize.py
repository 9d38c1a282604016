"""Area resize in torch with TensorFlow's arithmetic, for MTCNN's image pyramid.

The ``mtcnn`` package builds its pyramid with ``tf.image.resize(method=AREA)``: each output
pixel is the average of the input over its footprint, input pixels weighted by the part of
them inside it. OpenCV's ``INTER_AREA`` computes the same average in another order and lands
up to 1e-4 away on the finest level; P-Net scores then differ by as much, which is enough to
reorder two near-equal proposals and change the face the cascade finds. So this follows
TensorFlow's kernel (``resize_area_op.cc``) step for step, in float32: footprint positions
``i * (in / out)``, edge weights from them, each input row's weighted sum along x (first
pixel, inner pixels in order, last pixel), then the rows' weighted sum in order, then one
multiplication by ``1 / (scale_y * scale_x)``. Every operation is an elementwise float32
multiply or add on whole tensors, so the result is the same on CPU and GPU.
"""
from __future__ import annotations

import numpy as np
import torch


def _taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Input indices (taps, out) and float32 weights (taps, out) of each output position, tap
    by tap in TensorFlow's order; a position with fewer taps gets weight 0 (adding 0 is exact)."""
    scale = np.float32(in_size) / np.float32(out_size)
    positions = np.arange(out_size + 1, dtype=np.float32) * scale  # footprint edges, float32
    begin, end = positions[:-1], positions[1:]
    first = np.floor(begin).astype(np.int64)
    last = np.ceil(end).astype(np.int64)  # exclusive
    count = int((last - first).max())
    index = first + np.arange(count)[:, None]  # (taps, out)
    at = index.astype(np.float32)
    one = np.float32(1)
    # The weight of input pixel i, TF's branches in float32. It is exactly 1 for the inner
    # pixels, which TF adds along x without multiplying; a tap past the footprint adds 0.
    weight = np.where(at < begin, np.where(at + one > end, scale, at + one - begin),
                      np.where(at + one > end, end - at, one)).astype(np.float32)
    weight = np.where(index < last, weight, np.float32(0))
    return np.clip(index, 0, in_size - 1), weight


def _weighted_sum(values: torch.Tensor, index: np.ndarray, weight: np.ndarray) -> torch.Tensor:
    """Sum over taps, in tap order (it decides the rounding), of ``values`` gathered along
    dim 0 times the weights. Indices and weights go to the device once; a tap at a time keeps
    the working memory at one output's size (gathering all taps at once was slower on CPU).
    Gathering along the outermost dimension copies contiguous blocks, several times faster
    than gathering columns of NHWC images."""
    shape = (-1,) + (1,) * (values.dim() - 1)
    index = torch.from_numpy(index).to(values.device)
    weight = torch.from_numpy(weight).to(values.device)
    total = values.index_select(0, index[0]).mul_(weight[0].reshape(shape))
    for taps, weights in zip(index[1:], weight[1:]):
        total.add_(values.index_select(0, taps).mul_(weights.reshape(shape)))
    return total


def area_resize(batch: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """NHWC float32 ``batch`` resized to ``height`` x ``width`` as TensorFlow's area resize
    (a pyramid level above 1, when min_face_size is under 12 px, enlarges by the same rule)."""
    return area_resize_columns_first(batch.permute(2, 0, 1, 3).contiguous(), height, width)


def area_resize_columns_first(columns: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """:func:`area_resize` of images given as (W, N, H, C), the layout its first pass reads
    fastest (a pyramid transposes its images once for all levels); NHWC out, contiguous."""
    in_width, _, in_height, _ = columns.shape
    along_x = _weighted_sum(columns, *_taps(in_width, width))  # (width, N, H, C)
    rows = along_x.permute(2, 1, 0, 3).contiguous()  # (H, N, width, C)
    total = _weighted_sum(rows, *_taps(in_height, height))  # (height, N, width, C)
    scale_y = np.float32(in_height) / np.float32(height)
    scale_x = np.float32(in_width) / np.float32(width)
    # TF: float scale = 1.0 / (height_scale * width_scale), the product in float, the
    # division in double, then rounded to float.
    total.mul_(float(np.float32(1.0 / float(scale_y * scale_x))))
    return total.permute(1, 0, 2, 3).contiguous()
