"""Labelled LiDAR frames for segmentation protocols, and their augmentation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bench3d.data.nuscenes import NuScenesReader
from bench3d.errors import DataError
from bench3d.labels.nuscenes import FINE_TO_EVAL


@dataclass
class LabelledCloud:
    token: str
    points: torch.Tensor  # (N, 4) float32
    labels: torch.Tensor  # (N,) int64 eval ids, 0 = ignore


def load_labelled(reader: NuScenesReader, tokens: list[str], max_points: int | None = None,
                  seed: int = 0) -> list[LabelledCloud]:
    """Keyframe clouds with eval labels; `max_points` keeps a fixed random subset (training only)."""
    clouds = []
    for token in tokens:
        frame = reader.frame(token, cameras=None, boxes=False)
        if frame.labels is None:
            raise DataError(reader.dataroot / reader.version / "lidarseg.json",
                            f"sample {token} has no lidarseg labels; segmentation protocols need nuScenes-lidarseg")
        points, labels = frame.points[:, :4], FINE_TO_EVAL[frame.labels]
        if max_points is not None and len(points) > max_points:
            keep = np.sort(np.random.default_rng([seed, len(clouds)]).choice(len(points), max_points, replace=False))
            points, labels = points[keep], labels[keep]
        clouds.append(LabelledCloud(token, torch.from_numpy(np.ascontiguousarray(points)),
                                    torch.from_numpy(labels.astype(np.int64))))
    return clouds


def augment(points: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Random rotation about z, random x/y flips and +-5 % scaling (SLidR / SuperFlow style)."""
    theta = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float32)
    flips = np.where(rng.random(2) < 0.5, -1.0, 1.0).astype(np.float32)
    rot[:, 0] *= flips[0]
    rot[:, 1] *= flips[1]
    scale = np.float32(rng.uniform(0.95, 1.05))
    out = points.clone()
    out[:, :3] = points[:, :3] @ torch.from_numpy(rot.T * scale)
    return out
