"""bench3d's det3d targets and decoding against mmdet3d's CenterHead / CenterPointBBoxCoder, and bench3d's
nuScenes mIoU against mmdet3d's seg_eval, on the same inputs.

Conventions that differ by design and are mapped here, not hidden: bench3d's heatmaps are (K, nx, ny) and its
size channels are nuScenes' (w, l, h); mmdet3d's are (K, ny, nx) and (dx, dy, dz) = (l, w, h).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mmdet3d.evaluation.functional import seg_eval
from mmdet3d.registry import MODELS, TASK_UTILS
from mmdet3d.structures import LiDARInstance3DBoxes
from mmengine.structures import InstanceData

from bench3d.interop.mmdet3d_labels import seg_eval_arguments
from bench3d.labels import nuscenes as nuscenes_labels
from bench3d.metrics.confusion import ConfusionMatrix
from bench3d.metrics.reducers import reduce_nuscenes
from bench3d.models.bev.grid import BevGrid
from bench3d.tasks.det3d.targets import decode, encode

GRID = BevGrid()  # the det3d task's default: 102.4 m square, 0.8 m cells, 128 x 128
CLASSES = ["car", "truck", "pedestrian"]
SIZE_TO_MMDET3D = [1, 0, 2]  # (w, l, h) -> (l, w, h)
REG_TO_MMDET3D = [0, 1, 2, 4, 3, 5, 6, 7, 8, 9]
POST_CENTER_RANGE = [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0]


def center_head():
    return MODELS.build(dict(
        type="CenterHead", in_channels=8, tasks=[dict(num_class=len(CLASSES), class_names=CLASSES)],
        common_heads=dict(reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2), vel=(2, 2)), share_conv_channel=8,
        separate_head=dict(type="SeparateHead", init_bias=-2.19, final_kernel=3),
        bbox_coder=coder_config(),
        train_cfg=dict(grid_size=[GRID.nx, GRID.ny, 1], point_cloud_range=[GRID.x_min, GRID.y_min, GRID.z_min,
                                                                         GRID.x_max, GRID.y_max, GRID.z_max],
                       voxel_size=[GRID.cell, GRID.cell, GRID.z_max - GRID.z_min], out_size_factor=1, dense_reg=1,
                       gaussian_overlap=0.1, max_objs=500, min_radius=2, code_weights=[1.0] * 10),
        norm_bbox=True))


def coder_config(score_threshold: float = 0.1) -> dict:
    return dict(type="CenterPointBBoxCoder", post_center_range=POST_CENTER_RANGE, max_num=500,
                score_threshold=score_threshold, out_size_factor=1, voxel_size=[GRID.cell, GRID.cell],
                pc_range=[GRID.x_min, GRID.y_min], code_size=9)


def random_boxes(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Boxes inside the grid, one per BEV cell (bench3d keeps one regression target per cell)."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(GRID.nx * GRID.ny, size=n, replace=False)
    centre = np.stack([GRID.x_min + (cells // GRID.ny + rng.uniform(0.05, 0.95, n)) * GRID.cell,
                       GRID.y_min + (cells % GRID.ny + rng.uniform(0.05, 0.95, n)) * GRID.cell,
                       rng.uniform(-2.0, 1.0, n)], axis=1)
    size = np.stack([rng.uniform(0.5, 3.0, n), rng.uniform(0.5, 12.0, n), rng.uniform(1.0, 4.0, n)], axis=1)
    return {"classes": rng.integers(0, len(CLASSES), n), "center": centre, "size": size,
            "yaw": rng.uniform(-np.pi, np.pi, n), "velocity": rng.normal(0, 5, (n, 2))}


def test_heatmap_and_regression_targets_equal_centerhead(figure) -> None:
    boxes = random_boxes(60)
    ours = encode(GRID, boxes["classes"], boxes["center"], boxes["size"], boxes["yaw"], boxes["velocity"],
                  len(CLASSES))
    tensor = np.concatenate([boxes["center"], boxes["size"][:, SIZE_TO_MMDET3D], boxes["yaw"][:, None],
                             boxes["velocity"]], axis=1)
    gt = InstanceData(bboxes_3d=LiDARInstance3DBoxes(torch.tensor(tensor, dtype=torch.float32), box_dim=9,
                                                     origin=(0.5, 0.5, 0.5)),
                      labels_3d=torch.tensor(boxes["classes"]))
    heatmaps, anno_boxes, inds, masks = center_head().get_targets_single(gt)
    heat_diff = float((heatmaps[0] - ours.heatmap.permute(0, 2, 1)).abs().max())
    valid = masks[0].bool()
    assert int(valid.sum()) == len(boxes["classes"]) == int(ours.mask.sum())
    ix, iy = inds[0][valid] % GRID.nx, inds[0][valid] // GRID.nx
    assert bool(ours.mask[ix, iy].all())
    ours_reg = ours.regression[:, ix, iy].T[:, REG_TO_MMDET3D]
    reg_diff = float((anno_boxes[0][valid] - ours_reg).abs().max())
    figure(f"det3d targets vs CenterHead.get_targets_single, 60 boxes: heatmap max diff {heat_diff:.3g}, "
              f"regression max diff {reg_diff:.3g}")
    assert heat_diff < 1e-6 and reg_diff < 1e-5


def test_decoding_equals_centerpoint_bbox_coder(figure) -> None:
    """Same heatmap peaks and head maps in; mmdet3d's coder gets exp'd sizes (its head does that before decode)."""
    g = torch.Generator().manual_seed(0)
    heat = torch.zeros(len(CLASSES), GRID.nx, GRID.ny)
    cells = torch.randperm(GRID.nx * GRID.ny // 4, generator=g)[:80] * 4  # isolated peaks: 3x3 maxima already
    heat.view(len(CLASSES), -1)[torch.randint(0, len(CLASSES), (80,), generator=g), cells] = \
        torch.rand(80, generator=g) * 0.85 + 0.12
    reg = torch.randn(10, GRID.nx, GRID.ny, generator=g)
    reg[0:2] = torch.rand(2, GRID.nx, GRID.ny, generator=g)
    ours = decode(GRID, heat, reg, top_k=500, score_threshold=0.1)

    def theirs_map(channels: list[int]) -> torch.Tensor:  # (1, C, ny, nx)
        return reg[channels].permute(0, 2, 1)[None].contiguous()

    coder = TASK_UTILS.build(coder_config())
    out = coder.decode(heat.permute(0, 2, 1)[None].contiguous(), theirs_map([6]), theirs_map([7]), theirs_map([2]),
                       theirs_map([4, 3, 5]).exp(), theirs_map([8, 9]), reg=theirs_map([0, 1]))[0]
    assert len(out["scores"]) == len(ours.score) == 80
    order = np.argsort(-out["scores"].numpy(), kind="stable")
    box = out["bboxes"].numpy()[order].astype(np.float64)
    ours_box = np.concatenate([ours.center, ours.size[:, SIZE_TO_MMDET3D], ours.yaw[:, None], ours.velocity], 1)
    assert np.array_equal(out["labels"].numpy()[order], ours.label)
    score_diff = float(np.abs(out["scores"].numpy()[order] - ours.score).max())
    box_diff = float(np.abs(box - ours_box).max())
    figure(f"det3d decode vs CenterPointBBoxCoder.decode, 80 peaks: score max diff {score_diff:.3g}, "
              f"box max diff {box_diff:.3g} (x y z l w h yaw vx vy)")
    assert score_diff < 1e-6 and box_diff < 1e-4


def random_segmentation(seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Three frames of nuScenes labels (0 = ignore, 1..16), predictions in 1..16; class 16 never occurs nor is
    predicted (absent: NaN in both conventions)."""
    rng = np.random.default_rng(seed)
    gt, pred = [], []
    for n in (5000, 3000, 4000):
        g = rng.integers(0, 16, n)  # 0..15: class 16 absent, 0 = ignore
        p = np.where(rng.random(n) < 0.6, np.maximum(g, 1), rng.integers(1, 16, n))
        gt.append(g)
        pred.append(p)
    return gt, pred


