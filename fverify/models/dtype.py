"""The numeric type a model runs in: a recorded setting, ``auto`` resolved per device.

This module does not import torch (the CLI lists the names).
"""
from __future__ import annotations

from fverify.errors import FverifyError

DTYPE_NAMES = ("float32", "bfloat16", "float16")  # torch dtype names; non-float32 = autocast


def resolve_dtype(dtype: str, device_type: str) -> str:
    """``auto`` -> float32 on CPU, float16 autocast (AMP) on CUDA; explicit names are kept.

    CPU: bf16 autocast is faster on CPUs with native bf16 but failed the precision proof
    (``fverify bench precision``; the measured figures are in the README), so it is opt-in.
    CUDA: float32 convolutions there already take TF32 inputs (10-bit mantissa, torch's cuDNN
    default), the mantissa of float16, so AMP mainly changes the speed (not yet measured by the
    proof on a GPU).
    """
    if dtype == "auto":
        return "float16" if device_type == "cuda" else "float32"
    if dtype not in DTYPE_NAMES:
        raise FverifyError(f"unknown dtype {dtype!r}", fix=f"use auto or one of: {', '.join(DTYPE_NAMES)}")
    return dtype
