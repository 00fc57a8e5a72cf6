"""Cross-checks against step-by-step restatements of the official SemanticKITTI and Waymo algorithms.

The restatements follow the reference sources line by line (np_ioueval.iouEval: np.add.at into a
rows = prediction matrix; segmentation_metrics.cc: explicit type -> list-index mapping with an extra bin,
float32 arithmetic), independently of the bincount core and the reducers under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench3d.labels import semantickitti as kitti
from bench3d.labels import waymo
from bench3d.metrics import ConfusionMatrix, reduce_semantickitti, reduce_waymo


def official_semantickitti(gt_raw: np.ndarray, pred_raw: np.ndarray) -> tuple[float, float]:
    lut = np.zeros(max(kitti.LEARNING_MAP) + 100, dtype=np.int32)
    lut[list(kitti.LEARNING_MAP)] = list(kitti.LEARNING_MAP.values())
    gt, pred = lut[gt_raw & 0xFFFF], lut[pred_raw & 0xFFFF]
    conf = np.zeros((20, 20), dtype=np.int64)
    np.add.at(conf, (pred, gt), 1)
    conf[:, [0]] = 0
    tp = np.diag(conf)
    fp, fn = conf.sum(axis=1) - tp, conf.sum(axis=0) - tp
    include = np.arange(1, 20)
    union = tp + fp + fn + 1e-15
    miou = (tp[include] / union[include]).mean()
    acc = tp.sum() / (tp[include].sum() + fp[include].sum() + 1e-15)
    return float(miou), float(acc)


def official_waymo(gt: np.ndarray, pred: np.ndarray) -> float:
    types = list(range(1, 23))
    index = {t: i for i, t in enumerate(types)}
    n = len(types)
    cm = np.zeros((n + 1, n + 1), dtype=np.int64)
    for p, g in zip(pred.tolist(), gt.tolist()):
        cm[index.get(g, n), index.get(p, n)] += 1
    ious = []
    for i in range(n):
        inter = int(cm[i, i])
        union = -inter + int(cm[i, :n].sum()) + int(cm[:n, i].sum()) + int(cm[i, n])
        ious.append(np.float32(inter) / np.float32(union) if union > 0 else np.float32(1.0))
    total = np.float32(0)
    for v in ious:
        total = np.float32(total + v)
    return float(total / np.float32(n))


@pytest.mark.parametrize("seed", [0, 1])
def test_semantickitti_matches_official_algorithm(seed):
    rng = np.random.default_rng(seed)
    raw_ids = np.array(sorted(kitti.LEARNING_MAP), dtype=np.uint32)
    instance = rng.integers(0, 50, 20_000).astype(np.uint32) << 16
    gt_raw = raw_ids[rng.integers(0, len(raw_ids), 20_000)] | instance
    pred_raw = kitti.train_to_raw(rng.integers(0, 20, 20_000))  # train id 0 included: predicted "unlabeled"
    pred_raw[:50] = 2  # a raw id without a learning_map entry: the official table sends it to 0
    cm = ConfusionMatrix(20).update(
        kitti.raw_to_train(kitti.semantic_part(gt_raw)), kitti.raw_to_train(kitti.semantic_part(pred_raw))
    )
    scores = reduce_semantickitti(cm)
    miou, acc = official_semantickitti(gt_raw.astype(np.int64), pred_raw.astype(np.int64))
    assert scores.miou == miou
    assert scores.accuracy == acc


@pytest.mark.parametrize("seed", [0, 1])
def test_waymo_matches_official_algorithm(seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 24, 5_000)  # 0 and 23 are outside the class list
    pred = rng.integers(0, 26, 5_000)
    gt[np.isin(gt, [7, 13])] = 0  # two classes absent from GT...
    pred[np.isin(pred, [13])] = 1  # ...one of them never predicted either (IoU 1.0)
    cm = ConfusionMatrix(23).update(waymo.to_eval_ids(gt), waymo.to_eval_ids(pred))
    scores = reduce_waymo(cm)
    assert scores.miou == official_waymo(gt, pred)
    assert scores.iou_per_class["MOTORCYCLE"] == 1.0
    assert scores.iou_per_class["PEDESTRIAN"] == 0.0
