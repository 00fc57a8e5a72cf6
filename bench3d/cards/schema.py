"""Typed schemas of the cards. Unknown fields are errors, so a typo never silently changes a run."""

from __future__ import annotations

from typing import Any, Literal

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Card(_Strict):
    """A card parsed from a file; `source` names the file in every error about it."""

    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        return str(self._source) if self._source is not None else f"<card {getattr(self, 'name', '?')}>"


class Component(_Strict):
    name: str
    description: str
    default: bool = True


class MethodCard(_Card):
    """A method: what it reads, which backbones it pretrains, its ablation components and presets.

    `presets` are validated by the method adapter's own config schema (methods/registry.py), so a
    misspelt key is an error naming this card, the preset, the key and the known keys."""

    name: str
    title: str
    inputs: list[Literal["lidar", "camera"]] = Field(min_length=1)
    # Names of the backbones the method pretrains (empty: a baseline whose backbones are a seeded init).
    pretrains: list[str]
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
    """What trains how long, per preset. `task` holds preset-specific task arguments (see ProtocolCard.task)."""

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
    task: dict[str, Any] = Field(default_factory=dict)


class ProtocolCard(_Card):
    """A protocol over a task: what trains (freeze, BatchNorm), label fractions, draws, seeds, eval split,
    checkpoint rule and schedules. `task` is `{name: <task>, ...task arguments}`; the arguments (merged with
    a preset's `task`) are validated by that task's own schema (protocols/resolve.py)."""

    name: str
    version: str = Field(pattern=r"^\d+\.\d+$")  # X.Y: X changes comparability
    title: str
    task: dict[str, Any]
    description: str
    freeze: Literal["all_but_head", "none"]
    bn_eval: bool  # keep frozen BatchNorm statistics (SLidR's LP definition)
    fractions: list[float]
    draws: list[int]
    seeds: list[int]
    pretrain_seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    eval_split: Literal["val", "train"] = "val"
    checkpoint_rule: Literal["last_epoch"] = "last_epoch"
    # Keep the trained downstream model (weights/<run id>.pt, its sha256 in the record): a supervised model
    # another run builds on, e.g. the LiDAR detector that becomes GeoMIM's teacher.
    keep_weights: bool = False
    presets: dict[str, Schedule]

    @field_validator("task")
    @classmethod
    def _task_named(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(v.get("name"), str):
            raise ValueError("`task` needs a `name` (a registered task, e.g. lidar_semseg)")
        return v

    @property
    def task_name(self) -> str:
        return str(self.task["name"])

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
