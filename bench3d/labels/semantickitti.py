"""SemanticKITTI label space, as data from the official `config/semantic-kitti.yaml` (PRBonn/semantic-kitti-api).

Raw ids (lower 16 bits of a `.label` value) map through `LEARNING_MAP` to 0 = unlabeled (ignored) and
19 evaluated classes 1..19; `LEARNING_MAP_INV` maps train ids back to raw ids, which is the space that
prediction files must be written in. The official evaluator's lookup table has `max key + 100` entries,
zero by default: a raw id without an entry silently becomes 0, an id beyond the table is an error.
"""

from __future__ import annotations

import numpy as np

from bench3d.labels.nuscenes import lut_by_fine_name

RAW_LABELS: dict[int, str] = {
    0: "unlabeled",
    1: "outlier",
    10: "car",
    11: "bicycle",
    13: "bus",
    15: "motorcycle",
    16: "on-rails",
    18: "truck",
    20: "other-vehicle",
    30: "person",
    31: "bicyclist",
    32: "motorcyclist",
    40: "road",
    44: "parking",
    48: "sidewalk",
    49: "other-ground",
    50: "building",
    51: "fence",
    52: "other-structure",
    60: "lane-marking",
    70: "vegetation",
    71: "trunk",
    72: "terrain",
    80: "pole",
    81: "traffic-sign",
    99: "other-object",
    252: "moving-car",
    253: "moving-bicyclist",
    254: "moving-person",
    255: "moving-motorcyclist",
    256: "moving-on-rails",
    257: "moving-bus",
    258: "moving-truck",
    259: "moving-other-vehicle",
}

LEARNING_MAP: dict[int, int] = {
    0: 0, 1: 0, 10: 1, 11: 2, 13: 5, 15: 3, 16: 5, 18: 4, 20: 5, 30: 6, 31: 7, 32: 8, 40: 9, 44: 10,
    48: 11, 49: 12, 50: 13, 51: 14, 52: 0, 60: 9, 70: 15, 71: 16, 72: 17, 80: 18, 81: 19, 99: 0,
    252: 1, 253: 7, 254: 6, 255: 8, 256: 5, 257: 5, 258: 4, 259: 5,
}  # fmt: skip

LEARNING_MAP_INV: dict[int, int] = {
    0: 0, 1: 10, 2: 11, 3: 15, 4: 18, 5: 20, 6: 30, 7: 31, 8: 32, 9: 40, 10: 44, 11: 48, 12: 49,
    13: 50, 14: 51, 15: 70, 16: 71, 17: 72, 18: 80, 19: 81,
}  # fmt: skip

# Train ids 0..19; 0 is the only ignored class (`learning_ignore`).
EVAL_CLASSES: tuple[str, ...] = (
    "unlabeled",
    "car",
    "bicycle",
    "motorcycle",
    "truck",
    "other-vehicle",
    "person",
    "bicyclist",
    "motorcyclist",
    "road",
    "parking",
    "sidewalk",
    "other-ground",
    "building",
    "fence",
    "vegetation",
    "trunk",
    "terrain",
    "pole",
    "traffic-sign",
)
IGNORE_INDEX = 0
NUM_EVAL_CLASSES = len(EVAL_CLASSES) - 1  # 19

TRAIN_SEQUENCES: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10)
VALID_SEQUENCES: tuple[int, ...] = (8,)
TEST_SEQUENCES: tuple[int, ...] = tuple(range(11, 22))
# Scans per labelled sequence (velodyne/*.bin counts of the released odometry data).
SCANS_PER_SEQUENCE: dict[int, int] = {
    0: 4541, 1: 1101, 2: 4661, 3: 801, 4: 271, 5: 2761, 6: 1101, 7: 1101, 8: 4071, 9: 1591, 10: 1201,
}  # fmt: skip

SEMANTIC_MASK = 0xFFFF  # lower 16 bits of a .label value; the upper 16 are the instance id