def test_nuscenes_miou_equals_seg_eval(figure) -> None:
    gt, pred = random_segmentation()
    cm = ConfusionMatrix(17)
    for g, p in zip(gt, pred):
        cm.update(g, p)
    ours = reduce_nuscenes(cm)
    names = list(nuscenes_labels.EVAL_CLASSES[1:])
    theirs = seg_eval(**seg_eval_arguments(gt, pred, names, ignore_index=0))
    per_class = np.array([theirs[name] for name in names])
    ours_per_class = np.array([ours.iou_per_class[name] for name in names])
    assert np.array_equal(np.isnan(per_class), np.isnan(ours_per_class)) and np.isnan(per_class[-1])
    iou_diff = float(np.nanmax(np.abs(per_class - ours_per_class)))
    miou_diff = abs(theirs["miou"] - ours.miou)
    figure(f"nuScenes mIoU vs seg_eval: {100 * ours.miou:.4f} vs {100 * theirs['miou']:.4f}, "
              f"max per-class diff {iou_diff:.3g}, mIoU diff {miou_diff:.3g}")
    assert iou_diff < 1e-6 and miou_diff < 1e-6


def test_the_negative_ignore_index_trap() -> None:
    """seg_eval with ignore_index=-1 NaNs the last class (iou[-1]); seg_eval_arguments never passes one."""
    rng = np.random.default_rng(1)
    gt, pred = [rng.integers(0, 4, 2000)], [rng.integers(0, 4, 2000)]
    names = ["a", "b", "c", "d"]
    trapped = seg_eval(gt, pred, dict(enumerate(names)), ignore_index=-1)
    assert np.isnan(trapped["d"])  # a real, present class silently leaves the mean
    args = seg_eval_arguments([g + 1 for g in gt], [p + 1 for p in pred], names, ignore_index=0)
    assert args["ignore_index"] == 4
    assert not np.isnan(seg_eval(**args)["d"])
    with pytest.raises(ValueError, match="ignore_index -1"):
        seg_eval_arguments(gt, pred, names, ignore_index=-1)
