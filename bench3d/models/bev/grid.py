"""The BEV grid: cells over x (forward) and y (left) in the LiDAR frame, a z range that is collapsed.

Cell (i, j) covers x in [x_min + i dx, x_min + (i + 1) dx) and y likewise; features are laid out
(C, nx, ny), x on the first spatial axis — the axis order of BEVFusion's map masks."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BevGrid:
    x_min: float = -51.2
    x_max: float = 51.2
    y_min: float = -51.2
    y_max: float = 51.2
    z_min: float = -5.0
    z_max: float = 3.0
    cell: float = 0.8

    @property
    def nx(self) -> int:
        return int(round((self.x_max - self.x_min) / self.cell))

    @property
    def ny(self) -> int:
        return int(round((self.y_max - self.y_min) / self.cell))

    def flat_index(self, xyz: torch.Tensor) -> torch.Tensor:
        """Flat cell index i * ny + j of points (..., 3); -1 outside the grid (x, y or z)."""
        i = torch.floor((xyz[..., 0] - self.x_min) / self.cell).long()
        j = torch.floor((xyz[..., 1] - self.y_min) / self.cell).long()
        inside = (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny) & (xyz[..., 2] >= self.z_min) & \
                 (xyz[..., 2] < self.z_max)
        return torch.where(inside, i * self.ny + j, torch.full_like(i, -1))


def pool_to_bev(values: torch.Tensor, index: torch.Tensor, cells: int, mean: bool = False) -> torch.Tensor:
    """Sum (or mean) of value rows (P, C) per flat cell index (P,) (rows with index -1 dropped) -> (cells, C).
    One vectorised index_add: no loop over points or cells."""
    keep = index >= 0
    values, index = values[keep], index[keep]
    out = values.new_zeros(cells, values.shape[1])
    out.index_add_(0, index, values)
    if mean:
        counts = torch.bincount(index, minlength=cells).clamp_min(1).to(values.dtype)
        out = out / counts[:, None]
    return out
