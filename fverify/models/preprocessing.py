"""The preprocessing contract a model expects: input size, colour order, mean and std.

It travels inside fverify checkpoints; for other model files it comes from flags
(``--input-size``, ``--color``, ``--mean``, ``--std``). The default is the HM paper's and
fverify's: RGB, ``(x - 127.5) / 128`` on uint8 pixels, 112x112 aligned faces.
(insightface's ``arcface_torch`` models were trained with ``(x - 127.5) / 127.5``, RGB:
pass ``--std 127.5`` to reproduce them exactly.)

This module does not import torch.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fverify.errors import FverifyError

COLOR_ORDERS = ("RGB", "BGR")
DEFAULT_INPUT_SIZE = (112, 112)
DEFAULT_MEAN = (127.5, 127.5, 127.5)
DEFAULT_STD = (128.0, 128.0, 128.0)


@dataclass(frozen=True)
class Preprocessing:
    """``model_input[c] = (pixel[c] - mean[c]) / std[c]`` on uint8 pixels in ``color`` order.

    ``input_size`` is (height, width) in pixels; ``mean`` and ``std`` are per channel, in
    the model's colour order, in uint8 pixel units.
    """

    input_size: tuple[int, int] = DEFAULT_INPUT_SIZE
    color: str = "RGB"
    mean: tuple[float, float, float] = DEFAULT_MEAN
    std: tuple[float, float, float] = DEFAULT_STD

    def __post_init__(self) -> None:
        if self.color not in COLOR_ORDERS:
            raise ValueError(f"color must be one of {COLOR_ORDERS}, not {self.color!r}")
        if len(self.input_size) != 2 or min(self.input_size) < 1:
            raise ValueError(f"input_size must be (height, width) > 0, not {self.input_size}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"mean and std need 3 values, std > 0 (got {self.mean}, {self.std})")

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint / RunResult fields: ``input_size``, ``color``, ``mean``, ``std``."""
        return {"input_size": list(self.input_size), "color": self.color,
                "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any], where: str) -> Preprocessing:
        """Read the fields of :meth:`to_dict` (``mean``/``std`` may be one number)."""
        try:
            return cls(
                input_size=_size(fields["input_size"]),
                color=str(fields["color"]),
                mean=_channels(fields["mean"]),
                std=_channels(fields["std"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise FverifyError(f"invalid preprocessing contract in checkpoint: {error}", where=where,
                               fix="re-save it with fverify.models.checkpoint.save_checkpoint") from None


@dataclass(frozen=True)
class PreprocessingFlags:
    """The user's explicit choices (None = not given); they override a model's own contract."""

    input_size: tuple[int, int] | None = None
    color: str | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None

    def apply(self, base: Preprocessing) -> Preprocessing:
        """``base`` with every given field replaced."""
        given = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        try:
            return dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})
        except ValueError as error:
            raise FverifyError(f"invalid preprocessing flags: {error}",
                               fix="see --color, --mean, --std, --input-size in --help") from None


def check_face_size(shape: tuple[int, ...], input_size: tuple[int, int], where: str) -> None:
    """An image must already be an aligned face of the model's input size; fverify does not
    resize (resizing an unaligned photo gives meaningless embeddings)."""
    if tuple(shape[:2]) != tuple(input_size):
        height, width = shape[:2]
        raise FverifyError(
            f"image is {width}x{height} pixels but the model takes {input_size[1]}x{input_size[0]} "
            "aligned faces",
            where=where,
            fix="use aligned, cropped faces of the model's input size (LFW/YTF as published are "
            "not aligned; face alignment arrives with `fverify align` in a later release)",
        )


def parse_channels(text: str) -> tuple[float, float, float]:
    """``"127.5"`` or ``"123.7,116.3,103.5"`` -> three per-channel values (argparse type)."""
    return _channels([float(part) for part in text.split(",")])


def parse_input_size(text: str) -> tuple[int, int]:
    """``"112"`` or ``"112x96"`` (height x width) -> (height, width) (argparse type)."""
    parts = [int(part) for part in text.lower().split("x")]
    return _size(parts * 2 if len(parts) == 1 else parts)


def _channels(value: float | Sequence[float]) -> tuple[float, float, float]:
    values = [float(value)] * 3 if isinstance(value, (int, float)) else [float(v) for v in value]
    if len(values) == 1:
        values *= 3
    if len(values) != 3:
        raise ValueError(f"expected 1 or 3 values, got {len(values)}")
    return (values[0], values[1], values[2])


def _size(value: Sequence[int]) -> tuple[int, int]:
    height, width = (int(v) for v in value)
    if height < 1 or width < 1:
        raise ValueError(f"input size must be positive, got {height}x{width}")
    return (height, width)
