"""MIM4D's per-image path from encoder maps to a frame volume: the non-learnable input mask, the FPN neck at
1/16 and the depth-weighted voxel lift. Every module normalises per sample (GroupNorm), so a frame's volume
depends on that frame's images only."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.mim4d.volume import VoxelLift


def input_mask(images: int, height: int, width: int, cell: int, ratio: float, rng: torch.Generator) -> torch.Tensor:
    """(N, 1, H, W) of 0 on `ratio` of each image's cell x cell squares (drawn per image), 1 elsewhere: the
    masked pixels are zeroed at the input, no learnable mask token (official mask_convnext.py)."""
    gh, gw = -(-height // cell), -(-width // cell)
    count = int(round(ratio * gh * gw))
    order = torch.argsort(torch.rand(images, gh * gw, generator=rng), dim=1)
    keep = torch.ones(images, gh * gw)
    keep.scatter_(1, order[:, :count], 0.0)
    keep = keep.view(images, 1, gh, gw).repeat_interleave(cell, 2).repeat_interleave(cell, 3)
    return keep[:, :, :height, :width]


class FPNNeck(nn.Module):
    """The 1/16 and 1/32 encoder maps -> one 1/16 map (lateral 1x1 convs, top-down sum, 3x3 output conv)."""

    def __init__(self, c16: int, c32: int, channels: int) -> None:
        super().__init__()
        self.lateral16 = nn.Conv2d(c16, channels, 1)
        self.lateral32 = nn.Conv2d(c32, channels, 1)
        self.out = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(1, channels), nn.GELU())

    def forward(self, m16: torch.Tensor, m32: torch.Tensor) -> torch.Tensor:
        top = F.interpolate(self.lateral32(m32), size=m16.shape[-2:], mode="nearest")
        return self.out(self.lateral16(m16) + top)


class FrameEncoder(nn.Module):
    """Encoder maps of B·V images + their voxel projections -> B frame volumes (B, C, nz, nx, ny)."""

    def __init__(self, c16: int, c32: int, neck: int, bins: int, context: int, out_channels: int) -> None:
        super().__init__()
        self.neck = FPNNeck(c16, c32, neck)
        self.lift = VoxelLift(neck, context, bins, out_channels)

    def forward(self, m16: torch.Tensor, m32: torch.Tensor, projection: torch.Tensor, views: int) -> torch.Tensor:
        return self.lift(self.neck(m16, m32), projection, views)
