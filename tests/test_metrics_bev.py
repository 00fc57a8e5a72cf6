"""BEV segmentation IoU: binary masks per class, and BEVFusion-style max IoU over thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bench3d.metrics.bev import MAP_THRESHOLDS, BevIoU, MapSegmentationIoU, bev_iou_per_class


def test_per_class_iou_of_overlapping_masks():
    gt = np.zeros((3, 4, 4), dtype=bool)
    pred = np.zeros_like(gt)
    gt[0, :2], pred[0, 1:3] = True, True  # 4 shared cells of 12 -> 1/3
    gt[1], pred[1] = True, True  # identical -> 1
    # class 2 empty in both -> NaN
    iou = bev_iou_per_class(pred, gt)
    assert iou[0] == pytest.approx(1 / 3) and iou[1] == 1.0 and math.isnan(iou[2])


def test_streaming_accumulates_counts_not_per_sample_scores():
    acc = BevIoU(["lane"])
    gt_a, pred_a = np.ones((1, 1, 10, 10), bool), np.ones((1, 1, 10, 10), bool)  # IoU 1 on 100 cells
    gt_b, pred_b = np.ones((1, 1, 1, 2), bool), np.array([[[[True, False]]]])  # IoU 0.5 on 2 cells
    acc.update(pred_a, gt_a)
    acc.update(torch.from_numpy(pred_b), torch.from_numpy(gt_b))
    assert acc.result()["lane"] == pytest.approx(101 / 102)
    with pytest.raises(ValueError, match=r"\(\.\.\., 1, H, W\)"):
        acc.update(np.ones((2, 4, 4), bool), np.ones((2, 4, 4), bool))


def bevfusion_reference(probs: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """BEVFusion's `evaluate_map` restated (float32 accumulators, +1e-7), for a list of samples."""
    thresholds = torch.tensor(MAP_THRESHOLDS)
    c = probs.shape[1]
    tp, fp, fn = torch.zeros(c, 7), torch.zeros(c, 7), torch.zeros(c, 7)
    for pred, label in zip(probs, labels):
        pred = pred.reshape(c, -1)[:, :, None] >= thresholds
        label = label.bool().reshape(c, -1)[:, :, None]
        tp += (pred & label).sum(dim=1)
        fp += (pred & ~label).sum(dim=1)
        fn += (~pred & label).sum(dim=1)
    ious = tp / (tp + fp + fn + 1e-7)
    return {"best": ious.max(dim=1).values.tolist(), "mean": ious.max(dim=1).values.mean().item()}


def test_map_segmentation_matches_bevfusion():
    gen = torch.Generator().manual_seed(0)
    labels = torch.rand(3, 2, 20, 20, generator=gen) > 0.6
    probs = (labels.float() * 0.3 + torch.rand(3, 2, 20, 20, generator=gen) * 0.7).clamp(0, 1)
    metric = MapSegmentationIoU(["drivable_area", "divider"])
    for p, g in zip(probs, labels):
        metric.update(p, g)
    scores = metric.result()
    ref = bevfusion_reference(probs, labels)
    assert [scores.iou_at_max[n] for n in ("drivable_area", "divider")] == pytest.approx(ref["best"], abs=1e-6)
    assert scores.mean_iou_at_max == pytest.approx(ref["mean"], abs=1e-6)
    flat = scores.to_dict()
    assert "map/divider/iou@0.35" in flat and flat["map/mean/iou@max"] == scores.mean_iou_at_max
    assert scores.iou_at_max["divider"] == max(scores.iou["divider"])