_LUT_SIZE = max(LEARNING_MAP) + 100  # as the official evaluator builds it
LEARNING_MAP_LUT: np.ndarray = np.zeros(_LUT_SIZE, dtype=np.int32)
for _raw, _train in LEARNING_MAP.items():
    LEARNING_MAP_LUT[_raw] = _train
LEARNING_MAP_INV_LUT: np.ndarray = np.array(
    [LEARNING_MAP_INV[i] for i in range(len(EVAL_CLASSES))], dtype=np.uint32
)


def semantic_part(raw_labels: np.ndarray) -> np.ndarray:
    """Semantic raw id of `.label` values (uint32: semantic in the lower 16 bits, instance above)."""
    return np.asarray(raw_labels).astype(np.int64) & SEMANTIC_MASK


def raw_to_train(raw_semantic: np.ndarray) -> np.ndarray:
    """Raw semantic ids -> train ids 0..19, exactly as the official evaluator (unknown ids -> 0)."""
    raw_semantic = np.asarray(raw_semantic)
    if raw_semantic.size and (raw_semantic.min() < 0 or raw_semantic.max() >= _LUT_SIZE):
        bad = raw_semantic[(raw_semantic < 0) | (raw_semantic >= _LUT_SIZE)][0]
        raise ValueError(f"SemanticKITTI raw label {int(bad)} is outside the evaluator's table 0..{_LUT_SIZE - 1}")
    return LEARNING_MAP_LUT[raw_semantic]


def train_to_raw(train_ids: np.ndarray) -> np.ndarray:
    """Train ids 0..19 -> raw ids (uint32), the space a prediction `.label` file is written in."""
    train_ids = np.asarray(train_ids)
    if train_ids.size and (train_ids.min() < 0 or train_ids.max() >= len(EVAL_CLASSES)):
        raise ValueError(f"SemanticKITTI train ids must be in 0..{len(EVAL_CLASSES) - 1}")
    return LEARNING_MAP_INV_LUT[train_ids]


# The synthetic world's classes (nuScenes fine names) as SemanticKITTI raw ids: what `bench3d synth --format
# semantickitti` writes into `.label` files. Classes SemanticKITTI has no counterpart for become 0 (unlabeled)
# or 99 (other-object, also ignored); static.manmade is written as building, the coarsest KITTI class that
# holds walls and other built structure (the world has no separate poles, signs or trunks).
FROM_NUSCENES_FINE: dict[str, int] = {
    "noise": 0, "animal": 0,
    "human.pedestrian.adult": 30, "human.pedestrian.child": 30, "human.pedestrian.construction_worker": 30,
    "human.pedestrian.personal_mobility": 30, "human.pedestrian.police_officer": 30,
    "human.pedestrian.stroller": 99, "human.pedestrian.wheelchair": 99,
    "movable_object.barrier": 51, "movable_object.debris": 99, "movable_object.pushable_pullable": 99,
    "movable_object.trafficcone": 99, "static_object.bicycle_rack": 99,
    "vehicle.bicycle": 11, "vehicle.bus.bendy": 13, "vehicle.bus.rigid": 13, "vehicle.car": 10,
    "vehicle.construction": 20, "vehicle.emergency.ambulance": 20, "vehicle.emergency.police": 10,
    "vehicle.motorcycle": 15, "vehicle.trailer": 20, "vehicle.truck": 18,
    "flat.driveable_surface": 40, "flat.other": 49, "flat.sidewalk": 48, "flat.terrain": 72,
    "static.manmade": 50, "static.other": 99, "static.vegetation": 70, "vehicle.ego": 0,
}  # fmt: skip


FINE_TO_RAW_LUT: np.ndarray = lut_by_fine_name(FROM_NUSCENES_FINE, np.uint32)


def raw_from_nuscenes_fine(fine: np.ndarray) -> np.ndarray:
    """nuScenes fine ids (0..31) -> SemanticKITTI raw ids (uint32), per `FROM_NUSCENES_FINE`."""
    return FINE_TO_RAW_LUT[np.asarray(fine)]
