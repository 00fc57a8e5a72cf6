"""Score a nuScenes-lidarseg submission folder against a release, as `LidarSegEval` does, without the devkit.

Layout (devkit `eval/lidarseg/README.md`): `<predictions>/lidarseg/<eval_set>/<lidar_sd_token>_lidarseg.bin`,
one uint8 file per keyframe of the split, values 1..16, same length and order as the point cloud.
Ground truth is the release's lidarseg file, mapped fine -> challenge class through `category.json`.
Unlike the devkit (which asserts), every problem is a DataError that names the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench3d.data.nuscenes.tables import NuScenesTables, read_table
from bench3d.errors import DataError
from bench3d.labels.nuscenes import EVAL_CLASSES, FINE_TO_EVAL_NAME, IGNORE_INDEX
from bench3d.metrics.confusion import ConfusionMatrix
from bench3d.metrics.reducers import SegmentationScores, reduce_nuscenes

log = logging.getLogger(__name__)

PREDICTION_SUFFIX = "_lidarseg.bin"


@dataclass(frozen=True)
class LidarsegEvaluation:
    eval_set: str
    num_samples: int
    confusion: ConfusionMatrix
    scores: SegmentationScores


def fine_to_eval_table(dataroot: str | Path, version: str) -> np.ndarray:
    """Lookup table fine index -> challenge index built from the release's own category.json (as the devkit)."""
    path = Path(dataroot) / version / "category.json"
    records = read_table(dataroot, version, "category")
    indexed = [r for r in records if "index" in r]
    if len(indexed) != len(records) or not records:
        raise DataError(path, "categories lack the lidarseg `index` field", "install nuScenes-lidarseg")
    table = np.full(max(r["index"] for r in indexed) + 1, -1, dtype=np.int16)
    for record in indexed:
        coarse = FINE_TO_EVAL_NAME.get(record["name"], EVAL_CLASSES[IGNORE_INDEX])
        table[record["index"]] = EVAL_CLASSES.index(coarse)
    return table


def _check_prediction_files(pred_dir: Path, expected: set[str]) -> None:
    if not pred_dir.is_dir():
        raise DataError(pred_dir, "prediction folder is missing", "expected <predictions>/lidarseg/<eval_set>/")
    present = {p.name for p in pred_dir.iterdir()}
    missing, extra = sorted(expected - present), sorted(present - expected)
    if missing:
        raise DataError(
            pred_dir / missing[0],
            f"prediction file is missing ({len(missing)} of {len(expected)} missing)",
            "write one <lidar_sample_data_token>_lidarseg.bin per keyframe of the eval set",
        )
    if extra:
        raise DataError(
            pred_dir / extra[0],
            f"file does not belong to a keyframe of this eval set ({len(extra)} extra files)",
            "remove it, or evaluate the split it was written for",
        )


def evaluate_lidarseg_submission(
    dataroot: str | Path, version: str, eval_set: str, predictions: str | Path
) -> LidarsegEvaluation:
    """Global confusion matrix and nuScenes mIoU of a submission folder over all keyframes of `eval_set`."""
    tables = NuScenesTables.load(dataroot, version)
    lut = fine_to_eval_table(dataroot, version)
    sample_tokens = tables.split_samples(eval_set)
    lidar_tokens = [tables.lidar_token(t) for t in sample_tokens]
    pred_dir = Path(predictions) / "lidarseg" / eval_set
    _check_prediction_files(pred_dir, {t + PREDICTION_SUFFIX for t in lidar_tokens})

    num_classes = len(EVAL_CLASSES)
    confusion = ConfusionMatrix(num_classes)
    for lidar_token in lidar_tokens:
        gt_path = tables.lidarseg_path(lidar_token)
        if not gt_path.is_file():
            raise DataError(gt_path, "ground-truth lidarseg file is missing")
        fine = np.fromfile(gt_path, dtype=np.uint8)
        if fine.size == 0 or fine.max() >= lut.size or (lut[fine] < 0).any():
            raise DataError(gt_path, "holds labels without a category index (or is empty)")
        pred_path = pred_dir / (lidar_token + PREDICTION_SUFFIX)
        pred = np.fromfile(pred_path, dtype=np.uint8)
        if pred.size != fine.size:
            raise DataError(pred_path, f"has {pred.size} labels but the point cloud has {fine.size} points")
        if pred.min() < 1 or pred.max() >= num_classes:
            bad = int(pred[(pred < 1) | (pred >= num_classes)][0])
            raise DataError(pred_path, f"holds class {bad}; predictions must be in 1..{num_classes - 1}")
        confusion.update(lut[fine], pred)
    log.info("scored %d keyframes of %s (%d points)", len(lidar_tokens), eval_set, confusion.total)
    return LidarsegEvaluation(eval_set, len(lidar_tokens), confusion, reduce_nuscenes(confusion))
