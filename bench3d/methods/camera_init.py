"""Camera baselines without pretraining: the EfficientNet-Lite0 encoder with seeded random weights
(`random_camera`) or with the real ImageNet weights that ship inside a dependency (`imagenet`); and the
random init of GeoMIM's encoder, the no-shift Swin with absolute positions (`random_swin`), and of MIM4D's,
the ConvNeXt (`random_convnext`): the floors a pretrained row is compared to with the same architecture."""

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
from bench3d.models.camera.convnext import ConvNeXtConfig
from bench3d.models.camera.efficientnet_lite import EfficientNetLiteConfig
from bench3d.models.camera.swin import SwinConfig


class CameraInitConfig(Settings):
    """Which camera encoder and which weights it starts from (`swin`, `convnext`: random weights only)."""

    encoder: Literal["efficientnet_lite0", "swin", "convnext"] = "efficientnet_lite0"
    weights: Literal["random", "imagenet"]
    size: Literal["tiny", "paper"] = "tiny"  # swin, convnext: its size
    position_grid_for: tuple[int, int] = (96, 192)  # swin: the image size its position embedding is made for


class CameraInit(MethodAdapter):
    """No pretraining: `load_backbone("camera")` builds the encoder from its weights setting; random weights
    are seeded by the run's pretraining seed, as the LiDAR `random` baseline's are."""

    name = "camera_init"
    config_schema = CameraInitConfig  # type: ignore[assignment]
    uses_teacher = False

    @property
    def pretrain_seed_matters(self) -> bool:
        return self.config.weights == "random"  # packaged weights have nothing left to seed

    def backbone_configs(self) -> dict[str, BackboneConfig]:
        c = self.config
        if c.encoder != "efficientnet_lite0" and c.weights != "random":
            raise ConfigError(f"{self.card.source}: the {c.encoder} encoder has no packaged {c.weights} weights")
        if c.encoder == "convnext":
            return {"camera": ConvNeXtConfig(size=c.size)}
        if c.encoder == "swin":
            return {"camera": SwinConfig(size=c.size, absolute_position=True, position_grid_for=c.position_grid_for)}
        return {"camera": EfficientNetLiteConfig(weights=c.weights)}

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


@register
class RandomSwin(CameraInit):
    """GeoMIM's encoder architecture with seeded random weights."""

    name = "random_swin"


@register
class RandomConvNeXt(CameraInit):
    """MIM4D's encoder architecture (ConvNeXt) with seeded random weights."""

    name = "random_convnext"
