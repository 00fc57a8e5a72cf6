"""Reducers: golden toy values from the research notes (§0, §5, §6.3) and cross-checks with torchmetrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchmetrics.classification import MulticlassJaccardIndex

from bench3d.metrics import REDUCERS, ConfusionMatrix, reduce_nuscenes, reduce_semantickitti, reduce_waymo

TOY_NAMES = ("ignore", "a", "b", "c")
TOY_GT = np.array([1, 1, 1, 2, 2, 0, 0])
TOY_PRED = np.array([1, 1, 2, 2, 1, 1, 2])


def toy_matrix() -> ConfusionMatrix:
    return ConfusionMatrix(4).update(TOY_GT, TOY_PRED)


def test_toy_nuscenes_drops_absent_class():
    scores = reduce_nuscenes(toy_matrix(), TOY_NAMES)
    assert scores.miou == pytest.approx((0.5 + 1 / 3) / 2)
    assert round(scores.miou, 4) == 0.4167
    assert math.isnan(scores.iou_per_class["c"])
    assert scores.reducer == "nuscenes"


def test_toy_semantickitti_counts_absent_class_as_zero():
    scores = reduce_semantickitti(toy_matrix(), TOY_NAMES)
    assert scores.miou == pytest.approx((0.5 + 1 / 3 + 0) / 3)
    assert round(scores.miou, 4) == 0.2778
    assert scores.iou_per_class["c"] == 0.0


def test_toy_waymo_scores_absent_class_one():
    scores = reduce_waymo(toy_matrix(), TOY_NAMES)
    assert scores.miou == pytest.approx((0.5 + 1 / 3 + 1) / 3, abs=1e-7)
    assert round(scores.miou, 4) == 0.6111
    assert scores.iou_per_class["c"] == 1.0


def test_toy_torchmetrics_agrees_with_nuscenes():
    metric = MulticlassJaccardIndex(num_classes=4, ignore_index=0, average="macro")
    value = float(metric(torch.from_numpy(TOY_PRED), torch.from_numpy(TOY_GT)))
    assert round(value, 4) == 0.4167


def test_prediction_of_ignore_label():
    """§5: GT [1,1,2], pred [1,0,2]: SemanticKITTI and Waymo count a false negative (0.75); nuScenes rejects it."""
    cm = ConfusionMatrix(3).update(np.array([1, 1, 2]), np.array([1, 0, 2]))
    assert reduce_semantickitti(cm, ("ignore", "a", "b")).miou == pytest.approx(0.75)
    assert reduce_waymo(cm, ("other", "a", "b")).miou == pytest.approx(0.75)
    with pytest.raises(ValueError, match="predicted as the ignore class"):
        reduce_nuscenes(cm, ("ignore", "a", "b"))


def test_global_accumulation_differs_from_per_scan_mean():
    """§0 / §6.3 two-scan toy: per-scan mean 0.625, global matrix 0.745.

    Scan A: 14 points of class a and 3 of class b, all right (mIoU 1.0). Scan B: 6 points of class b, half
    predicted as a (IoU a = 0, b = 0.5, mIoU 0.25). Globally a = 14/17, b = 6/9.
    """
    scan_a = (np.array([1] * 14 + [2] * 3), np.array([1] * 14 + [2] * 3))
    scan_b = (np.array([2] * 6), np.array([1, 1, 1, 2, 2, 2]))
    names = ("ignore", "a", "b")
    for reducer in REDUCERS.values():
        per_scan = [reducer(ConfusionMatrix(3).update(*scan), names).miou for scan in (scan_a, scan_b)]
        global_cm = ConfusionMatrix(3).update(*scan_a).update(*scan_b)
        assert np.mean(per_scan) == pytest.approx(0.625)
        assert reducer(global_cm, names).miou == pytest.approx((14 / 17 + 6 / 9) / 2, abs=1e-7)
        assert round(reducer(global_cm, names).miou, 3) == 0.745


def random_labels(seed: int, n: int = 50_000, absent: tuple[int, ...] = (5, 9)) -> tuple[np.ndarray, np.ndarray]:
    """GT in 0..16 and predictions in 1..16 with some classes absent from both (the interesting case)."""
    rng = np.random.default_rng(seed)
    gt, pred = rng.integers(0, 17, n), rng.integers(1, 17, n)
    for cls in absent:
        gt[gt == cls], pred[pred == cls] = 4, 4
    return gt, pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nuscenes_equals_torchmetrics_macro(seed):
    """torchmetrics reduces in float32, so its returned value agrees to float32 precision; its own macro rule
    (weight 0 for ignore and absent classes) evaluated in float64 on its integer state agrees to 1e-9."""
    gt, pred = random_labels(seed)
    metric = MulticlassJaccardIndex(num_classes=17, ignore_index=0, average="macro")
    metric.update(torch.from_numpy(pred), torch.from_numpy(gt))
    ours = reduce_nuscenes(ConfusionMatrix(17).update(gt, pred)).miou

    assert abs(ours - float(metric.compute())) <= 1e-6
    state = metric.confmat.to(torch.float64)  # integer counts with ignored-GT points removed
    inter = torch.diag(state)
    union = state.sum(0) + state.sum(1) - inter
    weights = torch.ones(17, dtype=torch.float64)
    weights[0] = 0.0
    weights[union == 0] = 0.0
    iou = torch.where(union > 0, inter / union.clamp(min=1), torch.zeros_like(union))
    assert abs(ours - float((weights * iou).sum() / weights.sum())) <= 1e-9


def test_semantickitti_accuracy_matches_official_formula():
    # rows = GT here; the official matrix is its transpose. Accuracy = correct / (valid GT not predicted 0).
    cm = ConfusionMatrix(3).update(np.array([1, 1, 2, 2, 0]), np.array([1, 0, 2, 1, 2]))
    scores = reduce_semantickitti(cm, ("ignore", "a", "b"))
    assert scores.accuracy == pytest.approx(2 / 3)
    assert scores.num_points == 4


def test_waymo_union_counts_other_predictions_as_false_negatives():
    # GT b predicted "other" (bin 0) once: union of b = 2, IoU 0.5; GT "other" rows are ignored.
    cm = ConfusionMatrix(3).update(np.array([1, 2, 2, 0]), np.array([1, 2, 0, 2]))
    scores = reduce_waymo(cm, ("other", "a", "b"))
    assert scores.iou_per_class == {"a": 1.0, "b": 0.5}
    assert scores.accuracy == pytest.approx(2 / 3)


def test_nuscenes_uses_float32_union_like_the_devkit():
    counts = np.zeros((3, 3), dtype=np.int64)
    counts[1, 1], counts[1, 2], counts[2, 2] = 2**25 + 1, 2, 5  # union of class 1 not exact in float32
    scores = reduce_nuscenes(ConfusionMatrix(3, counts), ("ignore", "a", "b"))
    assert scores.iou_per_class["a"] == (2**25 + 1) / float(np.float32(2**25 + 3))


def test_reducer_registry_and_json_output():
    assert set(REDUCERS) == {"nuscenes", "semantickitti", "waymo"}
    payload = reduce_nuscenes(toy_matrix(), TOY_NAMES).to_dict()
    assert payload["reducer"] == "nuscenes" and payload["iou_per_class"]["c"] is None
    assert "freq_weighted_iou" in payload


def test_default_class_names_follow_the_dataset():
    assert list(reduce_nuscenes(ConfusionMatrix(17)).iou_per_class)[0] == "barrier"
    assert len(reduce_semantickitti(ConfusionMatrix(20)).iou_per_class) == 19
    assert list(reduce_waymo(ConfusionMatrix(23)).iou_per_class)[-1] == "SIDEWALK"
    with pytest.raises(ValueError, match="class names"):
        reduce_nuscenes(ConfusionMatrix(3), ("a", "b"))
