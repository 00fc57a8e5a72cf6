"""The BEV-teacher contract: a frozen LiDAR model whose bird's-eye-view feature map is a pretraining target
(GeoMIM's). The harness builds one from a run (a supervised detector it trained and kept, or a LiDAR
self-supervised checkpoint) or from a user's file, and hands it to the method through its context."""

from __future__ import annotations

from typing import Protocol

import torch

from bench3d.models.bev.grid import BevGrid


class BevTeacher(Protocol):
    """Extension point: LiDAR points (N, >=4) of one frame, LiDAR frame -> BEV features (C, nx, ny) on `grid`
    (axes x forward, y left), computed without gradients."""

    #: Content identity (a sha256 of its weights and settings): cache keys and run ids depend on it.
    identity: str
    grid: BevGrid
    channels: int
    #: What supervision made the teacher, for records and tables ("3D boxes of <split>", "none").
    labels_used: str
    #: Provenance: the run that made it (or the file it was loaded from).
    source: dict[str, str]

    def __call__(self, points: torch.Tensor) -> torch.Tensor: ...
