"""The MTCNN cascade (Zhang et al. 2016, "Joint Face Detection and Alignment using Multi-task
Cascaded Convolutional Networks") in torch: P-Net over an image pyramid, then R-Net and O-Net on
crops, batched over images, on CPU or GPU, with the ``mtcnn`` package's weights and defaults.

The pyramid levels are TensorFlow's area resize of the normalised images, reproduced in
torch operation for operation (:mod:`fverify.align.resize`: bit-identical to the package's
levels, where OpenCV's area resize differed by up to 1e-4 and moved faces); crops for R-Net and O-Net sample
as ``tf.image.crop_and_resize`` does (bilinear, and zero for a sample point outside the image),
all crops of a batch in one gather. The one deviation from the package: only images of one size
are batched together, where the package pads a mixed batch to its largest image and runs that
image's pyramid on all. So an image's faces never depend on which other images shared its
batch, which the alignment cache relies on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from fverify.align.boxes import nms, regress, to_square
from fverify.align.networks import load_network
from fverify.align.resize import area_resize_columns_first
from fverify.errors import FverifyError


@dataclass(frozen=True)
class MtcnnSettings:
    """Detector settings; the defaults are the ``mtcnn`` package's (``mtcnn/stages``)."""

    min_face_size: float = 20.0  # pixels
    scale_factor: float = 0.709  # pyramid step
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8)  # P/R/O-Net face probabilities
    nms_pnet_scale: float = 0.5  # IoU, within one pyramid scale
    nms_pnet: float = 0.7  # IoU, across scales
    nms_rnet: float = 0.7  # IoU
    nms_onet: float = 0.7  # intersection over the smaller area


