"""bench3d's segmentation labels in mmdet3d's convention, to score the same predictions with `seg_eval`.

bench3d (like the nuScenes devkit) keeps the ignore class at index 0 and the evaluated classes at 1..K;
mmdet3d's `seg_eval(gt_labels, seg_preds, label2cat, ignore_index)` wants classes 0..K-1 and an ignore index.
Give it K (mmdet3d's own nuScenes and SemanticKITTI convention): `seg_eval` sets `iou[ignore_index] = nan`
when `ignore_index < K`, so a negative one (-1, the usual "no label") silently drops the *last* class from
the mean through Python's negative indexing. `seg_eval_arguments` never produces that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def seg_eval_arguments(gt: Sequence[np.ndarray], pred: Sequence[np.ndarray], class_names: Sequence[str],
                       ignore_index: int = 0) -> dict[str, Any]:
    """Keyword arguments for mmdet3d's `seg_eval` from per-frame bench3d labels (gt and pred in 0..K, ignore =
    `ignore_index`, evaluated classes = the rest, in order; `class_names` names those K classes)."""
    if len(gt) != len(pred):
        raise ValueError(f"{len(gt)} ground-truth frames but {len(pred)} prediction frames")
    num_classes = len(class_names)
    if not 0 <= ignore_index <= num_classes:
        raise ValueError(f"ignore_index {ignore_index} must be a label of the {num_classes + 1}-label space")
    # Old label -> new: evaluated classes to 0..K-1 in order, the ignore label to K.
    mapping = np.empty(num_classes + 1, np.int64)
    evaluated = [i for i in range(num_classes + 1) if i != ignore_index]
    mapping[evaluated] = np.arange(num_classes)
    mapping[ignore_index] = num_classes

    def convert(labels: np.ndarray, what: str) -> np.ndarray:
        labels = np.asarray(labels, np.int64)
        if labels.size and (labels.min() < 0 or labels.max() > num_classes):
            raise ValueError(f"{what} labels outside 0..{num_classes}")
        return mapping[labels]

    return {"gt_labels": [convert(g, "ground-truth") for g in gt],
            "seg_preds": [convert(p, "predicted") for p in pred],
            "label2cat": dict(enumerate(class_names)), "ignore_index": num_classes}
