"""Labelled LiDAR frames for segmentation, and their augmentation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bench3d.data.reader import Reader
from bench3d.engine.loader import LazySamples
from bench3d.errors import DataError
from bench3d.labels.spaces import LabelSpace


@dataclass
class LabelledCloud:
    token: str
    points: torch.Tensor  # (N, 4) float32: the backbone's input
    labels: torch.Tensor  # (N,) int64 eval ids, 0 = ignore
    supervised: torch.Tensor | None = None  # (M,) indices of the points whose labels train the head; None: all


def _fixed_subset(n: int, k: int | None, seed: int, index: int) -> np.ndarray | None:
    """A fixed random subset of k of n indices (the same every epoch), or None when all are kept."""
    if k is None or n <= k:
        return None
    return np.sort(np.random.default_rng([seed, index]).choice(n, k, replace=False))


def load_labelled(reader: Reader, tokens: Sequence[str], space: LabelSpace, max_points: int | None = None,
                  supervised_points: int | None = None, seed: int = 0) -> LazySamples[LabelledCloud]:
    """Keyframe clouds with eval labels, each read when indexed (nothing is held).

    `space` maps the reader's raw labels to evaluation ids. `max_points` subsamples the backbone's input (a fixed random subset per frame); `supervised_points`
    keeps the whole input but picks a fixed subset of points whose labels train the head, so a frozen
    backbone's features are those of the whole cloud, exactly as in evaluation."""
    tokens = list(tokens)
    return LazySamples(len(tokens), lambda i: load_cloud(reader, tokens[i], i, space, max_points, supervised_points,
                                                                seed))


def load_cloud(reader: Reader, token: str, index: int, space: LabelSpace, max_points: int | None,
               supervised_points: int | None, seed: int) -> LabelledCloud:
    """Sample `index` of a split: its cloud, eval labels and fixed subsets (seeded by (seed, index))."""
    frame = reader.frame(token, cameras=None, boxes=False)
    if frame.labels is None:
        raise DataError(reader.dataroot, f"sample {token} has no point labels",
                        f"segmentation protocols need the {space.name} labels (nuScenes-lidarseg, SemanticKITTI labels/)")
    points, labels = frame.points[:, :4], space.to_eval(frame.labels)
    keep = _fixed_subset(len(points), max_points, seed, index)
    if keep is not None:
        points, labels = points[keep], labels[keep]
    chosen = _fixed_subset(len(points), supervised_points, seed + 1, index)
    return LabelledCloud(token, torch.from_numpy(np.ascontiguousarray(points)),
                         torch.from_numpy(labels.astype(np.int64)), None if chosen is None else torch.from_numpy(chosen))


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
