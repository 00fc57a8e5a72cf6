"""Loading the per-frame files of a nuScenes release, with errors that name the file and the problem."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
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


_POOL: tuple[int, ThreadPoolExecutor] | None = None


def decode_pool() -> ThreadPoolExecutor:
    """This process's image-decoding threads (one per core, at most six: a frame's cameras). Made anew in a
    forked DataLoader worker, whose parent's threads do not exist."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=max(1, min(6, os.cpu_count() or 1)),
                                                 thread_name_prefix="bench3d-decode"))
    return _POOL[1]


def load_image(path: Path, max_size: tuple[int, int] | None = None, data: bytes | None = None
               ) -> tuple[np.ndarray, float, float]:
    """RGB image (H, W, 3) uint8 and the (x, y) scale from file pixels to returned pixels. With `data`, the
    encoded image comes from those bytes (a Parquet cell, say) and `path` only names it in errors.

    With `max_size` (H, W), an image larger in either side is returned at exactly that size: a JPEG is
    decoded in draft mode at the smallest 1/2, 1/4 or 1/8 scale that still covers it (libjpeg's DCT scaling:
    almost free, against a full decode then a resize), then resized the rest of the way. A smaller image is
    returned as it is. `scale_intrinsic` keeps a camera matrix consistent with the returned pixels."""
    if data is None and not path.is_file():
        raise DataError(path, "camera image is missing", "check that samples/CAM_* is complete")
    try:
        with Image.open(path if data is None else io.BytesIO(data)) as im:
            width, height = im.size
            if max_size is None or (height <= max_size[0] and width <= max_size[1]):
                return np.asarray(im.convert("RGB")), 1.0, 1.0
            h, w = max_size
            im.draft("RGB", (w, h))  # JPEG: decode at 1/2^k while both sides stay >= the target
            # A DCT-scaled pixel j covers file pixels [j*d, (j+1)*d): its scale is exactly 1/d (the last
            # row or column may be partial), not the ratio of the sizes.
            drafted = im.size
            dx, dy = round(width / drafted[0]), round(height / drafted[1])
            rgb = im.convert("RGB")
            sx, sy = 1.0 / dx, 1.0 / dy
            if rgb.size != (w, h):
                sx, sy = sx * w / rgb.size[0], sy * h / rgb.size[1]
                rgb = rgb.resize((w, h), Image.BILINEAR, reducing_gap=None)
            return np.asarray(rgb), sx, sy
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(path, f"cannot be decoded as an image ({exc})") from exc


def scale_intrinsic(intrinsic: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """The camera matrix of an image rescaled by (sx, sy) with pixel centres kept: u' + 0.5 = (u + 0.5) * sx,
    so fx' = fx * sx and cx' = (cx + 0.5) * sx - 0.5 (and the same in y)."""
    if sx == 1.0 and sy == 1.0:
        return intrinsic
    k = np.array(intrinsic, dtype=np.float64, copy=True)
    k[0, 0], k[0, 1], k[0, 2] = k[0, 0] * sx, k[0, 1] * sx, (k[0, 2] + 0.5) * sx - 0.5
    k[1, 1], k[1, 2] = k[1, 1] * sy, (k[1, 2] + 0.5) * sy - 0.5
    return k
