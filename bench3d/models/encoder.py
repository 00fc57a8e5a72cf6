"""The LiDAR encoder every method pretrains and every protocol evaluates.

Point clouds in, per-point features out: voxelise (keeping the point -> voxel inverse map), run the
sparse MinkUNet, copy voxel features back to every point. Methods and protocols only see this class.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import torch

from bench3d.models.backbone import Backbone, BackboneConfig, register_backbone
from bench3d.models.minkunet import MinkUNet, MinkUNetConfig
from bench3d.models.voxelize import VoxelConfig, voxelize_batch

log = logging.getLogger(__name__)

INTENSITY_SCALE = 255.0  # nuScenes intensities are 0..255


class EncoderConfig(BackboneConfig):
    """Settings of the sparse LiDAR UNet backbone (voxelisation, input features, MinkUNet preset)."""

    type_name = "lidar_minkunet"
    modality = "lidar"

    backbone: str = "tiny"  # MinkUNet preset
    voxel_size: float = 0.1
    coordinates: Literal["cartesian", "cylindrical"] = "cartesian"
    # SLidR feeds intensity only; xyz_intensity adds the (scaled) coordinates.
    in_features: Literal["intensity", "xyz_intensity"] = "intensity"
    backend: Literal["auto", "torch", "spconv"] = "auto"

    @classmethod
    def from_method_config(cls, config: dict[str, Any]) -> EncoderConfig:
        return cls(**{k: config[k] for k in cls.model_fields if k in config})

    @property
    def in_channels(self) -> int:
        return 1 if self.in_features == "intensity" else 4


class LidarEncoder(Backbone):
    """The LiDAR backbone: point clouds in, per-point features (N, out_channels) out."""

    modality = "lidar"
    config: EncoderConfig

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__(config)
        self.voxels = VoxelConfig(voxel_size=config.voxel_size, coordinates=config.coordinates)
        self.unet = MinkUNet(MinkUNetConfig.from_preset(config.backbone, in_channels=config.in_channels,
                                                        backend=config.backend))

    @property
    def out_channels(self) -> int:
        return self.unet.out_channels

    def point_features(self, cloud: torch.Tensor) -> torch.Tensor:
        intensity = cloud[:, 3:4] / INTENSITY_SCALE
        if self.config.in_features == "intensity":
            return intensity
        return torch.cat([cloud[:, :3] / 50.0, intensity], dim=1)

    def forward(self, clouds: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per-point features (N_i, out_channels) for each cloud (N_i, >=4: x, y, z, intensity)."""
        voxels = voxelize_batch([c[:, :3] for c in clouds], self.voxels,
                                features=[self.point_features(c) for c in clouds])
        feats = self.unet.forward_points(voxels)
        return list(torch.split(feats, [len(c) for c in clouds]))


register_backbone(LidarEncoder, EncoderConfig)
