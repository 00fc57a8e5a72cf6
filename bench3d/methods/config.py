"""Typed method settings. Each adapter names its schema (`MethodAdapter.config_schema`); a card preset is
validated by it, so a misspelt or mistyped key is an error, never a silent default.

The shared pieces: the LiDAR backbone's fields (`EncoderConfig`), the pretraining optimiser and schedule,
and the 2D teacher.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from bench3d.methods.augment_config import Augmentation
from bench3d.methods.settings import Settings
from bench3d.models.encoder import EncoderConfig

__all__ = ["Settings", "LidarMethodConfig", "TeacherConfig", "OptimisationConfig", "PretrainingConfig"]


class LidarMethodConfig(EncoderConfig):
    """A method whose `lidar` backbone is the sparse UNet: the backbone's fields sit at the top of the preset."""

    def lidar_backbone(self) -> EncoderConfig:
        return EncoderConfig(**{k: getattr(self, k) for k in EncoderConfig.model_fields})


class TeacherConfig(Settings):
    """The frozen 2D teacher (`models.teachers`). Weights of `dinov2` / `resnet50` come from --teacher-checkpoint."""

    # auto: appearance (the CI teacher) on a synthetic release, efficientnet_lite0 (ImageNet) on a real one
    name: Literal["auto", "appearance", "efficientnet_lite0", "dinov2", "resnet50"] = "auto"
    layer: str | None = None  # None: the teacher's default (dinov2 pre_norm, resnet50 layer4_dilated, ...)
    # (H, W) the whole image is resized to before the teacher (e.g. 224 x 448); None: its size, rounded to the
    # teacher's stride. A list, not a tuple: the resolved config must survive a JSON round trip unchanged.
    input_size: list[PositiveInt] | None = Field(None, min_length=2, max_length=2)
    dim: int = Field(64, gt=0)  # appearance teacher only: feature channels
    stride: int = Field(2, gt=0)  # appearance teacher only: output stride


class OptimisationConfig(Settings):
    """The pretraining schedule and optimiser every method's preset carries."""

    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    optimizer: Literal["sgd", "adamw"] = "adamw"
    lr: float = Field(gt=0)
    momentum: float = 0.9
    dampening: float = 0.0
    weight_decay: float = Field(0.0, ge=0)
    # cosine: per epoch to 0, unless `warmup_steps` > 0: then a linear warm-up over that many optimiser steps and
    # a per-step cosine to `min_lr` (ScaLR: 3,500 steps, 1e-5); onecycle: torch's OneCycleLR per step, peak `lr`
    # after `warmup_fraction` of all steps (SuperFlow: 0.2).
    schedule: Literal["cosine", "constant", "onecycle"] = "cosine"
    warmup_steps: int = Field(0, ge=0)
    warmup_fraction: float = Field(0.2, gt=0, lt=1)
    min_lr: float = Field(0.0, ge=0)
    # The published mixed precision. A run's `--amp` decides what runs (fp16 needs CUDA); the record keeps both
    # and a pretraining whose --amp differs logs it.
    amp: Literal["off", "bf16", "fp16"] = "off"

    @model_validator(mode="after")
    def _schedule_fields_apply(self) -> OptimisationConfig:
        if self.warmup_steps and self.schedule != "cosine":
            raise ValueError(f"warmup_steps applies to schedule cosine; schedule {self.schedule!r} "
                             "(onecycle warms up over `warmup_fraction` of the steps)")
        return self


class PretrainingConfig(LidarMethodConfig, OptimisationConfig):
    """Pretraining of a LiDAR backbone: data size per frame, optimiser, schedule and the 2D teacher."""

    max_points: int | None = Field(None, gt=0)  # fixed random subset of each frame's points (CPU presets)
    # (H, W): larger camera images are decoded at this size (JPEG draft mode), intrinsics scaled to match;
    # the teacher's input. None: native size.
    # A list, not a tuple: the resolved config must survive a JSON round trip unchanged.
    max_image_size: list[PositiveInt] | None = Field(None, min_length=2, max_length=2)
    teacher: TeacherConfig = TeacherConfig()
    # Applied in order to each sample at every step, from the step's generator (`methods.augment`).
    augmentations: list[Augmentation] = []
    # Frozen-teacher features at each sample's pixels computed once and kept in the disk cache (DiskCache).
    cache_teacher_features: bool = False
