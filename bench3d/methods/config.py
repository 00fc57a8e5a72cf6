"""Typed method settings. Each adapter names its schema (`MethodAdapter.config_schema`); a card preset is
validated by it, so a misspelt or mistyped key is an error, never a silent default.

The shared pieces: the LiDAR backbone's fields (`EncoderConfig`), the pretraining optimiser and schedule,
and the 2D teacher.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from bench3d.methods.augment_config import IMAGE_KINDS, Augmentation
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
    # cosine: per epoch, unless `warmup_steps` > 0: then a linear warm-up over that many optimiser steps from
    # `warmup_ratio` of `lr` (mmcv's warmup_ratio; ScaLR 0, GeoMIM / MIM4D 1/3) and a per-step cosine; either
    # ends at `min_lr` (ScaLR 1e-5; a group with its own lr ends at the same fraction of it). onecycle: per step,
    # SuperFlow's (`engine.trainer.ONECYCLE`), peak `lr` after `warmup_fraction` of all steps (0.2).
    schedule: Literal["cosine", "constant", "onecycle"] = "cosine"
    warmup_steps: int = Field(0, ge=0)
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    warmup_fraction: float = Field(0.2, gt=0, lt=1)
    min_lr: float = Field(0.0, ge=0)
    # The published mixed precision. A run's `--amp` decides what runs (fp16 needs CUDA); the record keeps both
    # and a pretraining whose --amp differs logs it.
    amp: Literal["off", "bf16", "fp16"] = "off"

    @model_validator(mode="after")
    def _schedule_fields_apply(self) -> OptimisationConfig:
        """A schedule value the chosen schedule would not read is refused, never silently ignored."""
        given = self.model_fields_set
        if self.warmup_steps and self.schedule != "cosine":
            raise ValueError(f"warmup_steps applies to schedule cosine; schedule {self.schedule!r} "
                             "(onecycle warms up over `warmup_fraction` of the steps)")
        if "warmup_ratio" in given and not self.warmup_steps:
            raise ValueError("warmup_ratio applies to a warm-up: set warmup_steps too")
        if "warmup_fraction" in given and self.schedule != "onecycle":
            raise ValueError(f"warmup_fraction applies to schedule onecycle, not {self.schedule!r} "
                             "(cosine warms up over `warmup_steps`)")
        if "min_lr" in given and self.schedule != "cosine":
            raise ValueError(f"min_lr applies to schedule cosine, not {self.schedule!r}")
        if self.min_lr >= self.lr:
            raise ValueError(f"min_lr {self.min_lr} must be below lr {self.lr}")
        return self

    def scheduler_arguments(self) -> dict[str, float | int]:
        """This schedule's values as `engine.trainer.build_scheduler` takes them (without the step count)."""
        return {"warmup_steps": self.warmup_steps, "warmup_ratio": self.warmup_ratio,
                "warmup_fraction": self.warmup_fraction, "min_lr_ratio": self.min_lr / self.lr}

    @property
    def per_step_schedule(self) -> bool:
        """Whether the schedule moves every optimiser step (else every epoch)."""
        return self.schedule == "onecycle" or (self.schedule == "cosine" and self.warmup_steps > 0)


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

    @model_validator(mode="after")
    def _cache_serves_unaugmented_images(self) -> PretrainingConfig:
        moved = [a.kind for a in self.augmentations if a.kind in IMAGE_KINDS]
        if self.cache_teacher_features and moved:
            raise ValueError(f"cache_teacher_features with image augmentations {moved}: every step's crop is a new "
                             "image, so the cache would only grow; turn one of them off")
        return self
