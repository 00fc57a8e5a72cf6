"""Waymo range images <-> points, as the official `range_image_utils.py` / `v2/perception/utils/lidar_utils.py`
compute them (research/metrics-and-formats.md §3), in numpy.

Rows are beams, highest first: the inclinations are `beam_inclination.values` when given, else uniform
incl_i = min + (i + 0.5) / H · (max - min), and the vector is then reversed. Columns are azimuths,
az_j = ((W - j - 0.5) / W · 2 - 1) · π - az_corr with az_corr = atan2(E[1, 0], E[0, 0]) of the laser's extrinsic E
(laser -> vehicle), so the columns sweep from +π to -π in the vehicle frame. A pixel of range r > 0 is the
point r · (cos az cos incl, sin az cos incl, sin incl) in the laser frame, taken to the vehicle frame by E.
"""

from __future__ import annotations

import numpy as np


def inclinations(height: int, minimum: float, maximum: float, values: np.ndarray | None = None) -> np.ndarray:
    """(H,) beam inclinations of rows 0..H-1, row 0 the highest beam (radians)."""
    if values is not None and len(values):
        incl = np.asarray(values, dtype=np.float64)
        if len(incl) != height:
            raise ValueError(f"{len(incl)} beam inclinations for a range image of {height} rows")
    else:
        incl = minimum + (np.arange(height) + 0.5) / height * (maximum - minimum)
    return incl[::-1].copy()


def azimuths(width: int, extrinsic: np.ndarray) -> np.ndarray:
    """(W,) azimuth of each column in the laser frame (radians)."""
    az_corr = np.arctan2(extrinsic[1, 0], extrinsic[0, 0])
    return ((width - np.arange(width) - 0.5) / width * 2 - 1) * np.pi - az_corr


def range_image_to_points(range_image: np.ndarray, extrinsic: np.ndarray, incl: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 3) in the vehicle frame of the pixels with range > 0, row-major, and their (row, col)
    indices (N, 2) — the order in which labels of the same pixels are read."""
    h, w = range_image.shape[:2]
    rng = range_image[..., 0] if range_image.ndim == 3 else range_image
    az = azimuths(w, extrinsic)
    cos_i, sin_i = np.cos(incl)[:, None], np.sin(incl)[:, None]
    x = rng * cos_i * np.cos(az)[None, :]
    y = rng * cos_i * np.sin(az)[None, :]
    z = rng * sin_i * np.ones((1, w))
    rows, cols = np.nonzero(rng > 0)
    laser = np.stack([x[rows, cols], y[rows, cols], z[rows, cols]], axis=1)
    vehicle = laser @ extrinsic[:3, :3].T + extrinsic[:3, 3]
    return vehicle, np.stack([rows, cols], axis=1)


def pixel_of_direction(directions: np.ndarray, extrinsic: np.ndarray, incl: np.ndarray, width: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the pixel whose ray is nearest to each laser-frame unit direction (N, 3): the writer's
    inverse of `range_image_to_points` for rays cast on the range image's own grid."""
    az = np.arctan2(directions[:, 1], directions[:, 0])
    az_corr = np.arctan2(extrinsic[1, 0], extrinsic[0, 0])
    # az = ((W - j - 0.5) / W * 2 - 1) * pi - az_corr  =>  j = W - 0.5 - (az + az_corr + pi) * W / (2 pi)
    j = width - 0.5 - ((az + az_corr + np.pi) % (2 * np.pi)) * width / (2 * np.pi)
    col = np.mod(np.rint(j).astype(np.int64), width)
    elevation = np.arcsin(np.clip(directions[:, 2], -1.0, 1.0))
    row = np.abs(elevation[:, None] - incl[None, :]).argmin(axis=1)
    return row, col
