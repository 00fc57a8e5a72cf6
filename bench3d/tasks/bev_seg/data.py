"""BEV segmentation samples: six images with their intrinsics and camera-to-LiDAR transforms, the LiDAR
points, and the frame's BEV map masks (reader.bev_map: 6 classes, 200 x 200 at 0.5 m, LiDAR frame)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bench3d.data.reader import Reader
from bench3d.engine.loader import LazySamples
from bench3d.geometry import invert_transform


@dataclass
class BevSample:
    token: str
    images: torch.Tensor  # (V, H, W, 3) uint8
    intrinsics: torch.Tensor  # (V, 3, 3) float64, of `images` as decoded
    cam_to_lidar: torch.Tensor  # (V, 4, 4) float64: camera frame -> LiDAR frame of the keyframe
    points: torch.Tensor  # (N, 4) float32 x, y, z, intensity (LiDAR frame)
    target: torch.Tensor  # (classes, 200, 200) bool, axes (x forward, y left)


def load_sample(reader: Reader, token: str, image_size: tuple[int, int], max_points: int | None,
                seed: int) -> BevSample:
    frame = reader.frame(token, labels=False, boxes=False, max_image_size=image_size)
    l2g = frame.ego_to_global @ frame.lidar_to_ego
    g2l = invert_transform(l2g)
    cams = list(frame.cameras.values())
    points = frame.points[:, :4]
    if max_points is not None and len(points) > max_points:
        rng = np.random.default_rng([seed, int(token[:8], 16)])
        points = points[np.sort(rng.choice(len(points), max_points, replace=False))]
    return BevSample(
        token=token,
        images=torch.from_numpy(np.stack([c.image for c in cams])),
        intrinsics=torch.from_numpy(np.stack([c.intrinsic for c in cams])),
        cam_to_lidar=torch.from_numpy(np.stack([g2l @ c.ego_to_global @ c.sensor_to_ego for c in cams])),
        points=torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)),
        target=torch.from_numpy(reader.bev_map(token)),
    )


def load_samples(reader: Reader, tokens: Sequence[str], image_size: tuple[int, int], max_points: int | None,
                 seed: int) -> LazySamples[BevSample]:
    tokens = list(tokens)
    return LazySamples(len(tokens), lambda i: load_sample(reader, tokens[i], image_size, max_points, seed))
