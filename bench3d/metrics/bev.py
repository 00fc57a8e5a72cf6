"""BEV segmentation IoU: one binary mask per class (classes may overlap, e.g. map layers).

`BevIoU` streams per-class intersection and union counts over a split for hard (boolean) predictions.
`MapSegmentationIoU` follows the BEVFusion / MIM4D map-segmentation evaluation: class probabilities are
thresholded at each of 0.35, 0.40, ..., 0.65, tp / fp / fn are summed over the split, IoU = tp / (tp + fp
+ fn + 1e-7), and each class reports its best threshold ("iou@max"); the mean is over classes of
those maxima. Counts are int64 here (BEVFusion sums in float32, which stops counting exactly past 2^24).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

MAP_THRESHOLDS: tuple[float, ...] = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65)
_EPS = 1e-7


def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    return x.detach() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))


def _per_class_flat(x: torch.Tensor, num_classes: int, what: str) -> torch.Tensor:
    """(..., C, H, W) -> (C, N): the class axis is the third from last, any leading batch axes."""
    if x.dim() < 3 or x.shape[-3] != num_classes:
        raise ValueError(f"{what} must have shape (..., {num_classes}, H, W), got {tuple(x.shape)}")
    return x.movedim(-3, 0).reshape(num_classes, -1)


def bev_iou_per_class(pred: np.ndarray | torch.Tensor, gt: np.ndarray | torch.Tensor) -> np.ndarray:
    """IoU per class of boolean masks of shape (..., C, H, W); NaN where a class is empty in both."""
    num_classes = _as_tensor(gt).shape[-3]
    acc = BevIoU([str(i) for i in range(num_classes)])
    acc.update(pred, gt)
    return acc.iou()


class BevIoU:
    """Streaming per-class IoU of boolean BEV masks (pred and GT of shape (..., C, H, W))."""

    def __init__(self, class_names: Sequence[str]) -> None:
        self.class_names = list(class_names)
        self.intersection = np.zeros(len(self.class_names), dtype=np.int64)
        self.union = np.zeros(len(self.class_names), dtype=np.int64)

    def update(self, pred: np.ndarray | torch.Tensor, gt: np.ndarray | torch.Tensor) -> None:
        n = len(self.class_names)
        p = _per_class_flat(_as_tensor(pred), n, "pred").bool()
        g = _per_class_flat(_as_tensor(gt), n, "gt").bool()
        if p.shape != g.shape:
            raise ValueError(f"pred {tuple(p.shape)} and gt {tuple(g.shape)} masks differ in size")
        self.intersection += (p & g).sum(dim=1).cpu().numpy()
        self.union += (p | g).sum(dim=1).cpu().numpy()

    def iou(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.intersection / self.union.astype(np.float64)

    def result(self) -> dict[str, float]:
        """Class name -> IoU, plus `mean` (nanmean over classes seen in pred or GT)."""
        iou = self.iou()
        scores = {name: float(v) for name, v in zip(self.class_names, iou)}
        scores["mean"] = float(np.nanmean(iou)) if not np.all(np.isnan(iou)) else float("nan")
        return scores


@dataclass(frozen=True)
class MapSegmentationScores:
    thresholds: tuple[float, ...]
    iou: dict[str, tuple[float, ...]]  # class -> IoU at each threshold
    iou_at_max: dict[str, float]  # class -> best IoU over thresholds
    mean_iou_at_max: float

    def to_dict(self) -> dict[str, float]:
        """Flat keys as BEVFusion logs them: `map/<class>/iou@max`, `map/<class>/iou@0.35`, ..."""
        out: dict[str, float] = {}
        for name, values in self.iou.items():
            out[f"map/{name}/iou@max"] = self.iou_at_max[name]
            for threshold, value in zip(self.thresholds, values):
                out[f"map/{name}/iou@{threshold:.2f}"] = value
        out["map/mean/iou@max"] = self.mean_iou_at_max
        return out


class MapSegmentationIoU:
    """Streaming tp / fp / fn per (class, threshold) of class probabilities against boolean GT masks."""

    def __init__(self, class_names: Sequence[str], thresholds: Sequence[float] = MAP_THRESHOLDS) -> None:
        self.class_names = list(class_names)
        self.thresholds = tuple(float(t) for t in thresholds)
        shape = (len(self.class_names), len(self.thresholds))
        self.tp = np.zeros(shape, dtype=np.int64)
        self.fp = np.zeros(shape, dtype=np.int64)
        self.fn = np.zeros(shape, dtype=np.int64)

    def update(self, probs: np.ndarray | torch.Tensor, gt: np.ndarray | torch.Tensor) -> None:
        n = len(self.class_names)
        p = _per_class_flat(_as_tensor(probs), n, "probs")
        g = _per_class_flat(_as_tensor(gt), n, "gt").bool()
        if p.shape != g.shape:
            raise ValueError(f"probs {tuple(p.shape)} and gt {tuple(g.shape)} differ in size")
        # Thresholds in float32 as BEVFusion's torch.tensor([...]); compare class by class to bound memory.
        thresholds = torch.tensor(self.thresholds, dtype=torch.float32, device=p.device)
        p = p.float()
        gt_count = g.sum(dim=1)
        for t_index, threshold in enumerate(thresholds):
            hit = p >= threshold
            tp = (hit & g).sum(dim=1)
            predicted = hit.sum(dim=1)
            self.tp[:, t_index] += tp.cpu().numpy()
            self.fp[:, t_index] += (predicted - tp).cpu().numpy()
            self.fn[:, t_index] += (gt_count - tp).cpu().numpy()

    def result(self) -> MapSegmentationScores:
        iou = self.tp / (self.tp + self.fp + self.fn + _EPS)
        best = iou.max(axis=1)
        return MapSegmentationScores(
            thresholds=self.thresholds,
            iou={name: tuple(float(v) for v in row) for name, row in zip(self.class_names, iou)},
            iou_at_max={name: float(v) for name, v in zip(self.class_names, best)},
            mean_iou_at_max=float(best.mean()),
        )
