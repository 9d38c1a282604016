"""Box arithmetic of the MTCNN cascade (torch, batched): IoU, NMS, squaring, regression.

Conventions follow the ``mtcnn`` package (``mtcnn/utils/bboxes.py``) so that the torch cascade
finds the same faces: boxes are rows ``x1, y1, x2, y2`` in pixels, areas are ``(x2 - x1) *
(y2 - y1)``, and NMS keeps a box when no higher-scoring box overlaps it above the threshold,
counting overlaps with boxes that were themselves suppressed (one pass, not greedy).
"""
from __future__ import annotations

import torch

_NMS_CHUNK = 2048  # columns of the IoU matrix held at once: bounds memory at n x 2048 floats


def overlap(rows: torch.Tensor, columns: torch.Tensor, method: str) -> torch.Tensor:
    """Overlap matrix: intersection over union (``'union'``) or over the smaller area (``'min'``)."""
    area_rows = (rows[:, 2] - rows[:, 0]) * (rows[:, 3] - rows[:, 1])
    area_columns = (columns[:, 2] - columns[:, 0]) * (columns[:, 3] - columns[:, 1])
    top_left = torch.maximum(rows[:, None, :2], columns[None, :, :2])
    bottom_right = torch.minimum(rows[:, None, 2:], columns[None, :, 2:])
    sides = (bottom_right - top_left).clamp(min=0)
    inter = sides[..., 0] * sides[..., 1]
    if method == "union":
        return inter / (area_rows[:, None] + area_columns[None, :] - inter)
    return inter / torch.minimum(area_rows[:, None], area_columns[None, :])


def nms(boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, threshold: float,
        method: str = "union") -> torch.Tensor:
    """Indices kept, best score first; boxes of different ``groups`` (images) never suppress."""
    order = torch.argsort(scores, descending=True, stable=True)
    boxes, groups = boxes[order], groups[order]
    count = len(order)
    keep = torch.ones(count, dtype=torch.bool, device=boxes.device)
    rank = torch.arange(count, device=boxes.device)
    for start in range(0, count, _NMS_CHUNK):
        stop = min(start + _NMS_CHUNK, count)
        over = overlap(boxes[:stop], boxes[start:stop], method) > threshold
        over &= groups[:stop, None] == groups[None, start:stop]
        over &= rank[:stop, None] < rank[None, start:stop]  # only better-ranked boxes suppress
        keep[start:stop] = ~over.any(dim=0)
    return order[keep]


def to_square(boxes: torch.Tensor) -> torch.Tensor:
    """Grow each box to a square of its longer side about the same centre."""
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(width, height)
    x1 = boxes[:, 0] + (width - side) / 2
    y1 = boxes[:, 1] + (height - side) / 2
    return torch.stack([x1, y1, x1 + side, y1 + side], dim=1)


def regress(boxes: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Apply R/O-Net offsets, fractions of the box's inclusive width and height."""
    width = boxes[:, 2] - boxes[:, 0] + 1
    height = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + offsets * torch.stack([width, height, width, height], dim=1)
