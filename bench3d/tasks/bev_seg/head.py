"""What trains on top of a backbone for BEV tasks: for a camera backbone, a neck fusing its feature maps at
1/16, the LSS view transform, the BEV encoder; for a LiDAR backbone, the BEV encoder over point features
pooled into the grid. Then a segmentation head whose logits are resampled onto the map-mask grid."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.bev.encoder import BevEncoder
from bench3d.models.bev.grid import BevGrid
from bench3d.models.bev.lss import LSSViewTransform

TARGET_CELLS, TARGET_RANGE = 200, 50.0  # BEVFusion's map grid: +-50 m at 0.5 m


class Neck(nn.Module):
    """Feature maps at several strides -> one map at the stride-16 map's size (1x1 lateral convs, resize,
    sum, 3x3 conv)."""

    def __init__(self, channels: tuple[int, ...], out_channels: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, out_channels, 1) for c in channels])
        self.out = nn.Sequential(nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                                 nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, maps: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        fused = sum(F.interpolate(lat(m), size=size, mode="bilinear", align_corners=False)
                    if m.shape[-2:] != size else lat(m) for lat, m in zip(self.lateral, maps))
        return self.out(fused)


def target_sampling_grid(grid: BevGrid, device: torch.device) -> torch.Tensor:
    """(1, 200, 200, 2) grid_sample coordinates of the map-mask cell centres in the BEV feature grid."""
    centres = -TARGET_RANGE + (torch.arange(TARGET_CELLS, device=device, dtype=torch.float32) + 0.5) * \
        (2 * TARGET_RANGE / TARGET_CELLS)
    xn = (centres - grid.x_min) / (grid.x_max - grid.x_min) * 2 - 1  # along the feature H axis (x)
    yn = (centres - grid.y_min) / (grid.y_max - grid.y_min) * 2 - 1  # along the feature W axis (y)
    gx, gy = torch.meshgrid(xn, yn, indexing="ij")
    return torch.stack([gy, gx], dim=-1).unsqueeze(0)  # grid_sample wants (W coordinate, H coordinate)


class BevHead(nn.Module):
    """Everything downstream of the backbone for a BEV task with `num_outputs` output channels per cell."""

    def __init__(self, modality: str, in_channels: tuple[int, ...], grid: BevGrid, num_depth: int,
                 context_channels: int, bev_channels: int, num_outputs: int) -> None:
        super().__init__()
        self.modality, self.grid = modality, grid
        if modality == "camera":
            self.neck = Neck(in_channels, context_channels)
            self.view_transform = LSSViewTransform(context_channels, context_channels, num_depth, grid)
            bev_in = context_channels
        else:
            bev_in = in_channels[-1]
        self.bev = BevEncoder(bev_in, bev_channels, bev_channels)
        self.out = nn.Sequential(nn.Conv2d(bev_channels, bev_channels, 3, padding=1, bias=False),
                                 nn.BatchNorm2d(bev_channels), nn.ReLU(inplace=True),
                                 nn.Conv2d(bev_channels, num_outputs, 1))

    def bev_features(self, inputs: dict[str, torch.Tensor | list[torch.Tensor]]) -> torch.Tensor:
        if self.modality == "camera":
            maps = inputs["maps"]  # per scale (B, V, C, h, w)
            b, v = maps[0].shape[:2]
            size = tuple(inputs["cells"].shape[-2:])
            fused = self.neck([m.flatten(0, 1) for m in maps], size)
            return self.view_transform(fused.view(b, v, *fused.shape[1:]), inputs["cells"])
        return inputs["bev"]

    def forward(self, inputs: dict[str, torch.Tensor | list[torch.Tensor]]) -> torch.Tensor:
        """Logits (B, num_outputs, 200, 200) on the map-mask grid."""
        logits = self.out(self.bev(self.bev_features(inputs)))
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
