"""The Frame contract shared by every reader, method and protocol.

Coordinates: points are in the LiDAR sensor frame; `lidar_to_ego` and `ego_to_global` place them in the
world. Each camera carries its own ego pose (cameras and LiDAR fire at different times), so point-to-pixel
projection goes lidar -> ego(t_lidar) -> global -> ego(t_cam) -> camera, exactly as nuScenes does.
Boxes are in the global frame, as in the annotation table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class CameraView:
    channel: str
    token: str  # sample_data token of the image
    image: np.ndarray  # (H, W, 3) uint8
    intrinsic: np.ndarray  # (3, 3)
    sensor_to_ego: np.ndarray  # (4, 4)
    ego_to_global: np.ndarray  # (4, 4) at the camera's timestamp
    timestamp: int  # microseconds


@dataclass(frozen=True)
class Box3D:
    token: str  # sample_annotation token
    instance_token: str
    category: str  # fine category name
    center: np.ndarray  # (3,) global
    size: np.ndarray  # (3,) w, l, h
    rotation: np.ndarray  # (4,) w, x, y, z, global
    velocity: np.ndarray  # (3,) global m/s; NaN when unknown
    attribute: str  # "" when none
    num_lidar_pts: int


@dataclass(frozen=True)
class PointPixelPairs:
    """Point-to-pixel correspondences of one frame over all cameras (one row per visible pair)."""

    point_index: np.ndarray  # (M,) int64 index into Frame.points
    camera_index: np.ndarray  # (M,) int64 index into Frame.camera_channels
    uv: np.ndarray  # (M, 2) float32 pixel coordinates (u = column, v = row)
    depth: np.ndarray  # (M,) float32 depth along the camera's optical axis (m)


@dataclass(frozen=True)
class Frame:
    token: str  # sample token
    scene_name: str
    timestamp: int  # microseconds, the LiDAR keyframe's
    lidar_token: str  # LIDAR_TOP sample_data token
    points: np.ndarray  # (N, C>=4) float32: x, y, z, intensity[, time lag (s) when sweeps are stacked]
    labels: np.ndarray | None  # (N,) raw dataset label ids (nuScenes: fine 0..31); None if unlabelled
    lidar_to_ego: np.ndarray  # (4, 4)
    ego_to_global: np.ndarray  # (4, 4) at the LiDAR timestamp
    cameras: dict[str, CameraView] = field(default_factory=dict)
    boxes: list[Box3D] = field(default_factory=list)

    @property
    def camera_channels(self) -> list[str]:
        return list(self.cameras)

    @property
    def num_points(self) -> int:
        return int(self.points.shape[0])
