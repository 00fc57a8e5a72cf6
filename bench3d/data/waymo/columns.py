"""Waymo Open Dataset v2 component tags, key and column names, enums and the row-major conventions of its
Parquet files, as the official `v2/perception/*.py` dataclasses define them (docs/waymo-v2-format.md).

Layout: `<root>/<split>/<tag>/<segment_context_name>.parquet`. Transforms are 16 doubles, row-major 4x4.
Images (range images, labels, poses) are a flat row-major `values` list plus a 3-int `shape`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench3d.errors import DataError

SPLITS = ("training", "validation", "testing")

SEGMENT = "key.segment_context_name"
TIMESTAMP = "key.frame_timestamp_micros"
LASER = "key.laser_name"
CAMERA = "key.camera_name"

LIDAR, LIDAR_CALIBRATION, LIDAR_POSE, LIDAR_SEGMENTATION = "lidar", "lidar_calibration", "lidar_pose", "lidar_segmentation"
VEHICLE_POSE, CAMERA_IMAGE, CAMERA_CALIBRATION, STATS = "vehicle_pose", "camera_image", "camera_calibration", "stats"

INTENSITY_SCALE = 255.0  # the Frame contract's 0..255 intensities <-> the range image's channel 1
LASER_TOP = 1  # TOP=1, FRONT=2, SIDE_LEFT=3, SIDE_RIGHT=4, REAR=5
CAMERA_NAMES = {1: "FRONT", 2: "FRONT_LEFT", 3: "FRONT_RIGHT", 4: "SIDE_LEFT", 5: "SIDE_RIGHT"}
CAMERA_IDS = {name: cid for cid, name in CAMERA_NAMES.items()}


def range_image_column(component: str, ret: int, field: str) -> str:
    """e.g. `[LiDARComponent].range_image_return1.values`."""
    return f"[{component}].range_image_return{ret}.{field}"


LIDAR_COMPONENT = "LiDARComponent"
LIDAR_POSE_COMPONENT = "LiDARPoseComponent"
SEGMENTATION_COMPONENT = "LiDARSegmentationLabelComponent"
LIDAR_EXTRINSIC = "[LiDARCalibrationComponent].extrinsic.transform"
BEAM_MIN = "[LiDARCalibrationComponent].beam_inclination.min"
BEAM_MAX = "[LiDARCalibrationComponent].beam_inclination.max"
BEAM_VALUES = "[LiDARCalibrationComponent].beam_inclination.values"
WORLD_FROM_VEHICLE = "[VehiclePoseComponent].world_from_vehicle.transform"
IMAGE = "[CameraImageComponent].image"
IMAGE_POSE = "[CameraImageComponent].pose.transform"
IMAGE_POSE_TIMESTAMP = "[CameraImageComponent].pose_timestamp"
INTRINSIC = "[CameraCalibrationComponent].intrinsic."  # + f_u, f_v, c_u, c_v, k1, k2, p1, p2, k3
INTRINSIC_FIELDS = ("f_u", "f_v", "c_u", "c_v", "k1", "k2", "p1", "p2", "k3")
CAMERA_EXTRINSIC = "[CameraCalibrationComponent].extrinsic.transform"
CAMERA_WIDTH = "[CameraCalibrationComponent].width"
CAMERA_HEIGHT = "[CameraCalibrationComponent].height"

# Waymo's camera frame is x forward (the optical axis), y left, z up; bench3d's (nuScenes') is the optical
# frame x right, y down, z forward. OPTICAL_FROM_WAYMO_CAMERA maps Waymo camera coordinates to optical ones.
OPTICAL_FROM_WAYMO_CAMERA = np.array([[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [1.0, 0.0, 0.0, 0.0],
                                      [0.0, 0.0, 0.0, 1.0]])


def component_path(root: Path, split: str, tag: str, segment: str) -> Path:
    return Path(root) / split / tag / f"{segment}.parquet"


def first_cell(column):
    """The first row of a pyarrow column: a list cell as a flat numpy array (zero-copy where the type allows),
    any other cell as a Python value."""
    import pyarrow as pa

    chunk = next(c for c in column.chunks if len(c))
    if pa.types.is_list(chunk.type) or pa.types.is_fixed_size_list(chunk.type) or pa.types.is_large_list(chunk.type):
        cell = chunk[0]
        return None if not cell.is_valid else cell.values.to_numpy(zero_copy_only=False)
    return chunk[0].as_py()


def transform(values, where: str | Path) -> np.ndarray:
    """A 16-value row-major transform as 4x4 float64 (the official test files store float32: cast)."""
    t = np.asarray(values, dtype=np.float64)
    if t.size != 16:
        raise DataError(where, f"a transform has {t.size} values, not 16", "transforms are row-major 4x4")
    return t.reshape(4, 4)


def image_of(values, shape, where: str | Path, dtype=np.float32) -> np.ndarray:
    """A flat row-major `values` list and its `shape` as an array (range image, labels, pixel poses)."""
    arr = np.asarray(values, dtype=dtype)
    shape = tuple(int(s) for s in shape)
    if arr.size != int(np.prod(shape)):
        raise DataError(where, f"holds {arr.size} values for an image of shape {list(shape)}",
                        "`values` must be the row-major image of `shape`")
    return arr.reshape(shape)


def euler_rotation(roll: np.ndarray, pitch: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """(..., 3, 3) R = Rz(yaw) Ry(pitch) Rx(roll): the 3-2-1 convention of Waymo's per-pixel poses."""
    cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    return np.stack([
        np.stack([cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr], -1),
        np.stack([sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr], -1),
        np.stack([-sp, cp * sr, cp * cr], -1),
    ], -2)


def euler_of(rotation: np.ndarray) -> tuple[float, float, float]:
    """(roll, pitch, yaw) of a rotation matrix, the inverse of `euler_rotation` (pitch in [-pi/2, pi/2])."""
    pitch = float(np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0)))
    return float(np.arctan2(rotation[2, 1], rotation[2, 2])), pitch, float(np.arctan2(rotation[1, 0], rotation[0, 0]))
