"""One reducer per dataset convention: the same global confusion matrix, three official mIoU definitions.

They agree only when every class occurs and nobody predicts the ignore label (research notes §0):
* nuscenes      - devkit `LidarSegEval`: ignore row and column zeroed, empty union -> NaN, nanmean;
                  a prediction of the ignore class is an error (the devkit asserts 1 <= pred <= 16).
* semantickitti - `evaluate_semantics.py`: rows = prediction, ignore GT column zeroed, IoU = tp /
                  (tp + fp + fn + 1e-15) so an absent class scores 0 and still counts in the mean.
* waymo         - `segmentation_metrics.cc`: an extra "not an evaluated class" bin (here label 0);
                  GT in it is ignored, a prediction in it is a false negative; empty union -> IoU 1.0.
Each reducer reproduces its tool's arithmetic too (float32 union for nuScenes, float32 for Waymo).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench3d.labels import nuscenes as nuscenes_labels
from bench3d.labels import semantickitti as kitti_labels
from bench3d.labels import waymo as waymo_labels
from bench3d.metrics.confusion import ConfusionMatrix


@dataclass(frozen=True)
class SegmentationScores:
    """Per-class IoU (evaluated classes only), mIoU and accuracy, stamped with the reducer that made them.

    Accuracy is the official one for SemanticKITTI; nuScenes and Waymo publish none, so there it is
    correct / valid-GT points of the same matrix (reported, not a challenge metric).
    """

    reducer: str
    iou_per_class: dict[str, float]
    miou: float
    accuracy: float
    num_points: int  # points with a valid (non-ignored) ground truth
    extras: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN (a class the convention leaves out) becomes None."""

        def clean(value: float) -> float | None:
            return None if math.isnan(value) else value

        return {
            "reducer": self.reducer,
            "miou": clean(self.miou),
            "accuracy": clean(self.accuracy),
            "num_points": self.num_points,
            "iou_per_class": {name: clean(v) for name, v in self.iou_per_class.items()},
            **{name: clean(v) for name, v in self.extras.items()},
        }


def _class_names(cm: ConfusionMatrix, names: Sequence[str] | None, default: Sequence[str]) -> list[str]:
    if names is None:
        names = default if len(default) == cm.num_classes else [str(i) for i in range(cm.num_classes)]
    if len(names) != cm.num_classes:
        raise ValueError(f"{len(names)} class names for a {cm.num_classes}-class confusion matrix")
    return list(names)


def reduce_nuscenes(
    cm: ConfusionMatrix, class_names: Sequence[str] | None = None, ignore_index: int = 0
) -> SegmentationScores:
    """nuScenes-lidarseg mIoU exactly as `nuscenes.eval.lidarseg` computes it."""
    names = _class_names(cm, class_names, nuscenes_labels.EVAL_CLASSES)
    counts = cm.counts.copy()
    predicted_ignore = int(counts[:, ignore_index].sum())
    if predicted_ignore:
        raise ValueError(
            f"{predicted_ignore} points are predicted as the ignore class {ignore_index}; nuScenes "
            f"predictions must be in 1..{cm.num_classes - 1} (the devkit rejects them)"
        )
    counts[ignore_index, :] = 0
    counts[:, ignore_index] = 0
    intersection = np.diagonal(counts)
    gt_points = counts.sum(axis=1)
    union = gt_points + counts.sum(axis=0) - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = intersection / union.astype(np.float32)  # the devkit divides by a float32 union
        miou = float(np.nanmean(iou)) if not np.all(np.isnan(iou)) else math.nan
        total = counts.sum()
        accuracy = float(intersection.sum() / total) if total else math.nan
        fw_iou = float(np.nansum(gt_points * iou) / total) if total else math.nan
    return SegmentationScores(
        reducer="nuscenes",
        iou_per_class={n: float(v) for i, (n, v) in enumerate(zip(names, iou)) if i != ignore_index},
        miou=miou,
        accuracy=accuracy,
        num_points=int(total),
        extras={"freq_weighted_iou": fw_iou},
    )


def reduce_semantickitti(
    cm: ConfusionMatrix, class_names: Sequence[str] | None = None, ignore: Sequence[int] = (0,)
) -> SegmentationScores:
    """SemanticKITTI mIoU and accuracy exactly as `evaluate_semantics.py` (`np_ioueval.iouEval`)."""
    names = _class_names(cm, class_names, kitti_labels.EVAL_CLASSES)
    conf = cm.counts.T.copy()  # the official matrix has rows = prediction, columns = GT
    ignored = np.asarray(ignore, dtype=np.int64)
    include = np.array([c for c in range(cm.num_classes) if c not in set(ignore)], dtype=np.int64)
    conf[:, ignored] = 0
    tp = np.diag(conf)
    fp = conf.sum(axis=1) - tp
    fn = conf.sum(axis=0) - tp
    union = tp + fp + fn + 1e-15
    iou = tp / union
    miou = float((tp[include] / union[include]).mean())
    accuracy = float(tp.sum() / (tp[include].sum() + fp[include].sum() + 1e-15))
    return SegmentationScores(
        reducer="semantickitti",
        iou_per_class={names[c]: float(iou[c]) for c in include},
        miou=miou,
        accuracy=accuracy,
        num_points=int(conf.sum()),
    )


def reduce_waymo(
    cm: ConfusionMatrix, class_names: Sequence[str] | None = None, other_index: int = 0
) -> SegmentationScores:
    """Waymo 3D semseg mIoU exactly as `SegmentationMetricsIOU::ComputeIOU` (float32 arithmetic)."""
    names = _class_names(cm, class_names, waymo_labels.SEGMENTATION_CLASSES)
    counts = cm.counts
    evaluated = [c for c in range(cm.num_classes) if c != other_index]
    ious: list[np.float32] = []
    correct = valid = 0
    for c in evaluated:
        intersection = int(counts[c, c])
        union = int(counts[c, evaluated].sum() + counts[evaluated, c].sum()) - intersection
        union += int(counts[c, other_index])  # valid GT predicted outside the list: a false negative
        ious.append(np.float32(intersection) / np.float32(union) if union > 0 else np.float32(1.0))
        correct += intersection
        valid += int(counts[c, :].sum())
    mean = np.float32(0.0)
    for value in ious:  # sequential float32 sum, as the C++ loop
        mean = np.float32(mean + value)
    miou = float(mean / np.float32(len(ious))) if ious else math.nan
    return SegmentationScores(
        reducer="waymo",
        iou_per_class={names[c]: float(v) for c, v in zip(evaluated, ious)},
        miou=miou,
        accuracy=correct / valid if valid else math.nan,
        num_points=valid,
    )


Reducer = Callable[..., SegmentationScores]
REDUCERS: dict[str, Reducer] = {
    "nuscenes": reduce_nuscenes,
    "semantickitti": reduce_semantickitti,
    "waymo": reduce_waymo,
}
