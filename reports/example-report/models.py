"""Three hand-made face descriptors, as `fverify lfw --model models.py:FUNCTION` takes them:
untrained and weak, but honest, so the example report compares real runs."""
import numpy as np


def _centred(features: np.ndarray) -> np.ndarray:
    features = features.reshape(len(features), -1).astype(np.float32)
    return features - features.mean(axis=1, keepdims=True)


def pixels_coarse(faces: np.ndarray) -> np.ndarray:
    """RGB pixels on a 14x14 grid (every 8th pixel of a 112x112 face)."""
    return _centred(faces[:, ::8, ::8, :])


def pixels_fine(faces: np.ndarray) -> np.ndarray:
    """RGB pixels on a 28x28 grid (every 4th pixel)."""
    return _centred(faces[:, ::4, ::4, :])


def gradients(faces: np.ndarray, cell: int = 8, bins: int = 8) -> np.ndarray:
    """Histograms of grey-level gradient orientation, weighted by magnitude, per 8x8 cell,
    each cell's histogram L2-normalised (a HOG-like descriptor without block overlap)."""
    grey = faces.astype(np.float32).mean(axis=3)
    gy, gx = np.gradient(grey, axis=(1, 2))
    orientation = ((np.arctan2(gy, gx) + np.pi) / (2 * np.pi) * bins).astype(int) % bins
    magnitude = np.hypot(gx, gy)
    n, h, w = grey.shape
    rows, cols = h // cell, w // cell
    histograms = np.zeros((n, rows, cols, bins), np.float32)
    for b in range(bins):
        weight = (magnitude * (orientation == b))[:, :rows * cell, :cols * cell]
        histograms[..., b] = weight.reshape(n, rows, cell, cols, cell).sum(axis=(2, 4))
    histograms /= np.linalg.norm(histograms, axis=3, keepdims=True) + 1e-6
    return _centred(histograms)
