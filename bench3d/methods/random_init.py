"""Random initialisation: the backbone with seeded random weights and no pretraining."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from bench3d.errors import ConfigError
from bench3d.methods.base import MethodAdapter, PretrainContext
from bench3d.methods.config import LidarMethodConfig
from bench3d.methods.registry import register


@register
class RandomInit(MethodAdapter):
    """No pretraining: `load_backbone` gives the LiDAR backbone with weights seeded by the pretraining seed."""

    name = "random"
    config_schema = LidarMethodConfig
    uses_teacher = False

    def prepare(self, ctx: PretrainContext, sample_token: str) -> Any:
        raise ConfigError("method 'random' has no pretraining")

    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[Any], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        raise ConfigError("method 'random' has no pretraining")
