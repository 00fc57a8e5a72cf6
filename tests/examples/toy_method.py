"""Example method (docs/architecture.md, "Add a method"): pretrain the LiDAR backbone to regress each
point's height above the sensor from its own features — a self-supervised pretext task with no teacher."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import Field
from torch import nn

from bench3d.methods import MethodAdapter, PretrainContext
from bench3d.methods.config import PretrainingConfig
from bench3d.methods.registry import register


class HeightConfig(PretrainingConfig):
    max_height: float = Field(5.0, gt=0)  # heights are clipped to +-max_height metres, then scaled to [-1, 1]


@register
class HeightPretext(MethodAdapter):
    """Pretrains the `lidar` backbone (the base class's default backbone) with an L1 height regression."""

    name = "toy_height"
    config_schema = HeightConfig
    uses_teacher = False

    def build_heads(self, backbones: nn.ModuleDict, ctx: PretrainContext) -> nn.Module:
        return nn.ModuleDict({"height": nn.Linear(backbones["lidar"].out_channels, 1)})

    def prepare(self, ctx: PretrainContext, sample_token: str) -> torch.Tensor:
        points = ctx.reader.frame(sample_token, cameras=None, boxes=False).points[:, :4]
        if self.config.max_points and len(points) > self.config.max_points:
            keep = np.random.default_rng(ctx.seed).choice(len(points), self.config.max_points, replace=False)
            points = points[np.sort(keep)]
        return torch.from_numpy(np.ascontiguousarray(points))

    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[Any], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        # The backbone sees intensity only (in_features: intensity), so height is not an input it can copy.
        feats = backbones["lidar"]([p.to(ctx.device) for p in items])
        h = self.config.max_height
        target = torch.cat([p[:, 2].clamp(-h, h) / h for p in items]).to(ctx.device)
        pred = heads["height"](torch.cat(feats))[:, 0]
        return {"height_l1": (pred - target).abs().mean()}
