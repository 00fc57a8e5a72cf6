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
    xyz1 = np.empty((frame.num_points, 4), dtype=np.float64)
    xyz1[:, :3] = frame.points[:, :3]
    xyz1[:, 3] = 1.0
    img = np.matmul(xyz1, proj.transpose(0, 2, 1))  # (C, N, 3): u*d, v*d, d (BLAS, not einsum)
    depth = img[..., 2]
    sizes = np.array([cam.image.shape[:2] for cam in cams], dtype=np.float64)  # (C, 2) H, W
    with np.errstate(divide="ignore", invalid="ignore"):
        u = img[..., 0] / depth
        v = img[..., 1] / depth
    visible = (
        (depth > min_dist)
        & (u > 1) & (u < sizes[:, 1:2] - 1)
        & (v > 1) & (v < sizes[:, 0:1] - 1)
    )
    cam_idx, pt_idx = np.nonzero(visible)
    return PointPixelPairs(
        point_index=pt_idx.astype(np.int64),
        camera_index=cam_idx.astype(np.int64),
        uv=np.stack([u[cam_idx, pt_idx], v[cam_idx, pt_idx]], axis=1).astype(np.float32),
        depth=depth[cam_idx, pt_idx].astype(np.float32),
    )