@dataclass(frozen=True)
class Faces:
    """Faces found in one image, best score first: boxes ``x1, y1, x2, y2`` (pixels, clipped to
    the image), face probabilities, and landmarks (n, 5, 2) as (x, y) pixels in the order left
    eye, right eye, nose, left mouth corner, right mouth corner (image left/right)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def pyramid_scales(height: int, width: int, settings: MtcnnSettings) -> list[float]:
    """Scales at which P-Net (12 px window) sees faces from ``min_face_size`` up to the image."""
    smallest_side = min(height, width)
    count = round(-(math.log(smallest_side / 12) / math.log(settings.scale_factor) + 1))
    first = 12 / settings.min_face_size
    return [first * settings.scale_factor ** k for k in range(max(count, 0))]


def normalise(images: list[np.ndarray]) -> np.ndarray:
    """Stack same-sized RGB uint8 HxWx3 images into one float32 NHWC array with pixels scaled
    as the networks were trained: ``(pixel - 127.5) / 128``."""
    return (np.stack(images).astype(np.float32) - 127.5) / 128


def crop_and_resize(batch: torch.Tensor, boxes: torch.Tensor, image_index: torch.Tensor,
                    size: int) -> torch.Tensor:
    """``size`` x ``size`` crops (N, C, size, size), channels last, of boxes (pixels) of NHWC ``batch``, as
    ``tf.image.crop_and_resize`` on boxes divided by the image size: bilinear, and 0 for a
    sample point outside the image."""
    _, height, width, channels = batch.shape
    steps = torch.linspace(0, 1, size, device=batch.device, dtype=boxes.dtype)

    def sample_points(low: torch.Tensor, high: torch.Tensor, extent: int):
        points = (low[:, None] + steps * (high - low)[:, None]) / extent * (extent - 1)
        inside = (points >= 0) & (points <= extent - 1)
        first = points.floor().clamp(0, extent - 1)
        return first.long(), (first + 1).clamp(max=extent - 1).long(), points - first, inside

    x0, x1, wx, inside_x = sample_points(boxes[:, 0], boxes[:, 2], width)
    y0, y1, wy, inside_y = sample_points(boxes[:, 1], boxes[:, 3], height)
    pixels = batch.reshape(-1, channels)
    base = image_index[:, None, None] * (height * width)

    def gather(rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:  # (N, size, size, C)
        index = base + rows[:, :, None] * width + columns[:, None, :]
        return pixels.index_select(0, index.reshape(-1)).reshape(*index.shape, channels)

    wx, wy = wx[:, None, :, None], wy[:, :, None, None]
    top_left, top_right = gather(y0, x0), gather(y0, x1)
    bottom_left, bottom_right = gather(y1, x0), gather(y1, x1)
    top = top_left + (top_right - top_left) * wx
    bottom = bottom_left + (bottom_right - bottom_left) * wx
    crops = (top + (bottom - top) * wy) * (inside_y[:, :, None] & inside_x[:, None, :])[..., None]
    # NCHW view of NHWC memory: torch's channels-last layout, the networks' faster path.
    return crops.permute(0, 3, 1, 2)


class MtcnnDetector:
    """MTCNN face detector; ``detect`` takes a list of RGB uint8 images of any sizes."""

    def __init__(self, device: str | torch.device = "cpu", settings: MtcnnSettings = MtcnnSettings()):
        self.device = torch.device(device)
        self.settings = settings
        self.pnet, self.rnet, self.onet = (load_network(name).to(self.device)
                                           for name in ("pnet", "rnet", "onet"))

    @torch.inference_mode()
    def detect(self, images: list[np.ndarray]) -> list[Faces]:
        """Faces of every image (an empty :class:`Faces` where none is found)."""
        for index, image in enumerate(images):
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise FverifyError(f"image {index} is {image.dtype} {image.shape}, not RGB uint8 HxWx3")
        by_shape: dict[tuple, list[int]] = {}
        for index, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(index)
        result: list[Faces | None] = [None] * len(images)
        for indices in by_shape.values():
            for index, faces in zip(indices, self._detect_same_size([images[i] for i in indices])):
                result[index] = faces
        return result

    def _detect_same_size(self, images: list[np.ndarray]) -> list[Faces]:
        batch = torch.from_numpy(normalise(images)).to(self.device)
        boxes, scores, owner = self._propose(batch)
        boxes, scores, owner = self._refine(batch, boxes, owner)
        boxes, scores, owner, landmarks = self._output(batch, boxes, owner)
        return self._per_image(images, boxes, scores, owner, landmarks)

    def _propose(self, batch: torch.Tensor):
        """P-Net on every pyramid level of NHWC images; candidate square boxes per image."""
        settings = self.settings
        found_boxes, found_scores, found_owner = [], [], []
        columns = batch.permute(2, 0, 1, 3).contiguous()  # transposed once for every level
        for scale in pyramid_scales(batch.shape[1], batch.shape[2], settings):
            # level sizes truncated, as the package's
            level = area_resize_columns_first(columns, int(batch.shape[1] * scale), int(batch.shape[2] * scale))
            offsets, probability = self.pnet(level.permute(0, 3, 1, 2))
            owner, row, column = (probability > settings.thresholds[0]).nonzero(as_tuple=True)
            if not len(owner):
                continue
            # Each output cell sees a 12 px window moved by 2 px (the package's cell geometry).
            top_left = torch.stack([column, row], dim=1).float() * 2 + 1
            bottom_right = torch.stack([column, row], dim=1).float() * 2 + 12
            cell = torch.cat([top_left, bottom_right], dim=1)
            reg = offsets[owner, :, row, column]
            boxes = (cell + reg * 11) / scale
            scores = probability[owner, row, column]
            kept = nms(boxes, scores, owner, settings.nms_pnet_scale)
            found_boxes.append(boxes[kept])
            found_scores.append(scores[kept])
            found_owner.append(owner[kept])
        if not found_boxes:
            return _empty(self.device)
        boxes, scores, owner = torch.cat(found_boxes), torch.cat(found_scores), torch.cat(found_owner)
        kept = nms(boxes, scores, owner, settings.nms_pnet)
        return to_square(boxes[kept]), scores[kept], owner[kept]

    def _refine(self, batch: torch.Tensor, boxes: torch.Tensor, owner: torch.Tensor):
        if not len(boxes):
            return _empty(batch.device)
        offsets, scores = self.rnet(crop_and_resize(batch, boxes, owner, 24))
        chosen = scores > self.settings.thresholds[1]
        boxes, scores, owner = regress(boxes[chosen], offsets[chosen]), scores[chosen], owner[chosen]
        kept = nms(boxes, scores, owner, self.settings.nms_rnet)
        return to_square(boxes[kept]), scores[kept], owner[kept]

    def _output(self, batch: torch.Tensor, boxes: torch.Tensor, owner: torch.Tensor):
        if not len(boxes):
            return (*_empty(batch.device), boxes.new_zeros((0, 5, 2)))
        offsets, points, scores = self.onet(crop_and_resize(batch, boxes, owner, 48))
        # Landmarks are fractions of the box O-Net saw (before its own box regression).
        width = boxes[:, 2:3] - boxes[:, 0:1] + 1
        height = boxes[:, 3:4] - boxes[:, 1:2] + 1
        xs = width * points[:, :5] + boxes[:, 0:1] - 1
        ys = height * points[:, 5:] + boxes[:, 1:2] - 1
        landmarks = torch.stack([xs, ys], dim=2)
        chosen = scores > self.settings.thresholds[2]
        boxes, scores = regress(boxes[chosen], offsets[chosen]), scores[chosen]
        owner, landmarks = owner[chosen], landmarks[chosen]
        kept = nms(boxes, scores, owner, self.settings.nms_onet, method="min")
        return boxes[kept], scores[kept], owner[kept], landmarks[kept]

    @staticmethod
    def _per_image(images, boxes, scores, owner, landmarks) -> list[Faces]:
        boxes, scores = boxes.cpu().double().numpy(), scores.cpu().double().numpy()
        owner, landmarks = owner.cpu().numpy(), landmarks.cpu().double().numpy()
        result = []
        for index, image in enumerate(images):
            mine = np.flatnonzero(owner == index)  # best first: O-Net's NMS returns them ranked
            limits = [image.shape[1] - 1, image.shape[0] - 1] * 2
            clipped = np.clip(boxes[mine], 0, limits)
            result.append(Faces(clipped, scores[mine], landmarks[mine]))
        return result


def _empty(device: torch.device):
    return (torch.zeros((0, 4), device=device), torch.zeros(0, device=device),
            torch.zeros(0, dtype=torch.long, device=device))
