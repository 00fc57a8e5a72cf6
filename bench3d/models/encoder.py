"""The LiDAR encoder every method pretrains and every protocol evaluates.

Point clouds in, per-point features out: voxelise (keeping the point -> voxel inverse map), run the
sparse MinkUNet, copy voxel features back to every point. Methods and protocols only see this class.
"""

from __future__ import annotations

import logging
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from bench3d.errors import ConfigError
from bench3d.models.minkunet import MinkUNet, MinkUNetConfig
from bench3d.models.voxelize import VoxelConfig, voxelize_batch

log = logging.getLogger(__name__)

INTENSITY_SCALE = 255.0  # nuScenes intensities are 0..255


class EncoderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

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


class LidarEncoder(nn.Module):
    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.voxels = VoxelConfig(voxel_size=config.voxel_size, coordinates=config.coordinates)
        self.unet = MinkUNet(MinkUNetConfig.from_preset(config.backbone, in_channels=config.in_channels,
                                                        backend=config.backend))

    @property
    def out_dim(self) -> int:
        return self.unet.out_channels

    def point_features(self, cloud: torch.Tensor) -> torch.Tensor:
        intensity = cloud[:, 3:4] / INTENSITY_SCALE
        if self.config.in_features == "intensity":
            return intensity
        return torch.cat([cloud[:, :3] / 50.0, intensity], dim=1)

    def forward(self, clouds: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per-point features (N_i, out_dim) for each cloud (N_i, >=4: x, y, z, intensity)."""
        voxels = voxelize_batch([c[:, :3] for c in clouds], self.voxels,
                                features=[self.point_features(c) for c in clouds])
        feats = self.unet.forward_points(voxels)
        return list(torch.split(feats, [len(c) for c in clouds]))


def load_encoder_state(encoder: LidarEncoder, checkpoint: str | Path, allowed: list[str] | None = None) -> None:
    """Load a pretraining checkpoint's encoder weights strictly; keys matching `allowed` globs may differ."""
    path = Path(checkpoint)
    if not path.is_file():
        raise ConfigError(f"checkpoint {path} not found")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict) or "encoder" not in ckpt:
        raise ConfigError(f"{path}: not a bench3d pretraining checkpoint (no `encoder` entry)")
    state = ckpt["encoder"]
    expected = encoder.state_dict()
    ok = lambda k: any(fnmatch(k, pat) for pat in allowed or [])  # noqa: E731
    missing = [k for k in expected if k not in state and not ok(k)]
    unexpected = [k for k in state if k not in expected and not ok(k)]
    if missing or unexpected:
        raise ConfigError(f"{path}: encoder weights do not match the backbone: missing keys {missing[:10]}"
                          f"{' ...' if len(missing) > 10 else ''}, unexpected keys {unexpected[:10]} "
                          "(was it pretrained with another backbone preset? list allowed differences in the card's "
                          "`checkpoint_key_exceptions`)")
    wrong = [k for k in state if k in expected and state[k].shape != expected[k].shape]
    if wrong:
        raise ConfigError(f"{path}: shape mismatch for {wrong[:10]}")
    encoder.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=not allowed)
    log.info("loaded encoder weights from %s", path)
