"""The LiDAR encoder every method pretrains and every protocol evaluates.

Point clouds in, per-point features out: voxelise (keeping the point -> voxel inverse map), run the
sparse MinkUNet, copy voxel features back to every point. Methods and protocols only see this class.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import torch
from pydantic import field_validator, model_validator

from bench3d.models.backbone import Backbone, BackboneConfig, register_backbone
from bench3d.models.minkunet import MinkUNet, MinkUNetConfig
from bench3d.models.voxelize import VoxelConfig, voxelize_batch

log = logging.getLogger(__name__)

INTENSITY_SCALE = 255.0  # nuScenes intensities are 0..255
XYZ_SCALE = 50.0  # metres: coordinates enter as x / 50 m

#: What `LidarEncoder.point_features` computes per point for each `in_features` (voxels average them).
INPUT_FEATURES: dict[str, str] = {
    "intensity": f"[intensity / {INTENSITY_SCALE:g}]",
    "xyz_intensity": f"[x, y, z / {XYZ_SCALE:g} m, intensity / {INTENSITY_SCALE:g}]",
    "xyz_intensity_radius": f"[x, y, z / {XYZ_SCALE:g} m, intensity / {INTENSITY_SCALE:g}, "
                            f"hypot(x, y) / {XYZ_SCALE:g} m]",
}


class EncoderConfig(BackboneConfig):
    """Settings of the sparse LiDAR UNet backbone (voxelisation, input features, MinkUNet preset)."""

    type_name = "lidar_minkunet"
    modality = "lidar"

    backbone: str = "tiny"  # MinkUNet preset
    # One size for every axis, or per axis: cartesian (x m, y m, z m); cylindrical (rho m, phi degrees, z m),
    # so SLidR's grid is `coordinates: cylindrical, voxel_size: [0.1, 1.0, 0.1]` (a single 0.1 would be 0.1 deg).
    voxel_size: float | list[float] = 0.1
    coordinates: Literal["cartesian", "cylindrical"] = "cartesian"
    # SLidR feeds intensity only; xyz_intensity adds the (scaled) coordinates (SuperFlow, LiMA's family);
    # xyz_intensity_radius also the horizontal range (ScaLR's WaffleIron input).
    in_features: Literal["intensity", "xyz_intensity", "xyz_intensity_radius"] = "intensity"
    backend: Literal["auto", "torch", "spconv"] = "auto"

    @classmethod
    def from_method_config(cls, config: dict[str, Any]) -> EncoderConfig:
        return cls(**{k: config[k] for k in cls.model_fields if k in config})

    @field_validator("voxel_size")
    @classmethod
    def _three_positive_sizes(cls, value: float | list[float]) -> float | list[float]:
        one = isinstance(value, (int, float))
        sizes = [value] if one else value
        if (not one and len(sizes) != 3) or not all(v > 0 and math.isfinite(v) for v in sizes):
            raise ValueError(f"voxel_size is one positive size or three (one per axis), got {value!r}")
        return value

    @model_validator(mode="after")
    def _cylindrical_sizes_per_axis(self) -> EncoderConfig:
        if self.coordinates == "cylindrical" and isinstance(self.voxel_size, (int, float)):
            raise ValueError(f"a cylindrical grid needs voxel_size per axis [rho m, phi degrees, z m] (SLidR's is "
                             f"[0.1, 1.0, 0.1]); one number, {self.voxel_size}, would also be the angle in degrees")
        return self

    @property
    def in_channels(self) -> int:
        return {"intensity": 1, "xyz_intensity": 4, "xyz_intensity_radius": 5}[self.in_features]


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
        xyz = cloud[:, :3] / XYZ_SCALE
        if self.config.in_features == "xyz_intensity":
            return torch.cat([xyz, intensity], dim=1)
        return torch.cat([xyz, intensity, torch.hypot(xyz[:, 0:1], xyz[:, 1:2])], dim=1)

    def forward(self, clouds: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per-point features (N_i, out_channels) for each cloud (N_i, >=4: x, y, z, intensity)."""
        voxels = voxelize_batch([c[:, :3] for c in clouds], self.voxels,
                                features=[self.point_features(c) for c in clouds])
        feats = self.unet.forward_points(voxels)
        return list(torch.split(feats, [len(c) for c in clouds]))


register_backbone(LidarEncoder, EncoderConfig)
