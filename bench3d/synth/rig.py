"""The nuScenes-like sensor rig: one spinning LiDAR, six cameras, five radars (radars are calibrated only).

Extrinsics and intrinsics follow the published nuScenes calibration closely (rounded); cameras are mounted
level, so camera frames differ from the ego frame by a yaw and the fixed axis permutation
(camera x right, y down, z forward).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.geometry import matrix_to_quaternion, yaw_to_quaternion

FULL_HEIGHT, FULL_WIDTH = 900, 1600  # nuScenes image size that the intrinsics below refer to

LIDAR_CHANNEL = "LIDAR_TOP"
CAMERA_CHANNELS: tuple[str, ...] = (
    "CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT",
)
RADAR_CHANNELS: tuple[str, ...] = (
    "RADAR_FRONT", "RADAR_FRONT_LEFT", "RADAR_FRONT_RIGHT", "RADAR_BACK_LEFT", "RADAR_BACK_RIGHT",
)
ALL_CHANNELS: tuple[str, ...] = CAMERA_CHANNELS + (LIDAR_CHANNEL,) + RADAR_CHANNELS

# Camera axes expressed in a level, forward-looking frame (x fwd, y left, z up): columns are cam x, y, z.
CAM_AXES = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class CameraSpec:
    channel: str
    translation: tuple[float, float, float]  # ego frame, metres
    yaw_deg: float  # heading of the optical axis in the ego frame
    focal: float  # pixels at 1600 x 900
    cx: float
    cy: float

    def intrinsic(self, height: int, width: int) -> np.ndarray:
        sx, sy = width / FULL_WIDTH, height / FULL_HEIGHT
        return np.array([[self.focal * sx, 0.0, self.cx * sx], [0.0, self.focal * sy, self.cy * sy], [0, 0, 1.0]])

    @property
    def yaw(self) -> float:
        return float(np.deg2rad(self.yaw_deg))

    def rotation(self) -> np.ndarray:
        """sensor -> ego rotation as a quaternion (w, x, y, z)."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        return matrix_to_quaternion(rz @ CAM_AXES)


CAMERAS: tuple[CameraSpec, ...] = (
    CameraSpec("CAM_FRONT", (1.70, 0.016, 1.51), 0.0, 1266.4, 816.3, 491.5),
    CameraSpec("CAM_FRONT_RIGHT", (1.55, -0.493, 1.50), -55.0, 1260.8, 807.9, 495.3),
    CameraSpec("CAM_FRONT_LEFT", (1.52, 0.494, 1.51), 55.0, 1272.6, 826.6, 479.8),
    CameraSpec("CAM_BACK", (0.03, 0.0, 1.57), 180.0, 809.2, 829.2, 481.8),
    CameraSpec("CAM_BACK_LEFT", (1.04, 0.481, 1.56), 110.0, 1256.7, 817.8, 451.9),
    CameraSpec("CAM_BACK_RIGHT", (1.04, -0.481, 1.56), -110.0, 1259.5, 807.3, 501.2),
)


@dataclass(frozen=True)
class LidarSpec:
    beams: int = 32
    elev_min_deg: float = -30.67
    elev_max_deg: float = 10.67
    azimuth_steps: int = 1080
    max_range: float = 70.0
    translation: tuple[float, float, float] = (0.943, 0.0, 1.840)
    yaw_deg: float = -90.0  # nuScenes LIDAR_TOP: x right, y forward

    @property
    def yaw(self) -> float:
        return float(np.deg2rad(self.yaw_deg))

    def elevations(self) -> np.ndarray:
        """Beam elevations in radians, ascending; ring index = position in this array."""
        if self.beams == 1:
            return np.array([0.0])
        return np.deg2rad(np.linspace(self.elev_min_deg, self.elev_max_deg, self.beams))

    def rotation(self) -> np.ndarray:
        return yaw_to_quaternion(self.yaw)


# (translation, yaw in degrees) of the radars, as in nuScenes.
RADARS: dict[str, tuple[tuple[float, float, float], float]] = {
    "RADAR_FRONT": ((3.412, 0.0, 0.50), 0.0),
    "RADAR_FRONT_LEFT": ((2.422, 0.800, 0.78), 90.0),
    "RADAR_FRONT_RIGHT": ((2.422, -0.800, 0.77), -90.0),
    "RADAR_BACK_LEFT": ((-0.562, 0.628, 0.53), 180.0),
    "RADAR_BACK_RIGHT": ((-0.562, -0.618, 0.53), 180.0),
}

# The ego vehicle (Renault Zoe-like) as a box in the ego frame: x from rear to front bumper.
# Height is the bonnet / boot line: the roof right under the LiDAR mount would hide every low beam.
EGO_LENGTH, EGO_WIDTH, EGO_HEIGHT, EGO_REAR = 4.08, 1.73, 1.30, -0.92


def modality(channel: str) -> str:
    return "camera" if channel.startswith("CAM") else "lidar" if channel.startswith("LIDAR") else "radar"
