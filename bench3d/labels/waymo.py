"""Waymo Open Dataset 3D semantic segmentation label space (`protos/segmentation.proto`).

Type 0 (UNDEFINED) marks unlabelled points; the official metric evaluates the other 22 types and
counts every other value as "outside the class list" (ignored as GT, a false negative as prediction).
"""

from __future__ import annotations

import numpy as np

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
