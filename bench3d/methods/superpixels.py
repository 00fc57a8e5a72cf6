"""SLIC superpixels of camera images, as SLidR computes them (scikit-image)."""

from __future__ import annotations

import numpy as np
from skimage.segmentation import slic

SLIDR_SLIC = {"n_segments": 150, "compactness": 6.0, "sigma": 3.0}


def slic_superpixels(image: np.ndarray, n_segments: int = 150, compactness: float = 6.0,
                     sigma: float = 3.0) -> np.ndarray:
    """(H, W) int64 superpixel ids from 0 for an RGB uint8 image (SLidR: n=150, compactness 6, sigma 3)."""
    return slic(image, n_segments=n_segments, compactness=compactness, sigma=sigma, start_label=0,
                channel_axis=-1).astype(np.int64)
