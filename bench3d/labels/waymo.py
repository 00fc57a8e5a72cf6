"""Waymo Open Dataset 3D semantic segmentation label space (`protos/segmentation.proto`).

Type 0 (UNDEFINED) marks unlabelled points; the official metric evaluates the other 22 types and
counts every other value as "outside the class list" (ignored as GT, a false negative as prediction).
"""

from __future__ import annotations

import numpy as np

from bench3d.labels.nuscenes import lut_by_fine_name

SEGMENTATION_CLASSES: tuple[str, ...] = (
    "UNDEFINED",
    "CAR",
    "TRUCK",
    "BUS",
    "OTHER_VEHICLE",
    "MOTORCYCLIST",
    "BICYCLIST",
    "PEDESTRIAN",
    "SIGN",
    "TRAFFIC_LIGHT",
    "POLE",
    "CONSTRUCTION_CONE",
    "BICYCLE",
    "MOTORCYCLE",
    "BUILDING",
    "VEGETATION",
    "TREE_TRUNK",
    "CURB",
    "ROAD",
    "LANE_MARKER",
    "OTHER_GROUND",
    "WALKABLE",
    "SIDEWALK",
)
UNDEFINED_INDEX = 0
NUM_EVAL_CLASSES = len(SEGMENTATION_CLASSES) - 1  # 22


def to_eval_ids(types: np.ndarray) -> np.ndarray:
    """Any integer type -> 0..22, with every value outside the 22 evaluated types sent to 0.

    The official tool maps values outside its class list to one extra bin; here that bin is 0 (UNDEFINED),
    which the Waymo reducer treats the same way.
    """
    types = np.asarray(types).astype(np.int64)
    return np.where((types >= 1) & (types <= NUM_EVAL_CLASSES), types, UNDEFINED_INDEX)


# The synthetic world's classes (nuScenes fine names) as Waymo segmentation types: what a Waymo-format writer
# of the world puts in `lidar_segmentation`. No counterpart -> UNDEFINED (0); static.manmade -> BUILDING (the world
# has no separate poles, signs or trunks); flat.other -> OTHER_GROUND; flat.terrain -> WALKABLE (Waymo's
# "grass, dirt" class).
FROM_NUSCENES_FINE: dict[str, int] = {
    "noise": 0, "animal": 0,
    "human.pedestrian.adult": 7, "human.pedestrian.child": 7, "human.pedestrian.construction_worker": 7,
    "human.pedestrian.personal_mobility": 7, "human.pedestrian.police_officer": 7,
    "human.pedestrian.stroller": 7, "human.pedestrian.wheelchair": 7,
    "movable_object.barrier": 0, "movable_object.debris": 0, "movable_object.pushable_pullable": 0,
    "movable_object.trafficcone": 11, "static_object.bicycle_rack": 0,
    "vehicle.bicycle": 12, "vehicle.bus.bendy": 3, "vehicle.bus.rigid": 3, "vehicle.car": 1,
    "vehicle.construction": 4, "vehicle.emergency.ambulance": 4, "vehicle.emergency.police": 1,
    "vehicle.motorcycle": 13, "vehicle.trailer": 4, "vehicle.truck": 2,
    "flat.driveable_surface": 18, "flat.other": 20, "flat.sidewalk": 22, "flat.terrain": 21,
    "static.manmade": 14, "static.other": 0, "static.vegetation": 15, "vehicle.ego": 0,
}  # fmt: skip


FINE_TO_TYPE_LUT: np.ndarray = lut_by_fine_name(FROM_NUSCENES_FINE, np.int32)


def types_from_nuscenes_fine(fine: np.ndarray) -> np.ndarray:
    """nuScenes fine ids (0..31) -> Waymo segmentation types, per `FROM_NUSCENES_FINE`."""
    return FINE_TO_TYPE_LUT[np.asarray(fine)]
