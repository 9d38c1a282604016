"""Least-squares similarity transform between point sets (Umeyama 1991, "Least-squares
estimation of transformation parameters between two point patterns", IEEE TPAMI 13(4), eqs.
34-43): rotation, uniform scale and translation, never a reflection, all points weighted
equally (no RANSAC, so no landmark is ever dropped)."""
from __future__ import annotations

import numpy as np

from fverify.errors import FverifyError


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2x3 matrix ``M`` minimising ``sum |M @ [s, 1] - t|^2`` over similarities, for (n, 2)
    point arrays with n >= 2 and the source points not all equal."""
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 2 or len(source) < 2:
        raise FverifyError(f"similarity_transform needs two (n>=2, 2) point arrays, got "
                           f"{source.shape} and {target.shape}")
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centred, target_centred = source - source_mean, target - target_mean
    source_variance = (source_centred ** 2).sum() / len(source)
    if source_variance == 0:
        raise FverifyError("the source points all coincide; no similarity maps them")
    covariance = target_centred.T @ source_centred / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    # Eq. 39: flip the last axis when the best orthogonal map would be a reflection.
    sign = np.array([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ np.diag(sign) @ vt
    scale = (singular * sign).sum() / source_variance
    translation = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, translation[:, None]])
