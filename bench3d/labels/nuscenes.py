"""nuScenes-lidarseg label space: 32 fine classes (category.json `index`) and the 16 challenge classes.

The fine index is the alphabetical order of the names (as in the real category.json and the devkit's
colour map); the fine -> challenge mapping is the devkit's LidarsegClassMapper, 0 = ignore.
"""

from __future__ import annotations

import numpy as np

FINE_CLASSES: tuple[str, ...] = (
    "noise",
    "animal",
    "human.pedestrian.adult",
    "human.pedestrian.child",
    "human.pedestrian.construction_worker",
    "human.pedestrian.personal_mobility",
    "human.pedestrian.police_officer",
    "human.pedestrian.stroller",
    "human.pedestrian.wheelchair",
    "movable_object.barrier",
    "movable_object.debris",
    "movable_object.pushable_pullable",
    "movable_object.trafficcone",
    "static_object.bicycle_rack",
    "vehicle.bicycle",
    "vehicle.bus.bendy",
    "vehicle.bus.rigid",
    "vehicle.car",
    "vehicle.construction",
    "vehicle.emergency.ambulance",
    "vehicle.emergency.police",
    "vehicle.motorcycle",
    "vehicle.trailer",
    "vehicle.truck",
    "flat.driveable_surface",
    "flat.other",
    "flat.sidewalk",
    "flat.terrain",
    "static.manmade",
    "static.other",
    "static.vegetation",
    "vehicle.ego",
)
FINE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FINE_CLASSES)}

# Challenge classes, index 0 = ignore.
EVAL_CLASSES: tuple[str, ...] = (
    "ignore",
    "barrier",
    "bicycle",
    "bus",
    "car",
    "construction_vehicle",
    "motorcycle",
    "pedestrian",
    "traffic_cone",
    "trailer",
    "truck",
    "driveable_surface",
    "other_flat",
    "sidewalk",
    "terrain",
    "manmade",
    "vegetation",
)
IGNORE_INDEX = 0
NUM_EVAL_CLASSES = len(EVAL_CLASSES) - 1  # 16

FINE_TO_EVAL_NAME: dict[str, str] = {
    "movable_object.barrier": "barrier",
    "vehicle.bicycle": "bicycle",
    "vehicle.bus.bendy": "bus",
    "vehicle.bus.rigid": "bus",
    "vehicle.car": "car",
    "vehicle.construction": "construction_vehicle",
    "vehicle.motorcycle": "motorcycle",
    "human.pedestrian.adult": "pedestrian",
    "human.pedestrian.child": "pedestrian",
    "human.pedestrian.construction_worker": "pedestrian",
    "human.pedestrian.police_officer": "pedestrian",
    "movable_object.trafficcone": "traffic_cone",
    "vehicle.trailer": "trailer",
    "vehicle.truck": "truck",
    "flat.driveable_surface": "driveable_surface",
    "flat.other": "other_flat",
    "flat.sidewalk": "sidewalk",
    "flat.terrain": "terrain",
    "static.manmade": "manmade",
    "static.vegetation": "vegetation",
}

# Lookup table fine index -> challenge index (unlisted fine classes map to ignore).
FINE_TO_EVAL: np.ndarray = np.array(
    [EVAL_CLASSES.index(FINE_TO_EVAL_NAME.get(name, "ignore")) for name in FINE_CLASSES], dtype=np.uint8
)


def fine_to_eval(labels: np.ndarray) -> np.ndarray:
    """Map fine nuScenes label ids (0..31) to challenge ids (0 = ignore, 1..16)."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= len(FINE_CLASSES)):
        bad = labels[(labels < 0) | (labels >= len(FINE_CLASSES))][0]
        raise ValueError(f"nuScenes fine label {int(bad)} is outside 0..{len(FINE_CLASSES) - 1}")
    return FINE_TO_EVAL[labels]


def lut_by_fine_name(mapping: dict[str, int], dtype: type = np.int64) -> np.ndarray:
    """Lookup table over the fine ids from a {fine name: id} map that must name every fine class (another
    dataset's ids for the synthetic world's classes)."""
    missing = sorted(set(FINE_CLASSES) - set(mapping))
    if missing:
        raise ValueError(f"the map has no entry for fine classes {missing}")
    return np.array([mapping[name] for name in FINE_CLASSES], dtype=dtype)
