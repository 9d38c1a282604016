"""Box arithmetic of the MTCNN cascade (torch, batched): IoU, NMS, squaring, regression.

Conventions follow the ``mtcnn`` package (``mtcnn/utils/bboxes.py``) so that the torch cascade
finds the same faces: boxes are rows ``x1, y1, x2, y2`` in pixels, areas are ``(x2 - x1) *
(y2 - y1)``, and NMS keeps a box when no higher-scoring box overlaps it above the threshold,
counting overlaps with boxes that were themselves suppressed (one pass, not greedy).

Boxes rank as the package ranks them, by ``np.argsort(scores)[::-1]`` on float64 scores in
the order the stage produced them. P-Net's probabilities saturate at exactly 1.0 in float32,
so several overlapping boxes of one face often tie, and the rank alone decides which of them
survives. numpy's default sort is not stable, and its order of equal keys is not a rule one can
restate (it depends on the numpy version and on which SIMD code the CPU runs), so the ranking
calls it, image by image: on a machine where the package ranks one image's boxes, the
cascade ranks them the same way. The package sorts all images of its batch at once; ranking
each image alone keeps an image's faces independent of the others in its batch.
"""
from __future__ import annotations

import numpy as np
import torch

_NMS_CHUNK = 2048  # columns of an image's overlap matrix held at once
_NMS_ELEMENTS = 1 << 22  # overlaps computed at once (several temporaries of this many floats)


def overlap(rows: torch.Tensor, columns: torch.Tensor, method: str) -> torch.Tensor:
    """Overlap matrices (..., n, m) of boxes (..., n, 4) and (..., m, 4): intersection over
    union (``'union'``) or over the smaller area (``'min'``)."""
    area_rows = (rows[..., 2] - rows[..., 0]) * (rows[..., 3] - rows[..., 1])
    area_columns = (columns[..., 2] - columns[..., 0]) * (columns[..., 3] - columns[..., 1])
    top_left = torch.maximum(rows[..., :, None, :2], columns[..., None, :, :2])
    bottom_right = torch.minimum(rows[..., :, None, 2:], columns[..., None, :, 2:])
    sides = (bottom_right - top_left).clamp(min=0)
    inter = sides[..., 0] * sides[..., 1]
    if method == "union":
        return inter / (area_rows[..., :, None] + area_columns[..., None, :] - inter)
    return inter / torch.minimum(area_rows[..., :, None], area_columns[..., None, :])


def nms(boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, threshold: float,
        method: str = "union") -> torch.Tensor:
    """Indices kept, grouped by image, best score first within (ranked as the module says);
    boxes of different ``groups`` (images) never suppress.

    Vectorised over groups: each group's boxes, best first, fill a row of a padded
    (groups, n, 4) tensor, and one overlap computation per block of groups (bounded to
    ``_NMS_ELEMENTS`` overlaps) decides them all, instead of an n x n matrix across images.
    """
    if not len(boxes):
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = _ranked(scores, groups)
    group_ids, group_of = torch.unique_consecutive(groups[order], return_inverse=True)
    counts = torch.bincount(group_of, minlength=len(group_ids))
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(len(order), device=boxes.device) - starts[group_of]
    longest = int(counts.max())
    padded = boxes.new_zeros((len(group_ids), longest, 4))
    padded[group_of, slot] = boxes[order]
    present = torch.arange(longest, device=boxes.device) < counts[:, None]
    better = torch.ones((longest, longest), dtype=torch.bool, device=boxes.device).triu(1)  # i before j
    suppressed = torch.zeros((len(group_ids), longest), dtype=torch.bool, device=boxes.device)
    columns = min(longest, _NMS_CHUNK)
    per_block = max(1, _NMS_ELEMENTS // (longest * columns))
    for first in range(0, len(group_ids), per_block):
        block = slice(first, first + per_block)
        for start in range(0, longest, columns):
            stop = min(start + columns, longest)
            over = overlap(padded[block, :stop], padded[block, start:stop], method) > threshold
            over &= better[:stop, start:stop] & present[block, :stop, None]
            suppressed[block, start:stop] = over.any(dim=1)
    return order[~suppressed[group_of, slot]]


def _ranked(scores: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Indices by group (ascending), and within a group by ``np.argsort(scores)[::-1]``."""
    values = scores.detach().cpu().double().numpy()
    members = groups.detach().cpu().numpy()
    by_group = np.argsort(members, kind="stable")  # each group's boxes in input order
    starts = np.flatnonzero(np.diff(members[by_group], prepend=members[by_group][0] - 1))
    ranked = [mine[np.argsort(values[mine])[::-1]] for mine in np.split(by_group, starts[1:])]
    return torch.from_numpy(np.concatenate(ranked)).to(scores.device)


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
