"""Decoded LiDAR-frame detections as nuScenes results boxes (global frame), with attributes from the speed
rule mmdetection3d's nuScenes export uses (moving above 0.2 m/s, else the class's default)."""

from __future__ import annotations

import math

import numpy as np

from bench3d.geometry import yaw_to_quaternion
from bench3d.metrics.detection import DetectionBox
from bench3d.tasks.det3d.targets import Detections

DEFAULT_ATTRIBUTE = {
    "car": "vehicle.parked", "pedestrian": "pedestrian.moving", "trailer": "vehicle.parked",
    "truck": "vehicle.parked", "bus": "vehicle.moving", "motorcycle": "cycle.without_rider",
    "construction_vehicle": "vehicle.parked", "bicycle": "cycle.without_rider", "barrier": "", "traffic_cone": "",
}
VEHICLES = ("car", "construction_vehicle", "bus", "truck", "trailer")


def attribute_for(name: str, vx: float, vy: float) -> str:
    if math.hypot(vx, vy) > 0.2:
        if name in VEHICLES:
            return "vehicle.moving"
        if name in ("bicycle", "motorcycle"):
            return "cycle.with_rider"
        return DEFAULT_ATTRIBUTE[name]
    if name == "pedestrian":
        return "pedestrian.standing"
    if name == "bus":
        return "vehicle.stopped"
    return DEFAULT_ATTRIBUTE[name]


def to_results(det: Detections, sample_token: str, lidar_to_global: np.ndarray,
               class_names: tuple[str, ...]) -> list[DetectionBox]:
    """Global-frame boxes: centre and heading moved by the LiDAR pose, velocity rotated with it."""
    rot, trans = lidar_to_global[:3, :3], lidar_to_global[:3, 3]
    out = []
    for k in range(len(det.score)):
        name = class_names[int(det.label[k])]
        centre = rot @ det.center[k] + trans
        heading = rot @ np.array([math.cos(det.yaw[k]), math.sin(det.yaw[k]), 0.0])
        velocity = rot @ np.array([det.velocity[k, 0], det.velocity[k, 1], 0.0])
        out.append(DetectionBox(
            sample_token=sample_token, translation=tuple(float(v) for v in centre),
            size=tuple(float(max(v, 1e-3)) for v in det.size[k]),
            rotation=tuple(float(v) for v in yaw_to_quaternion(math.atan2(heading[1], heading[0]))),
            velocity=(float(velocity[0]), float(velocity[1])), detection_name=name,
            detection_score=float(det.score[k]), attribute_name=attribute_for(name, velocity[0], velocity[1])))
    return out
