"""The BEV segmentation head: the shared BEV stack (models/bev/stack.py), then a segmentation head whose
logits are resampled onto the map-mask grid, and its sigmoid focal loss."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.bev.grid import BevGrid
from bench3d.models.bev.stack import BevStack

TARGET_CELLS, TARGET_RANGE = 200, 50.0  # BEVFusion's map grid: +-50 m at 0.5 m


def target_sampling_grid(grid: BevGrid, device: torch.device) -> torch.Tensor:
    """(1, 200, 200, 2) grid_sample coordinates of the map-mask cell centres in the BEV feature grid."""
    centres = -TARGET_RANGE + (torch.arange(TARGET_CELLS, device=device, dtype=torch.float32) + 0.5) * \
        (2 * TARGET_RANGE / TARGET_CELLS)
    xn = (centres - grid.x_min) / (grid.x_max - grid.x_min) * 2 - 1  # along the feature H axis (x)
    yn = (centres - grid.y_min) / (grid.y_max - grid.y_min) * 2 - 1  # along the feature W axis (y)
    gx, gy = torch.meshgrid(xn, yn, indexing="ij")
    return torch.stack([gy, gx], dim=-1).unsqueeze(0)  # grid_sample wants (W coordinate, H coordinate)


class BevHead(nn.Module):
    """The shared BEV stack, then two 3x3 convs and a 1x1 to `num_outputs` logits per cell, resampled onto
    the map-mask grid."""

    def __init__(self, stack: BevStack, num_outputs: int) -> None:
        super().__init__()
        self.grid = stack.grid
        self.stack = stack
        c = stack.out_channels
        self.out = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                                 nn.Conv2d(c, num_outputs, 1))

    def forward(self, inputs: dict[str, Any]) -> torch.Tensor:
        """Logits (B, num_outputs, 200, 200) on the map-mask grid."""
        logits = self.out(self.stack(inputs))
        grid = target_sampling_grid(self.grid, logits.device).expand(len(logits), -1, -1, -1)
        return F.grid_sample(logits, grid, mode="bilinear", align_corners=False)


def sigmoid_focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Mean per-element sigmoid focal loss (Lin et al. 2017), as BEVFusion's map head."""
    t = target.float()
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss.mean()
