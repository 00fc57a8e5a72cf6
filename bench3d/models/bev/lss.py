"""Lift-Splat-Shoot view transform (Philion and Fidler, 2020), as BEVDet / BEVFusion use it.

Per view, a 1x1 conv predicts a categorical depth distribution over `depth` bins and `channels` context
features at each stride-s feature pixel; their outer product is a frustum of features, placed in the LiDAR
frame through the camera's intrinsics and camera-to-LiDAR transform and summed into BEV cells (z
collapsed) with one vectorised index_add. A pixel j of a stride-s map is centred on image pixel
(j + 0.5) s - 0.5, the convention the image intrinsics follow.
"""

from __future__ import annotations

import torch
from torch import nn

from bench3d.models.bev.grid import BevGrid, pool_to_bev


def depth_bins(d_min: float, d_max: float, step: float) -> torch.Tensor:
    """Bin centres: d_min, d_min + step, ..., < d_max."""
    return torch.arange(d_min, d_max, step)


def frustum_cells(grid: BevGrid, depths: torch.Tensor, intrinsics: torch.Tensor, cam_to_lidar: torch.Tensor,
                  feature_hw: tuple[int, int], stride: int) -> torch.Tensor:
    """Flat BEV cell of every frustum point: (V, D, h, w) int64, -1 outside the grid.

    intrinsics (V, 3, 3) and cam_to_lidar (V, 4, 4) of the images the features were computed from."""
    h, w = feature_hw
    device = intrinsics.device
    v = (torch.arange(h, device=device, dtype=torch.float64) + 0.5) * stride - 0.5
    u = (torch.arange(w, device=device, dtype=torch.float64) + 0.5) * stride - 0.5
    d = depths.to(device=device, dtype=torch.float64)
    dd, vv, uu = torch.meshgrid(d, v, u, indexing="ij")  # (D, h, w)
    pix = torch.stack([uu * dd, vv * dd, dd], dim=-1)  # homogeneous pixel times depth
    k_inv = torch.linalg.inv(intrinsics.double())  # (V, 3, 3)
    cam = torch.einsum("vij,dhwj->vdhwi", k_inv, pix)
    rot, trans = cam_to_lidar[:, :3, :3].double(), cam_to_lidar[:, :3, 3].double()
    lidar = torch.einsum("vij,vdhwj->vdhwi", rot, cam) + trans[:, None, None, None]
    return grid.flat_index(lidar)


class LSSViewTransform(nn.Module):
    """Image features (B, V, C_in, h, w) + frustum cells (B, V, D, h, w) -> BEV features (B, C, nx, ny)."""

    def __init__(self, in_channels: int, channels: int, num_depth: int, grid: BevGrid) -> None:
        super().__init__()
        self.channels, self.num_depth, self.grid = channels, num_depth, grid
        self.depthnet = nn.Conv2d(in_channels, num_depth + channels, 1)

    def forward(self, feats: torch.Tensor, cells: torch.Tensor, depth: torch.Tensor | None = None) -> torch.Tensor:
        """`depth` (B, V, D, h, w), when given, replaces the predicted distribution (the LiDAR-depth oracle)."""
        b, v = feats.shape[:2]
        predicted, context = self.lift(feats)
        if depth is not None:
            predicted = depth.reshape(predicted.shape).to(context.dtype)
        return self.splat(predicted.view(b, v, *predicted.shape[1:]), context.view(b, v, *context.shape[1:]), cells)

    def lift(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, V, C_in, h, w) -> depth distribution (BV, D, h, w) and context (BV, C, h, w)."""
        b, v, c_in, h, w = feats.shape
        out = self.depthnet(feats.reshape(b * v, c_in, h, w))
        return out[:, : self.num_depth].softmax(dim=1), out[:, self.num_depth:]

    def splat(self, depth: torch.Tensor, context: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
        """Depth (B, V, D, h, w) x context (B, V, C, h, w), pooled into the BEV cells (B, V, D, h, w)."""
        b, v, _, h, w = depth.shape
        volume = depth.unsqueeze(3) * context.unsqueeze(2)  # (B, V, D, C, h, w)
        volume = volume.permute(0, 1, 2, 4, 5, 3)
        cells_total = self.grid.nx * self.grid.ny
        offsets = (torch.arange(b, device=cells.device) * cells_total).view(b, 1, 1, 1, 1)
        index = torch.where(cells >= 0, cells + offsets, cells).reshape(-1)
        bev = pool_to_bev(volume.reshape(-1, self.channels), index, b * cells_total)
        return bev.view(b, self.grid.nx, self.grid.ny, self.channels).permute(0, 3, 1, 2).contiguous()


def naive_splat(volume: torch.Tensor, cells: torch.Tensor, cells_total: int) -> torch.Tensor:
    """The reference BEV pooling: a Python loop over frustum points (benchmarks and tests only)."""
    flat_v, flat_c = volume.reshape(-1, volume.shape[-1]), cells.reshape(-1)
    out = volume.new_zeros(cells_total, volume.shape[-1])
    for p in range(flat_c.numel()):
        if flat_c[p] >= 0:
            out[flat_c[p]] += flat_v[p]
    return out


def lidar_depth_onehot(points: torch.Tensor, intrinsics: torch.Tensor, cam_to_lidar: torch.Tensor,
                       image_hw: tuple[int, int], feature_hw: tuple[int, int], stride: int,
                       depths: torch.Tensor) -> torch.Tensor:
    """(V, D, h, w) one-hot of the depth bin of the nearest LiDAR point seen in each stride-s feature cell
    (z-depth along the optical axis, as LSS bins); all zeros where no point lands or its depth is off the
    bins. The oracle that replaces predicted depth on ladder rung (c)."""
    v_count, d_count = intrinsics.shape[0], len(depths)
    h, w = feature_hw
    step = float(depths[1] - depths[0]) if d_count > 1 else 1.0
    out = torch.zeros(v_count, d_count, h * w, dtype=torch.float32, device=points.device)
    xyz1 = torch.cat([points[:, :3].double(), torch.ones(len(points), 1, dtype=torch.float64, device=points.device)], 1)
    for view in range(v_count):
        cam = (torch.linalg.inv(cam_to_lidar[view].double()) @ xyz1.T)[:3]  # (3, N)
        z = cam[2]
        front = z > 1e-3
        uvw = intrinsics[view].double() @ cam[:, front]
        u, vv, z = uvw[0] / uvw[2], uvw[1] / uvw[2], z[front]
        inside = (u >= 0) & (u < image_hw[1]) & (vv >= 0) & (vv < image_hw[0])
        col = torch.clamp(((u[inside] + 0.5) / stride).floor().long(), 0, w - 1)
        row = torch.clamp(((vv[inside] + 0.5) / stride).floor().long(), 0, h - 1)
        nearest = torch.full((h * w,), float("inf"), dtype=torch.float64, device=points.device)
        nearest.scatter_reduce_(0, row * w + col, z[inside], reduce="amin")
        bins = torch.round((nearest - float(depths[0])) / step)
        valid = torch.isfinite(nearest) & (bins >= 0) & (bins < d_count)
        cells = torch.nonzero(valid).squeeze(1)
        out[view, bins[valid].long(), cells] = 1.0
    return out.view(v_count, d_count, h, w)
