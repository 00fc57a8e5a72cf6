"""The one confusion-matrix core every segmentation reducer reads.

Rows are ground truth, columns are predictions, counts are int64 and accumulated over a whole split
(all official tools reduce one global matrix, never a mean of per-scan scores). The matrix keeps every
cell, including the ignore class: what to drop is the reducer's business, so one stored matrix can be
re-reduced under any convention.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

if TYPE_CHECKING:
    import torch

LabelArray = Union[np.ndarray, "torch.Tensor", Sequence[int]]


def _is_tensor(x: Any) -> bool:
    # A tensor can only exist if torch is already imported; the CLI then starts without paying for torch.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _as_flat(labels: LabelArray, what: str) -> np.ndarray | torch.Tensor:
    if _is_tensor(labels):
        labels = labels.detach()
        # CPU tensors share memory with numpy for free; the numpy bincount is the fast CPU path.
        return labels.reshape(-1).numpy() if labels.device.type == "cpu" else labels.reshape(-1)
    array = np.asarray(labels)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{what} labels must be integers, got dtype {array.dtype}")
    return array.reshape(-1)


def _check_range(labels: np.ndarray | torch.Tensor, num_classes: int, what: str) -> None:
    empty = labels.numel() == 0 if _is_tensor(labels) else labels.size == 0
    if empty:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(f"{what} label {bad} is outside 0..{num_classes - 1}")


class ConfusionMatrix:
    """Streaming int64 confusion matrix (rows = GT, columns = prediction) over `num_classes` labels."""

    def __init__(self, num_classes: int, counts: np.ndarray | None = None) -> None:
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        if counts is None:
            self._counts = np.zeros((num_classes, num_classes), dtype=np.int64)
        else:
            counts = np.asarray(counts)
            if counts.shape != (num_classes, num_classes):
                raise ValueError(f"counts must have shape {(num_classes, num_classes)}, got {counts.shape}")
            if counts.dtype.kind not in "iu" or (counts.size and counts.min() < 0):
                raise ValueError("counts must be non-negative integers")
            self._counts = counts.astype(np.int64, copy=True)

    @property
    def counts(self) -> np.ndarray:
        """A read-only view of the (num_classes, num_classes) int64 counts."""
        view = self._counts.view()
        view.flags.writeable = False
        return view

    @property
    def total(self) -> int:
        return int(self._counts.sum())

    def update(self, gt: LabelArray, pred: LabelArray) -> ConfusionMatrix:
        """Add one batch (any shape; flattened) of labels in 0..num_classes-1. Returns self."""
        gt_flat, pred_flat = _as_flat(gt, "ground-truth"), _as_flat(pred, "predicted")
        if gt_flat.shape[0] != pred_flat.shape[0]:
            raise ValueError(f"{gt_flat.shape[0]} ground-truth labels but {pred_flat.shape[0]} predictions")
        _check_range(gt_flat, self.num_classes, "ground-truth")
        _check_range(pred_flat, self.num_classes, "predicted")
        n = self.num_classes
        if _is_tensor(gt_flat) or _is_tensor(pred_flat):
            import torch

            gt_t, pred_t = torch.as_tensor(gt_flat), torch.as_tensor(pred_flat)
            pred_t = pred_t.to(gt_t.device)
            flat = torch.bincount(gt_t.long() * n + pred_t.long(), minlength=n * n)
            self._counts += flat.cpu().numpy().reshape(n, n)
        else:
            # One fused index per point, one bincount pass: the whole update is two vector ops.
            if pred_flat.dtype == np.uint64:  # int64 + uint64 would promote to float64
                pred_flat = pred_flat.astype(np.int64)
            flat = np.bincount(gt_flat.astype(np.int64) * n + pred_flat, minlength=n * n)
            self._counts += flat.reshape(n, n)
        return self

    def __add__(self, other: ConfusionMatrix) -> ConfusionMatrix:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        if other.num_classes != self.num_classes:
            raise ValueError(f"cannot merge {self.num_classes}-class and {other.num_classes}-class matrices")
        return ConfusionMatrix(self.num_classes, self._counts + other._counts)

    def __iadd__(self, other: ConfusionMatrix) -> ConfusionMatrix:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        if other.num_classes != self.num_classes:
            raise ValueError(f"cannot merge {self.num_classes}-class and {other.num_classes}-class matrices")
        self._counts += other._counts
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        return self.num_classes == other.num_classes and bool(np.array_equal(self._counts, other._counts))

    def __repr__(self) -> str:
        return f"ConfusionMatrix(num_classes={self.num_classes}, total={self.total})"

    def to_list(self) -> list[list[int]]:
        """Nested list of Python ints (rows = GT), e.g. for a JSON run record."""
        return self._counts.tolist()

    @classmethod
    def from_list(cls, rows: Sequence[Sequence[int]]) -> ConfusionMatrix:
        counts = np.asarray(rows)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
            raise ValueError(f"a confusion matrix must be a square nested list, got shape {counts.shape}")
        if counts.size and counts.dtype.kind not in "iu":
            raise ValueError("confusion-matrix entries must be integers")
        return cls(counts.shape[0], counts.astype(np.int64))
