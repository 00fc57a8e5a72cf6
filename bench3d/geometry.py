"""Rigid transforms and quaternions in the nuScenes convention (quaternions are w, x, y, z)."""

from __future__ import annotations

import numpy as np


def quaternion_to_matrix(q: np.ndarray | list[float]) -> np.ndarray:
    """Rotation matrix (3, 3) of a unit quaternion given as (w, x, y, z)."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quaternion(rot: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z) with w >= 0 of a rotation matrix (Shepperd's method)."""
    m = np.asarray(rot, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    quat = np.asarray(q)
    quat /= np.linalg.norm(quat)
    return quat if quat[0] >= 0 else -quat


def yaw_to_quaternion(yaw: float) -> np.ndarray:
    """Quaternion (w, x, y, z) of a rotation by `yaw` radians about +z."""
    return np.array([np.cos(yaw / 2.0), 0.0, 0.0, np.sin(yaw / 2.0)])


def quaternion_yaw(q: np.ndarray | list[float]) -> float:
    """Yaw of the rotated x-axis, as nuScenes computes it for orientation errors."""
    v = quaternion_to_matrix(q)[:, 0]
    return float(np.arctan2(v[1], v[0]))


def make_transform(rotation: np.ndarray, translation: np.ndarray | list[float]) -> np.ndarray:
    """4x4 homogeneous transform from a quaternion (w, x, y, z) or a 3x3 matrix and a translation."""
    rot = np.asarray(rotation, dtype=np.float64)
    t = np.eye(4)
    t[:3, :3] = quaternion_to_matrix(rot) if rot.shape == (4,) else rot
    t[:3, 3] = np.asarray(translation, dtype=np.float64)
    return t


def invert_transform(t: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 transform, without a general matrix inverse."""
    inv = np.eye(4)
    inv[:3, :3] = t[:3, :3].T
    inv[:3, 3] = -t[:3, :3].T @ t[:3, 3]
    return inv


def apply_transform(t: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 4x4 transform to (N, 3) points; returns (N, 3) in the input's float dtype."""
    dtype = points.dtype if np.issubdtype(points.dtype, np.floating) else np.float64
    out = points[:, :3] @ t[:3, :3].T.astype(dtype) + t[:3, 3].astype(dtype)
    return out.astype(dtype, copy=False)
