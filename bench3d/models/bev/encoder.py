"""A small BEV encoder: residual conv stages at strides 1, 2 and 4 of the BEV grid, fused back to stride 1
by an FPN (upsample, concatenate, conv), as BEVFusion's SECOND + SECONDFPN in miniature."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class BevEncoder(nn.Module):
    def __init__(self, in_channels: int, channels: int = 64, out_channels: int = 64) -> None:
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(_conv(in_channels, channels), _conv(channels, channels)),
            nn.Sequential(_conv(channels, 2 * channels, 2), _conv(2 * channels, 2 * channels)),
            nn.Sequential(_conv(2 * channels, 4 * channels, 2), _conv(4 * channels, 4 * channels)),
        ])
        self.lateral = nn.ModuleList([nn.Conv2d(c, out_channels, 1) for c in (channels, 2 * channels, 4 * channels)])
        self.fuse = _conv(3 * out_channels, out_channels)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        size = maps[0].shape[-2:]
        up = [F.interpolate(lat(m), size=size, mode="bilinear", align_corners=False) if i else lat(m)
              for i, (lat, m) in enumerate(zip(self.lateral, maps))]
        return self.fuse(torch.cat(up, dim=1))
