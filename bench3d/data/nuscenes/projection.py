"""Point-to-pixel correspondences for all cameras of a frame in one vectorised pass.

Same chain and same visibility rule as the devkit's `map_pointcloud_to_image`: lidar -> ego(t_lidar) ->
global -> ego(t_cam) -> camera, depth > min_dist, and 1 < u < W - 1, 1 < v < H - 1.
"""

from __future__ import annotations

import numpy as np

from bench3d.data.frame import Frame, PointPixelPairs
from bench3d.geometry import invert_transform


def lidar_to_camera_transforms(frame: Frame) -> np.ndarray:
    """(C, 4, 4) transforms from the LiDAR sensor frame into each camera's frame."""
    lidar_to_global = frame.ego_to_global @ frame.lidar_to_ego
    return np.stack([
        invert_transform(cam.ego_to_global @ cam.sensor_to_ego) @ lidar_to_global for cam in frame.cameras.values()
    ])


def point_pixel_pairs(frame: Frame, min_dist: float = 1.0) -> PointPixelPairs:
    """Every (point, camera) pair where the point projects inside the image, in camera order."""
    cams = list(frame.cameras.values())
    if not cams:
        empty = np.zeros(0, dtype=np.int64)
        return PointPixelPairs(empty, empty, np.zeros((0, 2), np.float32), np.zeros(0, np.float32))
    transforms = lidar_to_camera_transforms(frame)  # (C, 4, 4)
    intrinsics = np.stack([cam.intrinsic for cam in cams])  # (C, 3, 3)
    # Fold intrinsics into the rigid part: one (C, 3, 4) projection per camera.
    proj = np.einsum("cij,cjk->cik", intrinsics, transforms[:, :3, :])
    xyz = np.ascontiguousarray(frame.points[:, :3], dtype=np.float64)
    parts = []
    for c, cam in enumerate(cams):
        h, w = cam.image.shape[:2]
        # Depth first: u and v only for the points in front of this camera (about half of them).
        depth_all = xyz @ proj[c, 2, :3] + proj[c, 2, 3]
        idx = np.flatnonzero(depth_all > min_dist)
        front, depth = xyz[idx], depth_all[idx]
        u = (front @ proj[c, 0, :3] + proj[c, 0, 3]) / depth
        v = (front @ proj[c, 1, :3] + proj[c, 1, 3]) / depth
        ok = (u > 1) & (u < w - 1) & (v > 1) & (v < h - 1)
        parts.append((idx[ok], np.full(int(ok.sum()), c, dtype=np.int64), u[ok], v[ok], depth[ok]))
    return PointPixelPairs(
        point_index=np.concatenate([p[0] for p in parts]).astype(np.int64),
        camera_index=np.concatenate([p[1] for p in parts]),
        uv=np.stack([np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts])],
                    axis=1).astype(np.float32),
        depth=np.concatenate([p[4] for p in parts]).astype(np.float32),
    )
