"""Score SemanticKITTI prediction files as `evaluate_semantics.py` does, with errors that name the file.

GT: `<dataroot>/sequences/NN/labels/XXXXXX.label`; predictions: `<predictions>/sequences/NN/predictions/
XXXXXX.label`, uint32 in the raw label space (lower 16 bits semantic). Both go through `learning_map`
and one global matrix is reduced with the SemanticKITTI convention. The official script pairs files by
sorted position only; here every prediction must carry its scan's name, and lengths must match.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench3d.errors import DataError
from bench3d.labels import semantickitti as kitti
from bench3d.metrics.confusion import ConfusionMatrix
from bench3d.metrics.reducers import SegmentationScores, reduce_semantickitti

log = logging.getLogger(__name__)

SPLITS: dict[str, tuple[int, ...]] = {"train": kitti.TRAIN_SEQUENCES, "valid": kitti.VALID_SEQUENCES}


@dataclass(frozen=True)
class SemanticKittiEvaluation:
    sequences: tuple[int, ...]
    num_scans: int
    confusion: ConfusionMatrix
    scores: SegmentationScores


def _label_files(folder: Path, what: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataError(folder, f"{what} folder is missing")
    return {p.name: p for p in sorted(folder.iterdir()) if p.name.endswith(".label")}


def _read_train_ids(path: Path) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint32)
    try:
        return kitti.raw_to_train(kitti.semantic_part(raw))
    except ValueError as exc:
        raise DataError(path, str(exc), "write raw label ids (learning_map_inv), not train ids > 19") from None


def evaluate_semantickitti_predictions(
    dataroot: str | Path, predictions: str | Path, sequences: Sequence[int] = kitti.VALID_SEQUENCES
) -> SemanticKittiEvaluation:
    """Global confusion matrix and official mIoU / accuracy over all scans of `sequences`."""
    confusion = ConfusionMatrix(len(kitti.EVAL_CLASSES))
    num_scans = 0
    for seq in sequences:
        gt_files = _label_files(Path(dataroot) / "sequences" / f"{seq:02d}" / "labels", "ground-truth label")
        pred_dir = Path(predictions) / "sequences" / f"{seq:02d}" / "predictions"
        pred_files = _label_files(pred_dir, "prediction")
        missing, extra = sorted(gt_files.keys() - pred_files.keys()), sorted(pred_files.keys() - gt_files.keys())
        if missing:
            raise DataError(pred_dir / missing[0], f"prediction file is missing ({len(missing)} missing in {seq:02d})")
        if extra:
            raise DataError(pred_dir / extra[0], f"has no ground-truth scan ({len(extra)} extra files in {seq:02d})")
        for name, gt_path in gt_files.items():
            gt = _read_train_ids(gt_path)
            pred_path = pred_files[name]
            if pred_path.stat().st_size != gt_path.stat().st_size:
                raise DataError(
                    pred_path, f"has {pred_path.stat().st_size // 4} labels but the scan has {gt.size} points"
                )
            confusion.update(gt, _read_train_ids(pred_path))
            num_scans += 1
    log.info("scored %d SemanticKITTI scans (%d points)", num_scans, confusion.total)
    return SemanticKittiEvaluation(tuple(sequences), num_scans, confusion, reduce_semantickitti(confusion))
