"""GeoMIM's view transform to the teacher's BEV: a depth net on the concatenated geometry and semantic
decoder features (geometry first), LSS into a grid twice as fine as the teacher's, a stride-2 conv stack down
to the teacher's grid and a 1x1 projection to the teacher's channels (official: 360^2 -> 180^2, 80 -> 256)."""

from __future__ import annotations

import torch
from torch import nn

from bench3d.models.bev.grid import BevGrid
from bench3d.models.bev.lss import LSSViewTransform


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class GeoMIMLift(nn.Module):
    """Decoder features (B, V, C_in, h, w) + frustum cells of the fine grid -> depth (BV, D, h, w) and the
    predicted teacher BEV (B, C_teacher, nx / 2, ny / 2)."""

    def __init__(self, in_channels: int, num_depth: int, context_channels: int, fine_grid: BevGrid,
                 teacher_channels: int) -> None:
        super().__init__()
        self.depth_convs = nn.Sequential(conv_bn_relu(in_channels, in_channels), conv_bn_relu(in_channels, in_channels))
        self.lss = LSSViewTransform(in_channels, context_channels, num_depth, fine_grid)
        self.down = nn.Sequential(conv_bn_relu(context_channels, context_channels, stride=2),
                                  conv_bn_relu(context_channels, context_channels))
        self.predict = nn.Conv2d(context_channels, teacher_channels, 1)

    def forward(self, feats: torch.Tensor, cells: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, v, c, h, w = feats.shape
        x = self.depth_convs(feats.reshape(b * v, c, h, w)).view(b, v, c, h, w)
        depth, context = self.lss.lift(x)
        bev = self.lss.splat(depth.view(b, v, *depth.shape[1:]), context.view(b, v, *context.shape[1:]), cells)
        return depth, self.predict(self.down(bev))
