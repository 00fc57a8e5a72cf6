"""Loading the per-frame files of a nuScenes release, with errors that name the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from bench3d.errors import DataError

PCD_BIN_VALUES = 5  # x, y, z, intensity, ring index (float32 each)


def load_pcd_bin(path: Path) -> np.ndarray:
    """LiDAR points (N, 4) float32 x, y, z, intensity in the sensor frame, as LidarPointCloud.from_file."""
    if not path.is_file():
        raise DataError(path, "LiDAR file is missing", "check the dataroot and that samples/ and sweeps/ are complete")
    raw = np.fromfile(path, dtype="<f4")
    if raw.size == 0 or raw.size % PCD_BIN_VALUES:
        raise DataError(
            path,
            f"size {raw.nbytes} bytes is not a positive multiple of {PCD_BIN_VALUES * 4} (x, y, z, intensity, ring as float32)",
            "the file is truncated or not a nuScenes .pcd.bin; re-extract or regenerate it",
        )
    return np.ascontiguousarray(raw.reshape(-1, PCD_BIN_VALUES)[:, :4])


def load_lidarseg(path: Path, num_points: int) -> np.ndarray:
    """Fine label per point (uint8), checked against the point count of its cloud."""
    if not path.is_file():
        raise DataError(path, "lidarseg label file is missing", "install nuScenes-lidarseg into the dataroot")
    labels = np.fromfile(path, dtype=np.uint8)
    if labels.size != num_points:
        raise DataError(path, f"holds {labels.size} labels but its point cloud has {num_points} points",
                        "labels and points must come from the same release")
    return labels


def load_image(path: Path) -> np.ndarray:
    """RGB image (H, W, 3) uint8."""
    if not path.is_file():
        raise DataError(path, "camera image is missing", "check that samples/CAM_* is complete")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(path, f"cannot be decoded as an image ({exc})") from exc
