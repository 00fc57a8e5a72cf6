"""Frame quantities in sensor frames: boxes in the LiDAR frame, per-camera LiDAR depth images, and the camera
matrix of a cropped image. Shared by every BEV task and camera method (one place for frame conventions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.data.frame import Frame, PointPixelPairs
from bench3d.geometry import invert_transform, quaternion_to_matrix


@dataclass(frozen=True)
class LidarBoxes:
    """A frame's boxes in its LiDAR frame (the frame every BEV head predicts in)."""

    center: np.ndarray  # (N, 3) x, y, z
    size: np.ndarray  # (N, 3) w, l, h (nuScenes order)
    yaw: np.ndarray  # (N,) heading of the box's length axis about +z, radians in (-pi, pi]
    velocity: np.ndarray  # (N, 2) vx, vy (m/s); NaN when unknown
    category: tuple[str, ...]
    token: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.token)


def boxes_in_lidar(frame: Frame) -> LidarBoxes:
    """Global-frame annotation boxes moved into the LiDAR frame (as the devkit's get_sample_data does)."""
    g2l = invert_transform(frame.ego_to_global @ frame.lidar_to_ego)
    if not frame.boxes:
        z = np.zeros((0, 3))
        return LidarBoxes(z, z.copy(), np.zeros(0), np.zeros((0, 2)), (), ())
    centers = np.stack([b.center for b in frame.boxes])
    center = centers @ g2l[:3, :3].T + g2l[:3, 3]
    heading = np.stack([g2l[:3, :3] @ quaternion_to_matrix(b.rotation)[:, 0] for b in frame.boxes])
    velocity = np.stack([g2l[:3, :3] @ np.nan_to_num(b.velocity, nan=0.0) for b in frame.boxes])[:, :2]
    unknown = np.array([np.isnan(b.velocity).any() for b in frame.boxes])
    velocity[unknown] = np.nan
    return LidarBoxes(center, np.stack([b.size for b in frame.boxes]), np.arctan2(heading[:, 1], heading[:, 0]),
                      velocity, tuple(b.category for b in frame.boxes), tuple(b.token for b in frame.boxes))


def ray_lengths(frame: Frame, pairs: PointPixelPairs) -> np.ndarray:
    """(M,) distance from each pair's camera centre to its point (the z-depth is `pairs.depth`)."""
    cams = list(frame.cameras.values())
    l2g = frame.ego_to_global @ frame.lidar_to_ego
    out = np.empty(len(pairs.point_index), dtype=np.float32)
    for c, cam in enumerate(cams):
        sel = pairs.camera_index == c
        to_cam = invert_transform(cam.ego_to_global @ cam.sensor_to_ego) @ l2g
        xyz = frame.points[pairs.point_index[sel], :3].astype(np.float64) @ to_cam[:3, :3].T + to_cam[:3, 3]
        out[sel] = np.linalg.norm(xyz, axis=1)
    return out


def depth_image(frame: Frame, pairs: PointPixelPairs, camera: int, kind: str = "z",
                stride: int = 1) -> np.ndarray:
    """(H / stride, W / stride) float32 LiDAR depth of one camera: the nearest point per cell, 0 where none.
    `kind`: "z" (along the optical axis, what LSS bins) or "ray" (distance from the camera centre)."""
    if kind not in ("z", "ray"):
        raise ValueError(f"depth kind {kind!r}: use 'z' or 'ray'")
    h, w = list(frame.cameras.values())[camera].image.shape[:2]
    sel = pairs.camera_index == camera
    values = pairs.depth[sel] if kind == "z" else ray_lengths(frame, pairs)[sel]
    cols = np.floor(pairs.uv[sel, 0] / stride).astype(np.int64)
    rows = np.floor(pairs.uv[sel, 1] / stride).astype(np.int64)
    hs, ws = -(-h // stride), -(-w // stride)
    out = np.full(hs * ws, np.inf, dtype=np.float32)
    np.minimum.at(out, rows * ws + cols, values.astype(np.float32))
    out[np.isinf(out)] = 0.0
    return out.reshape(hs, ws)


def crop_intrinsic(intrinsic: np.ndarray, left: float, top: float) -> np.ndarray:
    """The camera matrix of an image cropped to start at pixel (left, top): the principal point moves."""
    k = np.array(intrinsic, dtype=np.float64, copy=True)
    k[0, 2] -= left
    k[1, 2] -= top
    return k


def bottom_centre_crop(image: np.ndarray, intrinsic: np.ndarray,
                       size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """The (H, W) = `size` crop that keeps the bottom of the image (the road), centred horizontally: the cropped
    image, its camera matrix and the crop's (left, top) offset."""
    h, w = image.shape[:2]
    ch, cw = size
    top, left = h - ch, (w - cw) // 2
    return image[top:, left:left + cw], crop_intrinsic(intrinsic, left, top), (left, top)


def frame_point_subset(points: np.ndarray, count: int | None, token: str, seed: int = 0) -> np.ndarray:
    """At most `count` points of a frame, a fixed random subset drawn from (seed, sample token): a property of
    the data, the same in every epoch and every run."""
    if count is None or len(points) <= count:
        return points
    rng = np.random.default_rng([seed, int(token[:8], 16)])
    return points[np.sort(rng.choice(len(points), count, replace=False))]
