"""LiMA's typed settings (methods/lima.yaml documents each choice)."""

from __future__ import annotations

from pydantic import Field

from bench3d.methods.config import PretrainingConfig, Settings

MAX_FRAMES = 8


class CrossSequenceConfig(Settings):
    queue: int = Field(4096, ge=0)  # targets of other sequences kept as negatives
    per_frame: int = Field(256, gt=0)  # targets a frame pushes into the queue
    anchors: int = Field(256, gt=0)  # points per frame that act as InfoNCE anchors
    weight: float = Field(0.1, ge=0)
    temperature: float = Field(0.07, gt=0)


class LimaConfig(PretrainingConfig):
    frames: int = Field(6, ge=1, le=MAX_FRAMES)  # T: the anchor frame and T-1 past keyframes
    match_voxel: float = Field(0.4, gt=0)  # voxel (m) in which propagated targets meet current points
    decay: float = Field(0.8, gt=0, le=1)  # weight of a past target: decay ** age
    current_weight: float = Field(0.5, ge=0, le=1)  # share of the current frame's own target in the fusion
    min_agreement: float = Field(0.3, ge=-1, le=1)  # semantic gate: cosine a past target needs to be kept
    cross_sequence: CrossSequenceConfig = CrossSequenceConfig()
