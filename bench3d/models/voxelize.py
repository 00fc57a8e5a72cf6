"""Points -> unique integer voxels with mean features, and the point -> voxel map back.

Cartesian voxels: coord = floor(xyz / voxel_size). Cylindrical voxels (SLidR, SuperFlow):
coord = floor((rho / size_rho, phi_deg / size_phi_deg, z / size_z)) with rho = |(x, y)| and
phi = atan2(y, x) in degrees. Voxels are sorted lexicographically by (batch, i, j, k), so the
output does not depend on the order of the input points (up to float summation order of the means).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bench3d.models.sparse import keys as keymod

CoordinateSystem = Literal["cartesian", "cylindrical"]


class VoxelConfig(BaseModel):
    """How points become voxels. `voxel_size` is metres (x, y, z), or (rho m, phi degrees, z m)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    voxel_size: tuple[float, float, float] = Field(default=(0.1, 0.1, 0.1))
    coordinates: CoordinateSystem = "cartesian"

    @field_validator("voxel_size", mode="before")
    @classmethod
    def _expand_scalar(cls, value: object) -> object:
        return (value, value, value) if isinstance(value, (int, float)) else value

    @field_validator("voxel_size")
    @classmethod
    def _positive(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not all(v > 0 and math.isfinite(v) for v in value):
            raise ValueError(f"every voxel size must be a positive number, got {value}")
        return value

    @classmethod
    def cylindrical(cls, rho: float = 0.1, phi_degrees: float = 1.0, z: float = 0.1) -> VoxelConfig:
        """SLidR's cylindrical grid (rho 0.1 m, 1 degree, z 0.1 m by default)."""
        return cls(voxel_size=(rho, phi_degrees, z), coordinates="cylindrical")


@dataclass(frozen=True)
class Voxels:
    """Unique voxels of one batch of point clouds."""

    coords: torch.Tensor  # (M, 4) int64 (batch, i, j, k), sorted lexicographically
    features: torch.Tensor  # (M, C) float mean of the features of the points inside each voxel
    point_to_voxel: torch.Tensor  # (N,) int64 voxel row of every input point
    num_points: torch.Tensor  # (M,) int64 points per voxel

    def to_points(self, voxel_values: torch.Tensor) -> torch.Tensor:
        """Copy per-voxel values (M, ...) back to every point (N, ...)."""
        return voxel_values.index_select(0, self.point_to_voxel)


def grid_coordinates(xyz: torch.Tensor, config: VoxelConfig) -> torch.Tensor:
    """Continuous grid coordinates (N, 3) whose floor is the voxel index."""
    if config.coordinates == "cylindrical":
        rho = torch.hypot(xyz[:, 0], xyz[:, 1])
        phi_degrees = torch.rad2deg(torch.atan2(xyz[:, 1], xyz[:, 0]))
        xyz = torch.stack([rho, phi_degrees, xyz[:, 2]], dim=1)
    size = torch.tensor(config.voxel_size, dtype=xyz.dtype, device=xyz.device)
    return xyz / size


def voxelize(
    points: torch.Tensor | np.ndarray,
    config: VoxelConfig,
    features: torch.Tensor | np.ndarray | None = None,
    batch_index: torch.Tensor | np.ndarray | None = None,
) -> Voxels:
    """Voxelise points (N, >=3; x, y, z first).

    features: (N, C) per-point features averaged per voxel; default: all columns of `points`.
    batch_index: (N,) which cloud of the batch each point belongs to; default: all 0.
    """
    points = torch.as_tensor(points)
    if points.dim() != 2 or points.shape[1] < 3:
        raise ValueError(f"points must be (N, >=3) with x, y, z first, got shape {tuple(points.shape)}")
    features = points if features is None else torch.as_tensor(features, device=points.device)
    if features.dim() == 1:
        features = features[:, None]
    if features.shape[0] != points.shape[0]:
        raise ValueError(f"features have {features.shape[0]} rows for {points.shape[0]} points")
    if batch_index is None:
        batch = torch.zeros(points.shape[0], dtype=torch.int64, device=points.device)
    else:
        batch = torch.as_tensor(batch_index, device=points.device).to(torch.int64)
    # float64 for the division: float32 xyz / 0.1 can round a point into the neighbouring voxel.
    grid = torch.floor(grid_coordinates(points[:, :3].to(torch.float64), config)).to(torch.int64)
    point_coords = torch.cat([batch[:, None], grid], dim=1)
    keymod.check_coords(point_coords)
    voxel_keys, point_to_voxel, num_points = torch.unique(
        keymod.encode(point_coords), sorted=True, return_inverse=True, return_counts=True
    )
    feature_sums = torch.zeros(
        voxel_keys.numel(), features.shape[1], dtype=torch.float64, device=points.device
    ).index_add_(0, point_to_voxel, features.to(torch.float64))
    mean_features = (feature_sums / num_points[:, None]).to(
        features.dtype if features.dtype.is_floating_point else torch.float32
    )
    return Voxels(keymod.decode(voxel_keys), mean_features, point_to_voxel, num_points)


def voxelize_batch(
    clouds: list[torch.Tensor | np.ndarray],
    config: VoxelConfig,
    features: list[torch.Tensor | np.ndarray] | None = None,
) -> Voxels:
    """Voxelise several point clouds as one batch (batch index = position in the list)."""
    tensors = [torch.as_tensor(cloud) for cloud in clouds]
    batch_index = torch.cat([torch.full((t.shape[0],), i, dtype=torch.int64) for i, t in enumerate(tensors)])
    joined_features = None if features is None else torch.cat([torch.as_tensor(f) for f in features])
    return voxelize(torch.cat(tensors), config, features=joined_features, batch_index=batch_index)
