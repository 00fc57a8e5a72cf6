"""Typed schemas of the cards. Unknown fields are errors, so a typo never silently changes a run."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Component(_Strict):
    name: str
    description: str
    default: bool = True


class MethodCard(_Strict):
    name: str
    title: str
    modality: Literal["lidar", "camera", "lidar+camera"]
    pretrains: Literal["lidar_backbone", "camera_backbone", "none"]
    description: str
    citation: str = ""
    components: list[Component] = Field(default_factory=list)
    # Keys a downstream load may find missing/unexpected (the pretraining head, say); all others strict.
    checkpoint_key_exceptions: list[str] = Field(default_factory=list)
    presets: dict[str, dict[str, Any]]

    @field_validator("presets")
    @classmethod
    def _has_tiny(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if "tiny" not in v:
            raise ValueError("a method card needs a `tiny` preset (CPU, CI and the demo run it)")
        return v

    def preset(self, name: str) -> dict[str, Any]:
        from bench3d.errors import UnknownNameError

        if name not in self.presets:
            raise UnknownNameError("preset", name, list(self.presets))
        return dict(self.presets[name])

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]


class Schedule(_Strict):
    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    optimizer: Literal["sgd", "adamw"]
    lr: float = Field(gt=0)
    head_lr: float | None = None  # None: same as lr
    momentum: float = 0.9
    dampening: float = 0.0
    weight_decay: float = 0.0
    schedule: Literal["cosine", "constant"] = "cosine"
    augment: bool = False
    max_points: int | None = None  # random subsample per frame (CPU presets)


class ProtocolCard(_Strict):
    name: str
    version: str = Field(pattern=r"^\d+\.\d+$")  # X.Y: X changes comparability
    title: str
    task: Literal["lidar_semseg"]
    description: str
    freeze: Literal["all_but_head", "none"]
    bn_eval: bool  # keep frozen BatchNorm statistics (SLidR's LP definition)
    head: Literal["linear"]
    fractions: list[float]
    draws: list[int]
    seeds: list[int]
    eval_split: str = "val"
    checkpoint_rule: Literal["last_epoch"] = "last_epoch"
    ce_weight: float = 1.0
    lovasz_weight: float = 1.0
    presets: dict[str, Schedule]

    @field_validator("fractions")
    @classmethod
    def _fractions_in_range(cls, v: list[float]) -> list[float]:
        bad = [f for f in v if not 0 < f <= 1]
        if bad:
            raise ValueError(f"fractions must be in (0, 1]; got {bad}")
        return v

    def schedule(self, preset: str) -> Schedule:
        from bench3d.errors import UnknownNameError

        if preset not in self.presets:
            raise UnknownNameError("preset", preset, list(self.presets))
        return self.presets[preset]
