"""What a task predicts for one frame, in a form a figure can draw without knowing the task: boxes in the
global frame (with scores) and/or BEV masks in the LiDAR frame (with their classes and extent)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from bench3d.data.frame import Box3D


@dataclass
class FramePrediction:
    token: str
    #: Detected boxes, global frame (category = the task's class name), best first, with their scores.
    boxes: list[Box3D] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    #: (C, nx, ny) bool masks, axes (x forward, y left) of the LiDAR frame, over +-`bev_extent` metres.
    bev_masks: np.ndarray | None = None
    bev_classes: tuple[str, ...] = ()
    bev_extent: float = 50.0
    #: How the figure should caption it (e.g. the decision threshold).
    caption: str = ""

    def above(self, min_score: float) -> FramePrediction:
        """The prediction with only the boxes scoring at least `min_score` (masks unchanged)."""
        if not self.boxes:
            return self
        keep = [i for i, s in enumerate(self.scores) if s >= min_score]
        caption = f"score >= {min_score:g}"
        return replace(self, boxes=[self.boxes[i] for i in keep], scores=[self.scores[i] for i in keep], caption=caption)
