"""MIM4D's voxel volume: the grid, the depth-weighted lift of multi-view features into it (UVTR style) and the
warp of one frame's volume into another frame by ego pose.

Layout: a volume is (B, C, nz, nx, ny) — x (forward) on the first horizontal axis, as the BEV grid's
(C, nx, ny) — so flattening z into channels gives the BEV map (B, C·nz, nx, ny) the temporal decoder works
on. Points are sampled with `F.grid_sample(align_corners=False)`, whose last coordinate axis runs (ny, nx, nz):
a voxel centre samples exactly its own value, which makes the identity warp the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class VoxelGrid:
    """Voxels over [x_min, x_max) x [y_min, y_max) x [z_min, z_max) in a frame's LiDAR coordinates."""

    x_min: float = -51.2
    x_max: float = 51.2
    y_min: float = -51.2
    y_max: float = 51.2
    z_min: float = -5.0
    z_max: float = 3.0
    nx: int = 64
    ny: int = 64
    nz: int = 4

    @property
    def voxel(self) -> tuple[float, float, float]:
        return ((self.x_max - self.x_min) / self.nx, (self.y_max - self.y_min) / self.ny,
                (self.z_max - self.z_min) / self.nz)

    def centres(self, device: torch.device | None = None) -> torch.Tensor:
        """(nz, nx, ny, 3) voxel centres, in the volume's layout."""
        dx, dy, dz = self.voxel
        x = self.x_min + (torch.arange(self.nx, device=device, dtype=torch.float64) + 0.5) * dx
        y = self.y_min + (torch.arange(self.ny, device=device, dtype=torch.float64) + 0.5) * dy
        z = self.z_min + (torch.arange(self.nz, device=device, dtype=torch.float64) + 0.5) * dz
        zz, xx, yy = torch.meshgrid(z, x, y, indexing="ij")
        return torch.stack([xx, yy, zz], dim=-1)

    def sampling_coords(self, xyz: torch.Tensor) -> torch.Tensor:
        """Points (..., 3) in metres -> grid_sample coordinates (..., 3) ordered (y, x, z), in [-1, 1] inside."""
        x = (xyz[..., 0] - self.x_min) / (self.x_max - self.x_min) * 2 - 1
        y = (xyz[..., 1] - self.y_min) / (self.y_max - self.y_min) * 2 - 1
        z = (xyz[..., 2] - self.z_min) / (self.z_max - self.z_min) * 2 - 1
        return torch.stack([y, x, z], dim=-1)


def sample_volume(volume: torch.Tensor, grid: VoxelGrid, xyz: torch.Tensor) -> torch.Tensor:
    """Trilinear features of `volume` (B, C, nz, nx, ny) at points `xyz` (B, P, 3) -> (B, P, C); zero outside."""
    coords = grid.sampling_coords(xyz).to(volume.dtype)[:, :, None, None]  # (B, P, 1, 1, 3)
    out = F.grid_sample(volume, coords, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[:, :, :, 0, 0].transpose(1, 2)


def warp_volume(volume: torch.Tensor, grid: VoxelGrid, src_from_dst: torch.Tensor) -> torch.Tensor:
    """A source frame's volume (B, C, nz, nx, ny) resampled on the destination frame's voxels.

    `src_from_dst` (B, 4, 4) maps destination-frame coordinates to source-frame ones (inv(L_src) @ L_dst for
    LiDAR-to-global poses L). Voxels that fall outside the source volume get zeros."""
    b = volume.shape[0]
    centres = grid.centres(volume.device).reshape(-1, 3)  # (P, 3) float64
    rot, trans = src_from_dst[:, :3, :3].double(), src_from_dst[:, :3, 3].double()
    src = torch.einsum("bij,pj->bpi", rot, centres) + trans[:, None]
    coords = grid.sampling_coords(src).to(volume.dtype).view(b, grid.nz, grid.nx, grid.ny, 3)
    return F.grid_sample(volume, coords, mode="bilinear", padding_mode="zeros", align_corners=False)


def voxel_projection(grid: VoxelGrid, intrinsics: torch.Tensor, cam_to_frame: torch.Tensor,
                     image_hw: tuple[int, int], depths: tuple[float, float, int]) -> torch.Tensor:
    """Where every voxel centre falls in each view's (u, v, depth-bin) volume: (V, nz, nx, ny, 3) grid_sample
    coordinates ordered (u, v, d) in [-1, 1]; voxels behind a camera are pushed outside (they sample zeros).

    `depths` = (d_min, d_max, bins): bin i is centred on d_min + (i + 0.5)(d_max - d_min) / bins."""
    centres = grid.centres(intrinsics.device)  # (nz, nx, ny, 3)
    frame_to_cam = torch.linalg.inv(cam_to_frame.double())  # (V, 4, 4)
    cam = torch.einsum("vij,zxyj->vzxyi", frame_to_cam[:, :3, :3], centres) + frame_to_cam[:, None, None, None, :3, 3]
    z = cam[..., 2]
    pix = torch.einsum("vij,vzxyj->vzxyi", intrinsics.double(), cam)
    safe = z.clamp_min(1e-3)
    u, v = pix[..., 0] / safe, pix[..., 1] / safe
    h, w = image_hw
    d_min, d_max, _ = depths
    coords = torch.stack([(u + 0.5) / w * 2 - 1, (v + 0.5) / h * 2 - 1, (z - d_min) / (d_max - d_min) * 2 - 1], -1)
    return torch.where((z > 1e-3)[..., None], coords, torch.full_like(coords, 2.0)).float()


class VoxelLift(nn.Module):
    """Image features (BV, C_in, h, w) -> per-view depth distribution x context, sampled at every voxel centre
    and summed over the views -> Conv3d -> a (B, C_out, nz, nx, ny) volume (UVTR's depth-weighted lift).
    GroupNorm, not BatchNorm: a frame's volume must not depend on the other frames in the batch (the temporal
    decoder's dropped frame must never reach its own prediction)."""

    def __init__(self, in_channels: int, context: int, bins: int, out_channels: int) -> None:
        super().__init__()
        self.context, self.bins = context, bins
        self.depthnet = nn.Conv2d(in_channels, bins + context, 1)
        self.out = nn.Sequential(nn.Conv3d(context, out_channels, 3, padding=1), nn.GroupNorm(1, out_channels),
                                 nn.ReLU(inplace=True))

    def forward(self, feats: torch.Tensor, projection: torch.Tensor, views: int) -> torch.Tensor:
        """`projection` (B·V, nz, nx, ny, 3) from `voxel_projection`; views: V (the batch is B·V / V)."""
        bv, _, h, w = feats.shape
        out = self.depthnet(feats)
        depth, context = out[:, : self.bins].softmax(dim=1), out[:, self.bins:]
        frustum = depth[:, None] * context[:, :, None]  # (BV, C, D, h, w)
        # grid_sample's 3-D coordinates run (W, H, D) = (u, v, depth bin).
        sampled = F.grid_sample(frustum, projection.to(frustum.dtype), mode="bilinear", padding_mode="zeros",
                                align_corners=False)  # (BV, C, nz, nx, ny)
        summed = sampled.view(bv // views, views, *sampled.shape[1:]).sum(dim=1)
        return self.out(summed)
