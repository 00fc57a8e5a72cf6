"""Camera baselines without pretraining: the EfficientNet-Lite0 encoder with seeded random weights
(`random_camera`) or with the real ImageNet weights that ship inside a dependency (`imagenet`)."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from bench3d.errors import ConfigError
from bench3d.methods.base import MethodAdapter, PretrainContext
from bench3d.methods.config import Settings
from bench3d.methods.registry import register
from bench3d.models.backbone import BackboneConfig
import bench3d.models.camera  # noqa: F401  (registers every camera encoder)
from bench3d.models.camera.efficientnet_lite import EfficientNetLiteConfig


class CameraInitConfig(Settings):
    """Which camera encoder and which weights it starts from."""

    encoder: Literal["efficientnet_lite0"] = "efficientnet_lite0"
    weights: Literal["random", "imagenet"]


class CameraInit(MethodAdapter):
    """No pretraining: `load_backbone("camera")` builds the encoder from its weights setting; random weights
    are seeded by the run's pretraining seed, as the LiDAR `random` baseline's are."""

    name = "camera_init"
    config_schema = CameraInitConfig  # type: ignore[assignment]
    uses_teacher = False

    def backbone_configs(self) -> dict[str, BackboneConfig]:
        return {"camera": EfficientNetLiteConfig(weights=self.config.weights)}

    def prepare(self, ctx: PretrainContext, sample_token: str) -> Any:
        raise ConfigError(f"method {self.card.name!r} has no pretraining")

    def loss(self, backbones: nn.ModuleDict, heads: nn.Module, items: list[Any], ctx: PretrainContext,
             rng: torch.Generator) -> dict[str, torch.Tensor]:
        raise ConfigError(f"method {self.card.name!r} has no pretraining")


@register
class RandomCamera(CameraInit):
    """The camera encoder with seeded random weights: the camera floor."""

    name = "random_camera"


@register
class ImageNetCamera(CameraInit):
    """The camera encoder with real ImageNet-1k weights (EfficientNet-Lite0, packaged)."""

    name = "imagenet"
