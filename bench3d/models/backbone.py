"""The backbone contract: the one object that joins pretraining methods and downstream tasks.

A backbone declares its `modality` (what input it reads) and `out_channels`; a LiDAR backbone maps point
clouds to per-point features (N, C), a camera backbone maps multi-view images to per-view feature maps
(B, V, C, h, w). Each backbone type has a typed config; `{"type": ..., **config}` is what a checkpoint
stores beside the weights, so downstream can check it builds the same network it loads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict
from torch import nn

from bench3d.errors import ConfigError

Modality = Literal["lidar", "camera"]


class BackboneConfig(BaseModel):
    """Typed settings of one backbone type; frozen, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Registry key of the backbone class this config builds.
    type_name: ClassVar[str]
    #: The input the backbone reads.
    modality: ClassVar[Modality]

    def to_record(self) -> dict[str, Any]:
        """What a checkpoint stores for this backbone: its type and every setting."""
        return {"type": self.type_name, **self.model_dump()}


class Backbone(nn.Module, ABC):
    """Extension point: a network that methods pretrain and tasks build their downstream model around."""

    #: The input the backbone reads (the task's `consumes` must include it).
    modality: ClassVar[Modality]

    def __init__(self, config: BackboneConfig) -> None:
        super().__init__()
        self.config = config

    @property
    @abstractmethod
    def out_channels(self) -> int:
        """Channels of the features `forward` returns."""


_TYPES: dict[str, tuple[type[Backbone], type[BackboneConfig]]] = {}


def register_backbone(cls: type[Backbone], config_cls: type[BackboneConfig]) -> None:
    """Make a backbone type buildable from a checkpoint's config record."""
    if cls.modality != config_cls.modality:
        raise ValueError(f"{cls.__name__} and {config_cls.__name__} declare different modalities")
    _TYPES[config_cls.type_name] = (cls, config_cls)


def backbone_types(modality: Modality | None = None) -> list[str]:
    """Registered backbone type names, optionally only those reading `modality`."""
    return sorted(name for name, (cls, _) in _TYPES.items() if modality is None or cls.modality == modality)


def build_backbone(config: BackboneConfig) -> Backbone:
    cls, config_cls = _TYPES[config.type_name]
    return cls(config)


def config_from_record(record: dict[str, Any], where: str) -> BackboneConfig:
    """The typed config of a checkpoint's `configs[name]` entry."""
    kind = record.get("type")
    if kind not in _TYPES:
        raise ConfigError(f"{where}: unknown backbone type {kind!r}; known: {sorted(_TYPES)}")
    return _TYPES[kind][1](**{k: v for k, v in record.items() if k != "type"})
