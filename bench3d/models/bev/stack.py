"""Everything between a backbone and a BEV task's output layer, for any backbone: for a camera backbone, a
neck fusing its feature maps at 1/16, the LSS view transform and the BEV encoder; for a LiDAR backbone, the
BEV encoder over its point features pooled into the grid (the pooling is parameter-free and done with the
backbone's features, so a frozen probe caches it). Output: (B, C, nx, ny) in the LiDAR frame."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.bev.encoder import BevEncoder
from bench3d.models.bev.grid import BevGrid
from bench3d.models.bev.lss import LSSViewTransform


class Neck(nn.Module):
    """Feature maps at several strides -> one map at a given size (1x1 lateral convs, resize, sum, 3x3 conv)."""

    def __init__(self, channels: tuple[int, ...], out_channels: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, out_channels, 1) for c in channels])
        self.out = nn.Sequential(nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                                 nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, maps: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        fused = sum(F.interpolate(lat(m), size=size, mode="bilinear", align_corners=False)
                    if m.shape[-2:] != size else lat(m) for lat, m in zip(self.lateral, maps))
        return self.out(fused)


class BevStack(nn.Module):
    """Batched head inputs -> BEV features. Camera inputs: `maps` (per scale (B, V, C, h, w)), `cells`
    (B, V, D, h, w) frustum cells and optionally `depth` (B, V, D, h, w), an oracle depth distribution that
    replaces the predicted one; LiDAR inputs: `bev` (B, C, nx, ny) pooled point features."""

    def __init__(self, modality: str, in_channels: tuple[int, ...], grid: BevGrid, num_depth: int,
                 context_channels: int, bev_channels: int) -> None:
        super().__init__()
        self.modality, self.grid = modality, grid
        if modality == "camera":
            self.neck = Neck(in_channels, context_channels)
            self.view_transform = LSSViewTransform(context_channels, context_channels, num_depth, grid)
            bev_in = context_channels
        else:
            bev_in = in_channels[-1]
        self.bev = BevEncoder(bev_in, bev_channels, bev_channels)
        self.out_channels = bev_channels

    def forward(self, inputs: dict[str, Any]) -> torch.Tensor:
        if self.modality == "camera":
            maps = inputs["maps"]
            b, v = maps[0].shape[:2]
            size = tuple(inputs["cells"].shape[-2:])
            fused = self.neck([m.flatten(0, 1) for m in maps], size)
            bev = self.view_transform(fused.view(b, v, *fused.shape[1:]), inputs["cells"], inputs.get("depth"))
        else:
            bev = inputs["bev"]
        return self.bev(bev)
