"""CenterPoint targets and their decoding, on the BEV grid of the LiDAR frame.

Per class a heatmap with a Gaussian at each box centre's cell (radius from CornerNet's `gaussian_radius` of
the box footprint in cells at overlap 0.1, at least 2 cells), and at each centre cell ten regression values:
sub-cell offset (2), centre height (1), log size w, l, h (3), sin and cos of the yaw (2), velocity vx, vy (2).
Decoding takes 3x3 local maxima of the heatmap, the top K over classes and cells, and inverts the encoding:
`decode(encode(boxes))` returns the boxes (tested), which is what ladder rung (a) checks end to end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bench3d.models.bev.grid import BevGrid

REGRESSION = 10  # offset x, y; z; log w, l, h; sin, cos; vx, vy


def gaussian_radius(length: float, width: float, min_overlap: float = 0.1) -> float:
    """CornerNet's radius (in cells) within which a corner shift keeps IoU >= min_overlap (its three cases)."""
    h, w = length, width
    b1, c1 = h + w, w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2, c2 = 2 * (h + w), (1 - min_overlap) * w * h
    r2 = (b2 + math.sqrt(b2 ** 2 - 16 * c2)) / 2
    a3, b3, c3 = 4 * min_overlap, -2 * min_overlap * (h + w), (min_overlap - 1) * w * h
    r3 = (b3 + math.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def draw_gaussian(heatmap: np.ndarray, ix: int, iy: int, radius: int) -> None:
    """Max-paste a Gaussian (sigma = diameter / 6) centred on cell (ix, iy) of heatmap (nx, ny)."""
    diameter = 2 * radius + 1
    sigma = diameter / 6
    ys, xs = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    g = np.exp(-(xs * xs + ys * ys) / (2 * sigma * sigma))
    nx, ny = heatmap.shape
    x0, x1 = max(ix - radius, 0), min(ix + radius + 1, nx)
    y0, y1 = max(iy - radius, 0), min(iy + radius + 1, ny)
    patch = g[x0 - ix + radius:x1 - ix + radius, y0 - iy + radius:y1 - iy + radius]
    np.maximum(heatmap[x0:x1, y0:y1], patch, out=heatmap[x0:x1, y0:y1])


@dataclass
class CenterTargets:
    heatmap: torch.Tensor  # (K, nx, ny) float32
    regression: torch.Tensor  # (REGRESSION, nx, ny) float32, valid where mask
    mask: torch.Tensor  # (nx, ny) bool: box centre cells


def encode(grid: BevGrid, classes: np.ndarray, center: np.ndarray, size: np.ndarray, yaw: np.ndarray,
           velocity: np.ndarray, num_classes: int, min_radius: int = 2) -> CenterTargets:
    """Targets of boxes in the LiDAR frame (class index, centre (N, 3), size w, l, h (N, 3), yaw, velocity (N, 2))."""
    heat = np.zeros((num_classes, grid.nx, grid.ny), np.float32)
    reg = np.zeros((REGRESSION, grid.nx, grid.ny), np.float32)
    mask = np.zeros((grid.nx, grid.ny), bool)
    for k in range(len(classes)):
        cx, cy = (center[k, 0] - grid.x_min) / grid.cell, (center[k, 1] - grid.y_min) / grid.cell
        ix, iy = int(math.floor(cx)), int(math.floor(cy))
        if not (0 <= ix < grid.nx and 0 <= iy < grid.ny):
            continue
        w, length = size[k, 0] / grid.cell, size[k, 1] / grid.cell
        radius = max(min_radius, int(gaussian_radius(length, w)))
        draw_gaussian(heat[classes[k]], ix, iy, radius)
        v = np.nan_to_num(velocity[k], nan=0.0)
        reg[:, ix, iy] = [cx - ix, cy - iy, center[k, 2], *np.log(size[k]), math.sin(yaw[k]), math.cos(yaw[k]), *v]
        mask[ix, iy] = True
    return CenterTargets(torch.from_numpy(heat), torch.from_numpy(reg), torch.from_numpy(mask))


@dataclass
class Detections:
    """Decoded boxes of one frame in the LiDAR frame, best first."""

    score: np.ndarray  # (M,)
    label: np.ndarray  # (M,) class index
    center: np.ndarray  # (M, 3)
    size: np.ndarray  # (M, 3) w, l, h
    yaw: np.ndarray  # (M,)
    velocity: np.ndarray  # (M, 2)


def decode(grid: BevGrid, heat: torch.Tensor, reg: torch.Tensor, top_k: int = 500,
           score_threshold: float = 0.1) -> Detections:
    """Boxes from heatmap probabilities (K, nx, ny) and regression maps (REGRESSION, nx, ny)."""
    peaks = heat * (heat == F.max_pool2d(heat[None], 3, 1, 1)[0])
    scores, flat = peaks.reshape(-1).topk(min(top_k, peaks.numel()))
    keep = scores > score_threshold
    scores, flat = scores[keep], flat[keep]
    cells = grid.nx * grid.ny
    label, cell = flat // cells, flat % cells
    ix, iy = cell // grid.ny, cell % grid.ny
    r = reg[:, ix, iy].T.double()  # (M, REGRESSION)
    x = (ix.double() + r[:, 0]) * grid.cell + grid.x_min
    y = (iy.double() + r[:, 1]) * grid.cell + grid.y_min
    return Detections(scores.double().cpu().numpy(), label.cpu().numpy(),
                      torch.stack([x, y, r[:, 2]], 1).cpu().numpy(), r[:, 3:6].exp().cpu().numpy(),
                      torch.atan2(r[:, 6], r[:, 7]).cpu().numpy(), r[:, 8:10].cpu().numpy())
