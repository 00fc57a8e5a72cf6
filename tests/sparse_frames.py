"""A LiDAR-like synthetic frame for the sparse backbone tests: a spinning multi-beam scanner ray-cast
against a ground plane, building facades on a ring and a few upright boxes (cars), so voxels have the
ring-and-surface occupancy of a real sweep rather than uniform noise."""

from __future__ import annotations

import math

import torch


def lidar_like_frame(num_beams: int = 32, num_azimuths: int = 625, seed: int = 0) -> torch.Tensor:
    """(num_beams * num_azimuths minus misses, 4) float32 points: x, y, z, intensity."""
    generator = torch.Generator().manual_seed(seed)
    elevation = torch.deg2rad(torch.linspace(-30.0, 10.0, num_beams))
    azimuth = torch.linspace(-math.pi, math.pi, num_azimuths + 1)[:-1]
    elev, azim = torch.meshgrid(elevation, azimuth, indexing="ij")
    direction = torch.stack(
        [torch.cos(elev) * torch.cos(azim), torch.cos(elev) * torch.sin(azim), torch.sin(elev)], dim=-1
    ).reshape(-1, 3)
    sensor_height = 1.8
    hit = torch.full((direction.shape[0],), math.inf)
    down = direction[:, 2] < -1e-3
    hit[down] = sensor_height / -direction[down, 2]  # ground plane z = -sensor_height
    # Facades: a wall ring whose radius changes per 30-degree sector.
    sector = ((azim.reshape(-1) + math.pi) / (math.pi / 6)).long().clamp(max=11)
    wall_radius = 15.0 + 25.0 * torch.rand(12, generator=generator)
    horizontal = direction[:, :2].norm(dim=1).clamp_min(1e-6)
    hit = torch.minimum(hit, wall_radius[sector] / horizontal)
    # Cars: vertical cylinders of radius 1 m standing on the ground.
    for _ in range(12):
        radius = 5.0 + 12.0 * float(torch.rand(1, generator=generator))
        angle = 2 * math.pi * float(torch.rand(1, generator=generator))
        centre = torch.tensor([radius * math.cos(angle), radius * math.sin(angle)])
        along = direction[:, :2] @ centre / horizontal**2
        closest = direction[:, :2] * along[:, None]
        miss = (closest - centre).norm(dim=1)
        distance = (along - torch.sqrt((1.0 - miss**2).clamp_min(0))) * 1.0
        height = direction[:, 2] * distance
        is_car = (miss < 1.0) & (distance > 0) & (height > -sensor_height) & (height < -sensor_height + 1.6)
        hit = torch.where(is_car, torch.minimum(hit, distance), hit)
    keep = torch.isfinite(hit) & (hit < 80.0)
    noise = 0.02 * torch.randn(int(keep.sum()), 3, generator=generator)
    xyz = direction[keep] * hit[keep, None] + noise
    intensity = torch.rand(xyz.shape[0], 1, generator=generator)
    return torch.cat([xyz, intensity], dim=1).float()
