"""ScaLR: point-to-pixel feature regression (research/methods.md §2.2).

Each 3D point feature, through a linear projection and L2 normalisation, regresses the normalised 2D
teacher feature at the pixel it projects to: mean squared L2 distance over all point-pixel pairs.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.methods.augment import augment_item
from bench3d.methods.base import MethodAdapter, PretrainContext
from bench3d.methods.distill import ImageLidarItem, prepare_image_lidar, teacher_targets
from bench3d.methods.registry import register


@register
class ScaLR(MethodAdapter):
    """Pretrains the `lidar` backbone by normalised point-to-pixel feature regression."""

    name = "scalr"

    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        return nn.ModuleDict({"projection": nn.Linear(backbones["lidar"].out_channels, ctx.teacher.dim)})

    def prepare(self, ctx: PretrainContext, sample_token: str) -> Any:
        return prepare_image_lidar(ctx, sample_token, self.config.max_points, self.config.max_image_size)

    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[ImageLidarItem], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        items = [augment_item(it, self.config.augmentations, rng)[0] for it in items]
        feats = backbones["lidar"]([it.points.to(ctx.device) for it in items])
        losses = []
        for item, f in zip(items, feats):
            if len(item.point_index) == 0:
                continue
            student = F.normalize(heads["projection"](f.index_select(0, item.point_index.to(ctx.device))), dim=1)
            target = teacher_targets(ctx, item)
            losses.append(((student - target) ** 2).sum(dim=1).mean())
        return {"regression": torch.stack(losses).mean()}
